"""The runner contract and the registry that finds runners by name.

A runner turns one trial's resolved config into a process to start (:class:`TrialLaunch`
argv and environment). It knows nothing of other trials, of scheduling or of the journal.

Every runner, the built-in ones included, is found through the ``sweeplab.runners``
entry-point group (``pyproject.toml``), so this module names no runner and imports none
until one is asked for: the phenomenology experiment is a plug-in like a third party's.
A package adds its own with::

    [project.entry-points."sweeplab.runners"]
    mylab = "mylab.runner:MyLabRunner"
"""

from __future__ import annotations

import importlib
import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import SpecError, closest_match

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

log = logging.getLogger(__name__)

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
    params: dict[str, Any] | None = None  # the trial's swept values by dot path ({name} placeholders)

    def __init__(self, *, sweep_id: str, experiment_id: str, key: str, seed: int, attempt: int,
                 config_path: str | os.PathLike[str], attempt_dir: str | os.PathLike[str],
                 db_path: str | os.PathLike[str], cpu_threads: int = 1,
                 params: dict[str, Any] | None = None) -> None:
        for name, value in (("sweep_id", sweep_id), ("experiment_id", experiment_id), ("key", key),
                            ("seed", seed), ("attempt", attempt), ("config_file", os.fspath(config_path)),
                            ("attempt_folder", os.fspath(attempt_dir)), ("db_file", os.fspath(db_path)),
                            ("cpu_threads", cpu_threads), ("params", params)):
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
    #: the spec's ``isolation`` values this runner honours, its default first: ``process`` (a process per
    #: attempt) and, for runners whose trials a warm worker can run, ``worker``
    isolations: ClassVar[tuple[str, ...]] = ("process",)

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        isolation = self.options.pop("isolation", None)
        if isolation is not None and isolation not in self.isolations:
            raise SpecError(f"isolation: {isolation} is not available with the {self.name} runner, which runs "
                            f"every trial as {' or '.join(self.isolations)}: remove 'isolation' (or --isolation), "
                            "or use 'runner: python' for warm workers")
        #: how trials are isolated from each other (see :attr:`isolations`)
        self.isolation: str = isolation or self.isolations[0]
        #: the folder of the sweep spec, set by resolve (None: the working folder); relative names a runner
        #: is given (a module, a pickled function) are found there
        self.folder: Path | None = None

    @classmethod
    def accepts(cls, base_config: dict[str, Any]) -> bool:
        """True when this runner recognises ``base_config`` as its own (used to pick a default)."""
        return False

    def allows_new_key(self, mapping_path: tuple[str, ...], key: str) -> bool:
        """May a sweep create ``key`` inside the existing mapping at ``mapping_path``?"""
        return self.open_schema

    def anchor(self, base_config: dict[str, Any], base_path: Path) -> dict[str, Any]:
        """The base config made independent of the folder of its file ``base_path`` (e.g. files it names by
        relative path read in), since a trial runs its copy from the trial's own folder. Called once, before
        the base config is hashed, so a change of such a file is a change of the base. Default: as it is."""
        return base_config

    def check_parameters(self, paths: list[str]) -> None:
        """Raise :class:`~sweeplab.errors.SpecError` when the runner's options cannot work with the swept
        ``paths`` (e.g. a command placeholder naming no swept parameter). Called once by ``resolve``."""

    def validate(self, config: dict[str, Any]) -> None:
        """Raise :class:`~sweeplab.errors.ConfigError` when ``config`` cannot run. Default: accept."""

    def preflight(self) -> None:
        """Checks that need more than the spec (importing the trial's code, say), made once before a run
        writes anything; raise :class:`~sweeplab.errors.SpecError` to refuse the sweep. Default: none."""

    def prepare(self, config: dict[str, Any], seed: int) -> dict[str, Any]:
        """Return the config the trial will actually run (e.g. with its seed filled in)."""
        return config

    def resources(self, config: dict[str, Any]) -> TrialResources:
        """RAM and CPU threads the trial needs: the threads it really keeps busy (what ``parallel: auto``
        sizes by), which may be fewer than its config declares. Default: nothing declared, one thread."""
        return TrialResources()

    def estimate_seconds(self, config: dict[str, Any]) -> float | None:
        """A rough duration of one trial of ``config``, for plans made before any trial ran; None: unknown."""
        return None

    @abstractmethod
    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        """Return the argv (no shell) and extra environment variables for one attempt."""


#: the entry-point group every runner is registered in
ENTRY_POINT_GROUP = "sweeplab.runners"

# runners registered at run time (tests, notebooks): name -> class or "module:Class"
_registered: dict[str, str | type[Runner]] = {}


def register_runner(name: str, target: str | type[Runner]) -> None:
    """Register a runner class (or its ``"module:Class"`` import string) under ``name``.

    For runners defined at run time; a package registers its runners as entry points instead.
    """
    _registered[name] = target


def _table() -> dict[str, EntryPoint | str | type[Runner]]:
    """name -> entry point (or what :func:`register_runner` was given); nothing is imported yet."""
    # imported here: trial processes import this module, and importlib.metadata costs 20-40 ms at start-up
    from importlib.metadata import entry_points

    table: dict[str, EntryPoint | str | type[Runner]] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        table.setdefault(entry_point.name, entry_point)  # an editable install can list a distribution twice
    table.update(_registered)
    return table


def available_runners() -> list[str]:
    """Names of every runner that can be asked for."""
    return sorted(_table())


def _load(target: EntryPoint | str | type[Runner]) -> type[Runner]:
    if isinstance(target, type):
        return target
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(module_name), attr)
    return target.load()  # an entry point


def get_runner(name: str) -> type[Runner]:
    """Return the runner class registered as ``name``; unknown names list the known ones."""
    table = _table()
    if name not in table:
        match = closest_match(name, table)
        suggestion = f" Did you mean '{match}'?" if match else ""
        known = ", ".join(sorted(table)) or f"none (no package registers the '{ENTRY_POINT_GROUP}' entry points)"
        raise SpecError(f"runner '{name}' is unknown: expected one of {known}.{suggestion}")
    return _load(table[name])


def runner_for_base(base_config: dict[str, Any]) -> str | None:
    """Name of the first plug-in runner that recognises ``base_config``, if any."""
    for name, target in sorted(_table().items()):
        try:
            cls = _load(target)
        except ImportError:  # a broken plug-in does not stop the others from being asked
            log.warning("runner '%s' cannot be imported", name, exc_info=True)
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
