"""The Python API: :class:`ExperimentSweep` with the original signature, and :class:`SweepResult`.

A thin layer over the engine: the spec is validated and resolved here, and a run is
``prepare(...).run(observer)`` (:mod:`sweeplab.engine.launch`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine.launch import parallel_slots, prepare
from .errors import JournalError
from .journal.reader import JournalReader
from .journal.views import sweep_results
from .planning.plan import Plan
from .planning.resolve import resolve
from .planning.spec import spec_from_mapping

if TYPE_CHECKING:
    from .engine.observer import Observer, SweepOutcome
    from .executors.base import Executor

__all__ = ["ExperimentSweep", "SweepResult"]


@dataclass
class SweepResult:
    """One trial's outcome, with the original fields plus ``metrics`` and ``attempts``."""

    experiment_id: str
    parameters: dict[str, Any]
    status: str
    start_time: str | None = None
    end_time: str | None = None
    total_cycles: int = 0
    total_crashes: int = 0
    total_messages: int = 0
    error_message: str | None = None
    db_path: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    attempts: int = 0
    duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (what ``sweep_results.json`` holds per trial)."""
        return asdict(self)


class ExperimentSweep:
    """A sweep over a base experiment config, runnable from Python.

    >>> sweep = ExperimentSweep(                                       # doctest: +SKIP
    ...     base_config="experiments/examples/unstable_memory_moderate.json",
    ...     sweep_params={"interventions.0.parameters.corruption_rate": [0.0, 0.5, 1.0],
    ...                   "max_cycles": [15, 20]},
    ...     parallel_jobs=2)
    >>> results = sweep.run_all()                                      # doctest: +SKIP

    Extra keyword arguments are any other sweep spec keys (``repeats``, ``seed``, ``zip``,
    ``runner``, ``command``, ``function``, ``limits`` …). Validation happens here, before
    anything is written.
    """

    def __init__(self, base_config: str | Path, sweep_params: dict[str, Any], sweep_id: str | None = None,
                 parallel_jobs: int | str = 1, output_dir: str | Path = "logs/sweeps",
                 db_path: str | Path = "logs/experiments.db", resume: bool = False, jetson_optimized: bool = False,
                 timeout_seconds: float | None = None, max_retries: int = 2, tags: list[str] | None = None,
                 description: str = "", **spec_keys: Any) -> None:
        data: dict[str, Any] = {
            "base_config": str(base_config), "sweep": dict(sweep_params), "sweep_id": sweep_id,
            "parallel": parallel_jobs, "output_dir": str(output_dir), "db_path": str(db_path), "resume": resume,
            "jetson_optimized": jetson_optimized, "timeout": timeout_seconds, "max_retries": max_retries,
            "tags": list(tags or []), "description": description, **spec_keys,
        }
        self.spec = spec_from_mapping({k: v for k, v in data.items() if v is not None}, where="ExperimentSweep")
        self.resolved = resolve(self.spec)
        self.plan = Plan(self.resolved)
        self.sweep_id = self.resolved.sweep_id
        self.sweep_dir = self.resolved.sweep_dir
        self.outcome: SweepOutcome | None = None

    def __len__(self) -> int:
        return len(self.plan)

    def run_all(self, verbose: bool = True, *, observer: Observer | None = None, allow_drift: bool = False,
                executor: Executor | None = None) -> list[SweepResult]:
        """Run every trial not yet completed; return one result per trial started so far.

        ``observer`` gets the engine's hooks as trials start and end (see
        :class:`sweeplab.engine.observer.Observer`); without one, ``verbose`` draws progress on the
        terminal. ``executor`` replaces the one the spec asks for, and is shut down at the end.
        """
        if observer is None and verbose:
            from .console.progress import ProgressObserver
            from .console.screen import Screen
            observer = ProgressObserver(Screen(), self.resolved)
        self.outcome = prepare(self.resolved, allow_drift=allow_drift, executor=executor).run(observer)
        return self.results()

    def results(self) -> list[SweepResult]:
        """The trials recorded in the journal so far, as :class:`SweepResult` records."""
        with JournalReader.open(self.resolved.db_path) as reader:
            records = sweep_results(reader, self.sweep_id, str(self.resolved.db_path))
        fields = set(SweepResult.__dataclass_fields__)
        return [SweepResult(**{k: v for k, v in r.items() if k in fields}) for r in records]

    def estimate_time_remaining(self, avg_experiment_duration: float) -> float:
        """Seconds left if each remaining trial takes ``avg_experiment_duration`` at this parallelism."""
        done = 0
        if self.resolved.db_path.is_file():
            try:
                with JournalReader.open(self.resolved.db_path) as reader:
                    done = reader.completed_count(self.sweep_id)
            except JournalError:
                done = 0
        remaining = max(0, len(self.plan) - done)
        slots = parallel_slots(self.resolved)  # on a cluster asked for 'auto': its worker threads
        return math.ceil(remaining / max(1, slots)) * float(avg_experiment_duration)
