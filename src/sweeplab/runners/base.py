"""The runner contract and the registry that finds runners by name.

A runner turns one trial's resolved config into a process to start (:class:`TrialLaunch`
argv and environment). It knows nothing of other trials, of scheduling or of the journal.
Built-in runners are registered by import string so that importing sweeplab never imports
a plug-in (the phenomenology experiment among them) until it is used; third-party runners
can register through the ``sweeplab.runners`` entry-point group.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import SpecError, closest_match

__all__ = ["Runner", "RunContext", "TrialResources", "register_runner", "get_runner", "available_runners",
           "runner_for_base", "trial_resources"]


@dataclass(frozen=True)
class TrialResources:
    """What a trial needs from the machine: RAM (GB, None = not declared) and CPU threads.

    ``resident_only``: hold the trial to its RAM by resident memory alone, without capping its address
    space (a language model maps its weights and reserves far more address space than it touches).
    """

    memory_gb: float | None = None
    cpu_threads: int = 1
    resident_only: bool = False


@dataclass(frozen=True)
class RunContext:
    """Where one attempt lives, handed to :meth:`Runner.command`.

    The locations are kept as plain strings (``config_file``, ``attempt_folder``, ``db_file``),
    which is what a command line needs; ``config_path``, ``attempt_dir`` and ``db_path`` give
    them as :class:`~pathlib.Path`. The constructor takes either.
    """

    sweep_id: str
    experiment_id: str
    key: str
    seed: int
    attempt: int
    config_file: str      # the resolved config, written by the engine before launch
    attempt_folder: str   # this attempt's own folder
    db_file: str          # the per-attempt database the trial should write its rows into
    cpu_threads: int = 1

    def __init__(self, *, sweep_id: str, experiment_id: str, key: str, seed: int, attempt: int,
                 config_path: str | os.PathLike[str], attempt_dir: str | os.PathLike[str],
                 db_path: str | os.PathLike[str], cpu_threads: int = 1) -> None:
        for name, value in (("sweep_id", sweep_id), ("experiment_id", experiment_id), ("key", key),
                            ("seed", seed), ("attempt", attempt), ("config_file", os.fspath(config_path)),
                            ("attempt_folder", os.fspath(attempt_dir)), ("db_file", os.fspath(db_path)),
                            ("cpu_threads", cpu_threads)):
            object.__setattr__(self, name, value)

    @property
    def config_path(self) -> Path:
        return Path(self.config_file)

    @property
    def attempt_dir(self) -> Path:
        return Path(self.attempt_folder)

    @property
    def db_path(self) -> Path:
        return Path(self.db_file)


class Runner(ABC):
    """What a trial executes. Subclasses set ``name`` and implement :meth:`command`.

    ``options`` are the runner's own keys of the sweep spec (``command`` for the command
    runner, ``function`` for the python runner); the runner validates them in ``__init__``
    and raises :class:`~sweeplab.errors.SpecError` for bad ones.
    """

    name: ClassVar[str]
    #: True when the runner's config schema accepts keys it does not know (generic runners)
    open_schema: ClassVar[bool] = True

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @classmethod
    def accepts(cls, base_config: dict[str, Any]) -> bool:
        """True when this runner recognises ``base_config`` as its own (used to pick a default)."""
        return False

    def allows_new_key(self, mapping_path: tuple[str, ...], key: str) -> bool:
        """May a sweep create ``key`` inside the existing mapping at ``mapping_path``?"""
        return self.open_schema

    def validate(self, config: dict[str, Any]) -> None:
        """Raise :class:`~sweeplab.errors.ConfigError` when ``config`` cannot run. Default: accept."""

    def prepare(self, config: dict[str, Any], seed: int) -> dict[str, Any]:
        """Return the config the trial will actually run (e.g. with its seed filled in)."""
        return config

    def resources(self, config: dict[str, Any]) -> TrialResources:
        """RAM and CPU the trial declares. Default: nothing declared, one thread."""
        return TrialResources()

    def estimate_seconds(self, config: dict[str, Any]) -> float | None:
        """A rough duration of one trial of ``config``, for plans made before any trial ran; None: unknown."""
        return None

    @abstractmethod
    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        """Return the argv (no shell) and extra environment variables for one attempt."""


# name -> "module:Class", resolved lazily
_BUILTIN: dict[str, str] = {
    "command": "sweeplab.runners.command:CommandRunner",
    "python": "sweeplab.runners.python:PythonRunner",
    "phenomenology": "sweeplab.phenomenology.runner:PhenomenologyRunner",
}
_registered: dict[str, str | type[Runner]] = {}


def register_runner(name: str, target: str | type[Runner]) -> None:
    """Register a runner class (or its ``"module:Class"`` import string) under ``name``."""
    _registered[name] = target


def _table() -> dict[str, str | type[Runner]]:
    # imported here: trial processes import this module, and these two cost ~75 ms at start-up
    from importlib.metadata import entry_points
    table: dict[str, str | type[Runner]] = dict(_BUILTIN)
    for ep in entry_points(group="sweeplab.runners"):
        table.setdefault(ep.name, ep.value)
    table.update(_registered)
    return table


def available_runners() -> list[str]:
    """Names of every runner that can be asked for."""
    return sorted(_table())


def _load(target: str | type[Runner]) -> type[Runner]:
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(module_name), attr)
    return target


def get_runner(name: str) -> type[Runner]:
    """Return the runner class registered as ``name``; unknown names list the known ones."""
    table = _table()
    if name not in table:
        match = closest_match(name, table)
        suggestion = f" Did you mean '{match}'?" if match else ""
        raise SpecError(f"runner '{name}' is unknown: expected one of {', '.join(sorted(table))}.{suggestion}")
    return _load(table[name])


def runner_for_base(base_config: dict[str, Any]) -> str | None:
    """Name of the first plug-in runner that recognises ``base_config``, if any."""
    for name, target in _table().items():
        if name in ("command", "python"):
            continue
        try:
            cls = _load(target)
        except ImportError:
            continue
        if cls.accepts(base_config):
            return name
    return None


def trial_resources(runner: Runner, config: dict[str, Any], memory_gb: float | None = None,
                    cpu_threads: int | None = None, resident_only: bool = False) -> TrialResources:
    """What a trial needs: what its config declares, else the sweep spec's ``limits`` (``memory_gb``,
    ``cpu_threads``), else nothing and one thread. The memory grant is held by resident memory alone
    when the runner asks for that or the spec's ``limits.resident_only`` does."""
    need = runner.resources(config)
    constraints = config.get("resource_constraints")
    declares_threads = isinstance(constraints, dict) and constraints.get("cpu_threads") is not None
    return TrialResources(memory_gb=need.memory_gb or memory_gb,
                          cpu_threads=need.cpu_threads if declares_threads or not cpu_threads else cpu_threads,
                          resident_only=need.resident_only or resident_only)
