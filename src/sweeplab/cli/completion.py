"""Shell completion for bash and zsh, through argcomplete.

``sweeplab completion bash`` (or ``zsh``) prints the script to source::

    eval "$(sweeplab completion bash)"        # in ~/.bashrc
    eval "$(sweeplab completion zsh)"         # in ~/.zshrc

(``eval "$(register-python-argcomplete sweeplab)"`` does the same.) The shell then runs ``sweeplab``
with argcomplete's variables set; :func:`autocomplete` answers from a parser tree that holds every
command's own parser, so subcommands, their flags and the sweep ids under ``logs/sweeps`` complete.
Nothing of this is imported unless the shell asks.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["autocomplete", "completion_main", "completion_parser", "PARSERS", "SHELLS"]

#: command -> "module:function" returning its argparse parser (commands not named here complete by name only)
PARSERS: dict[str, str] = {
    "run": "sweeplab.cli.run:run_parser",
    "resume": "sweeplab.cli.run:resume_parser",
    "status": "sweeplab.cli.status:status_parser",
    "list": "sweeplab.cli.status:list_parser",
    "export": "sweeplab.cli.export:export_parser",
    "completion": "sweeplab.cli.completion:completion_parser",
    "analyze": "sweeplab.analysis.cli:_analyze_parser",
    "compare": "sweeplab.analysis.cli:_compare_parser",
    "dashboard": "sweeplab.dashboard.cli:dashboard_parser",
    "refine": "sweeplab.cli.refine:refine_parser",
}
SHELLS = ("bash", "zsh")


def completion_parser() -> argparse.ArgumentParser:
    """The arguments of ``sweeplab completion``."""
    parser = argparse.ArgumentParser(prog="sweeplab completion",
                                     description="Print the shell code that makes sweeplab's commands, flags and "
                                                 "sweep ids complete with TAB. Add to ~/.bashrc: "
                                                 "eval \"$(sweeplab completion bash)\" (zsh: ~/.zshrc, zsh).")
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    return parser


def completion_main(argv: list[str]) -> int:
    """``sweeplab completion bash|zsh``: print argcomplete's shell code for the ``sweeplab`` command."""
    args = completion_parser().parse_args(argv)
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["sweeplab"], shell=args.shell))
    return 0


def _sweep_ids(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """Sweep ids under the --sweep-dir given so far (default logs/sweeps) that start with ``prefix``."""
    root = Path(getattr(parsed_args, "sweep_dir", None) or "logs/sweeps")
    try:
        return sorted(p.name for p in root.iterdir() if p.name.startswith(prefix) and (p / "sweep_config.json").is_file())
    except OSError:
        return []


def _command_parser(target: str) -> argparse.ArgumentParser | None:
    module, _, function = target.partition(":")
    try:
        return getattr(importlib.import_module(module), function)()
    except (ImportError, AttributeError):  # a command whose module is absent still completes by name
        return None


def _attach(sub: Any, name: str, help_text: str, source: argparse.ArgumentParser | None) -> None:
    """Add ``name`` to ``sub`` with the actions of ``source`` (its flags and positionals)."""
    parser = sub.add_parser(name, help=help_text, add_help=False)
    if source is None:
        return
    for action in source._actions:  # argparse keeps no public list of a parser's actions
        parser._add_action(action)
        if action.dest in ("sweep_id", "sweep_ids"):
            action.completer = _sweep_ids  # type: ignore[attr-defined]


def completion_tree(commands: dict[str, tuple[str, str]], plugins: list[str]) -> argparse.ArgumentParser:
    """One parser holding every command's parser, for argcomplete."""
    parser = argparse.ArgumentParser(prog="sweeplab")
    parser.add_argument("--version", action="store_true")
    sub = parser.add_subparsers(dest="command")
    for name, (_target, help_text) in commands.items():
        _attach(sub, name, help_text, _command_parser(PARSERS[name]) if name in PARSERS else None)
    for name in plugins:
        _attach(sub, name, "a plug-in's command", None)
    return parser


def autocomplete(commands: dict[str, tuple[str, str]], plugins: list[str]) -> None:
    """Answer the shell's completion request and exit, when argcomplete's variables ask for one."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    argcomplete.autocomplete(completion_tree(commands, plugins))
