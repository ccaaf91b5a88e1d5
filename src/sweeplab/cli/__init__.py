"""The ``sweeplab`` command. Only this package prints; the library logs.

A user mistake (any :class:`~sweeplab.errors.UserError`) becomes one message on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from ..errors import UserError

__all__ = ["main"]

COMMANDS = ("run", "resume", "status", "list", "analyze", "compare", "experiment")


def _delegate(module: str, function: str) -> Callable[[list[str]], int]:
    def call(argv: list[str]) -> int:
        import importlib
        return int(getattr(importlib.import_module(module), function)(argv) or 0)
    return call


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab",
        description="Run experiment parameter sweeps that never lose a result, and analyse what the parameters did.",
        epilog="Run 'sweeplab COMMAND --help' for the options of a command. "
               "Without a command, the arguments are those of 'sweeplab run'.",
    )
    parser.add_argument("--version", action="version", version=f"sweeplab {__import__('sweeplab').__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run a sweep (or show its plan with --dry-run)", add_help=False)
    sub.add_parser("resume", help="resume a sweep from the spec stored with it", add_help=False)
    sub.add_parser("status", help="counts by status, durations, ETA and last errors of a sweep", add_help=False)
    sub.add_parser("list", help="list the sweeps in a folder", add_help=False)
    sub.add_parser("analyze", help="analyse a sweep: statistics, thresholds, optimum, plots", add_help=False)
    sub.add_parser("compare", help="compare the same metrics across several sweeps", add_help=False)
    sub.add_parser("experiment", help="run one built-in phenomenology experiment", add_help=False)
    return parser


_HANDLERS: dict[str, Callable[[list[str]], int]] = {
    "run": _delegate("sweeplab.cli.run", "run_main"),
    "resume": _delegate("sweeplab.cli.run", "resume_main"),
    "status": _delegate("sweeplab.cli.status", "status_main"),
    "list": _delegate("sweeplab.cli.status", "list_main"),
    "analyze": _delegate("sweeplab.analysis.cli", "analyze_main"),
    "compare": _delegate("sweeplab.analysis.cli", "compare_main"),
    "experiment": _delegate("sweeplab.phenomenology.cli", "main"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sweeplab`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args or args[0] in ("-h", "--help", "--version"):
        parser = _parser()
        if not args:
            parser.print_help()
            return 2
        parser.parse_args(args)
        return 0
    command, rest = (args[0], args[1:]) if args[0] in COMMANDS else ("run", args)
    if command == "run" and args[0] not in COMMANDS and not args[0].startswith("-") \
            and not args[0].endswith((".yaml", ".yml")):
        _parser().parse_args(args)  # an unknown command: argparse says which ones exist, exit 2
    try:
        return _HANDLERS[command](rest)
    except UserError as exc:
        print(f"sweeplab {command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"sweeplab {command}: interrupted", file=sys.stderr)
        return 130
