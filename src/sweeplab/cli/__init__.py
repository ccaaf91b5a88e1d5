"""The ``sweeplab`` command. Only this package prints; the library logs.

A user mistake (any :class:`~sweeplab.errors.UserError`, unusable storage included) becomes one
message on stderr and exit code 2, never a traceback. A failure while a sweep runs (its journal, an
executor, a file system that fails or fills up) is one message too, with exit code 1 (the sweep
resumes): see "Guarantees and limits" in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import SweepError, UserError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["main", "COMMANDS", "PLUGIN_GROUP"]

#: the built-in commands: name -> ("module:function" taking argv, help); imported only when run
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("sweeplab.cli.run:run_main", "run a sweep (or show its plan with --dry-run)"),
    "resume": ("sweeplab.cli.run:resume_main", "resume a sweep from the spec stored with it"),
    "status": ("sweeplab.cli.status:status_main", "counts by status, durations, ETA and last errors of a sweep"),
    "list": ("sweeplab.cli.status:list_main", "list the sweeps in a folder"),
    "analyze": ("sweeplab.analysis.cli:analyze_main", "analyse a sweep: statistics, thresholds, optimum, plots"),
    "compare": ("sweeplab.analysis.cli:compare_main", "compare the same metrics across several sweeps"),
    "export": ("sweeplab.cli.export:export_main", "export a sweep's trials: an Optuna storage, CSV, Parquet or JSON"),
    "completion": ("sweeplab.cli.completion:completion_main", "print shell completion code (bash or zsh)"),
    "dashboard": ("sweeplab.dashboard.cli:dashboard_main", "serve a live web view of running and finished sweeps"),
    "refine": ("sweeplab.cli.refine:refine_main", "locate a threshold: add levels where a grid sweep's metric changes"),
}
#: the entry-point group through which plug-ins add commands (the phenomenology plug-in adds 'experiment')
PLUGIN_GROUP = "sweeplab.commands"


def _plugin_commands() -> dict[str, EntryPoint]:
    """Commands registered by plug-ins, by name; a plug-in cannot replace a built-in command."""
    # imported here: ~15 ms, needed only when a plug-in's command may be asked for
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=PLUGIN_GROUP):
        if entry_point.name not in COMMANDS:
            found.setdefault(entry_point.name, entry_point)
    return found


def _built_in(target: str) -> Callable[[list[str]], int | None]:
    import importlib

    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def _parser(plugins: dict[str, EntryPoint]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweeplab",
        description="Run experiment parameter sweeps that never lose a result, and analyse what the parameters did.",
        epilog="Run 'sweeplab COMMAND --help' for the options of a command. "
               "Without a command, the arguments are those of 'sweeplab run'.",
    )
    parser.add_argument("--version", action="version", version=f"sweeplab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_target, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    for name, entry_point in sorted(plugins.items()):
        sub.add_parser(name, help=f"a plug-in's command ({entry_point.module}); 'sweeplab {name} --help' for more",
                       add_help=False)
    return parser


def _is_command_name(word: str) -> bool:
    """A first argument that names a command rather than a sweep file or an option of 'run'."""
    return not word.startswith("-") and not word.endswith((".yaml", ".yml")) and "=" not in word


#: verbosity flags that may also come before the command (``sweeplab -v status``)
_VERBOSITY = ("-v", "-vv", "--verbose", "-q", "--quiet")


def _leading_verbosity(args: list[str]) -> tuple[list[str], list[str]]:
    """Split ``-v``/``-q`` flags given before the command from the rest."""
    flags = []
    while args and args[0] in _VERBOSITY:
        flags.append(args.pop(0))
    return flags, args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sweeplab`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (see 'sweeplab completion')
        from .completion import autocomplete
        autocomplete(COMMANDS, sorted(_plugin_commands()))
    flags, args = _leading_verbosity(args)
    if flags and args and args[0] in ("run", "resume"):
        args = [args[0], *flags, *args[1:]]
    elif flags and args and not _is_command_name(args[0]):
        args = [*flags, *args]  # 'sweeplab -v sweep.yaml': the arguments of run
    elif flags and any(flag in ("-v", "-vv", "--verbose") for flag in flags):
        logging.getLogger("sweeplab").setLevel(logging.DEBUG if "-vv" in flags else logging.INFO)
    if not args or args[0] in ("-h", "--help", "--version"):
        parser = _parser(_plugin_commands() if args[:1] != ["--version"] else {})
        if not args:
            parser.print_help()
            return 2
        parser.parse_args(args)
        return 0
    command, rest = args[0], args[1:]
    handler: Callable[[list[str]], int | None]
    if command in COMMANDS:
        handler = _built_in(COMMANDS[command][0])
    elif not _is_command_name(command):
        command, rest, handler = "run", args, _built_in(COMMANDS["run"][0])
    else:
        plugins = _plugin_commands()
        if command not in plugins:
            _parser(plugins).parse_args(args)  # an unknown command: argparse says which ones exist, exit 2
        handler = plugins[command].load()
    try:
        return int(handler(rest) or 0)
    except UserError as exc:
        print(f"sweeplab {command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"sweeplab {command}: interrupted", file=sys.stderr)
        return 130
    except SweepError as exc:  # the journal or an executor failed while running: resumable
        print(f"sweeplab {command}: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))
    except BrokenPipeError:  # 'sweeplab list | head': the reader left; nothing went wrong here
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so that the exit's flush does not fail again
        return 0
    except OSError as exc:  # storage that failed under us (a full disk is a DiskFullError already)
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"sweeplab {command}: error: cannot use{where}: {exc.strerror or exc}. What was journaled is kept: "
              "fix it and resume the sweep ('sweeplab resume SWEEP_ID')", file=sys.stderr)
        return 1
