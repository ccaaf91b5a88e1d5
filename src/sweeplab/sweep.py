"""The Python API: :class:`ExperimentSweep` with the original signature, and its helpers."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .engine.coordinator import Coordinator, Observer, SweepOutcome
from .engine.resources import Budget, decide_budget, detect_machine
from .errors import ConfigError, ExecutorError, JournalError
from .executors.base import Executor
from .journal.reader import JournalReader
from .journal.views import sweep_results
from .planning.plan import Plan
from .planning.resolve import ResolvedSweep, probe_configs, resolve
from .planning.spec import spec_from_mapping
from .runners.base import trial_resources

__all__ = ["ExperimentSweep", "SweepResult", "decide_for", "estimate_duration", "run_resolved"]

log = logging.getLogger(__name__)

#: seconds to wait for a Dask scheduler to answer before giving up
DASK_CONNECT_TIMEOUT = 10.0


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
        return asdict(self)


def executor_for(sweep: ResolvedSweep) -> Executor | None:
    """The executor the spec asks for: a connected Dask executor, or None to run here.

    Connecting happens before anything is written, so a wrong address is a clean error.
    """
    address = sweep.spec.dask_scheduler
    if not address:
        return None
    from .executors.dask import DaskExecutor
    try:
        executor = DaskExecutor(address, connect_timeout=DASK_CONNECT_TIMEOUT)
    except ExecutorError as exc:
        raise ConfigError(f"cannot run on the Dask cluster '{address}': {exc}. Start a scheduler with "
                          f"'dask scheduler' and workers with 'dask worker ADDRESS', check the address, "
                          f"or leave out --dask / dask_scheduler to run on this machine") from None
    # The workers run trials in the sweep folder: it must be on a file system they share. Its nearest
    # existing folder is what can be checked before anything is written.
    folder = sweep.sweep_dir.resolve()
    existing = next(parent for parent in (folder, *folder.parents) if parent.is_dir())
    missing = executor.workers_missing(str(existing))
    if missing:
        executor.shutdown(cancel=True)
        raise ConfigError(f"the sweep folder {folder} is not on a file system the Dask workers share: {existing} "
                          f"does not exist on worker(s) {', '.join(missing)}. Choose --output (output_dir) on a "
                          "file system that this machine and every worker see (a shared home or scratch)")
    return executor


def cluster_budget(sweep: ResolvedSweep, executor: Executor) -> Budget:
    """The parallelism decision on a cluster: its worker threads, or the count asked for."""
    capacity = executor.capacity
    reasons = [f"Dask cluster at {sweep.spec.dask_scheduler}: {capacity.slots} worker thread(s), "
               f"{capacity.memory_bytes / 2**30:.1f} GB of worker memory"]
    if sweep.spec.parallel == "auto":
        slots = capacity.slots
        reasons.append("auto: one trial per worker thread")
    else:
        slots = int(sweep.spec.parallel)
    return Budget(slots=slots, memory_bytes=capacity.memory_bytes, cpus=capacity.cpus, jetson=False,
                  reasons=tuple(reasons))


def decide_for(sweep: ResolvedSweep, plan: Plan | None = None, executor: Executor | None = None) -> Budget:
    """The parallelism decision for a sweep, from the machine (or cluster) and the trials' declared needs."""
    if sweep.spec.dask_scheduler:
        if executor is not None:
            return cluster_budget(sweep, executor)
        slots = 1 if sweep.spec.parallel == "auto" else int(sweep.spec.parallel)
        return Budget(slots=slots, memory_bytes=0, cpus=None, jetson=False, reasons=(
            f"Dask cluster at {sweep.spec.dask_scheduler}, not contacted yet: "
            "its worker threads decide when the sweep starts",))
    memory: float | None = None
    cpus = 1
    limits = sweep.spec.limits
    for _, config in probe_configs(sweep.axes, sweep.base_config, sweep.runner, sweep.spec.seed):
        need = trial_resources(sweep.runner, config, limits.memory_gb if limits else None,
                               limits.cpu_threads if limits else None)
        if need.memory_gb:
            memory = max(memory or 0.0, need.memory_gb)
        cpus = max(cpus, need.cpu_threads)
    return decide_budget(sweep.spec.parallel, detect_machine(), jetson_forced=sweep.spec.jetson_optimized,
                         trial_memory_gb=memory, trial_cpus=cpus)


def estimate_duration(sweep: ResolvedSweep, plan: Plan, budget: Budget) -> tuple[float | None, str]:
    """(seconds, what the estimate is based on) for running the whole plan."""
    waves = math.ceil(len(plan) / max(1, budget.slots))
    if sweep.db_path.is_file():
        try:
            with JournalReader.open(sweep.db_path) as reader:
                mean, count = reader.base_history(sweep.base_hash)
            if count:
                return waves * mean, (f"mean of {count} earlier completed trial(s) of this base config: "
                                      f"{mean:.2f}s each, {waves} wave(s) of {budget.slots}")
        except JournalError as exc:  # an unreadable history only loses the estimate
            log.debug("no duration history: %s", exc)
    no_history = f"no earlier trials of this base config in '{sweep.db_path}'"
    guesses = [sweep.runner.estimate_seconds(config)
               for _, config in probe_configs(sweep.axes, sweep.base_config, sweep.runner, sweep.spec.seed)]
    if guesses and all(g is not None for g in guesses):
        mean = sum(guesses) / len(guesses)  # type: ignore[arg-type]
        return waves * mean, (f"the {sweep.runner_name} runner's own estimate, {mean:.2f}s a trial, {waves} "
                              f"wave(s) of {budget.slots}; {no_history}")
    return None, no_history


def run_resolved(sweep: ResolvedSweep, *, observer: Observer | None = None, allow_drift: bool = False,
                 executor: Executor | None = None, budget: Budget | None = None) -> SweepOutcome:
    """Run a resolved sweep to its end: on ``executor``, on the spec's Dask cluster, or on this machine."""
    if executor is None:
        executor = executor_for(sweep)
    budget = budget or decide_for(sweep, executor=executor)
    if executor is None:
        from .executors.local import LocalExecutor
        executor = LocalExecutor(slots=budget.slots, memory_bytes=budget.memory_bytes, cpus=budget.cpus)
    with executor:
        return Coordinator(sweep, budget, executor, observer=observer, allow_drift=allow_drift).run()


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

    def run_all(self, verbose: bool = True, *, allow_drift: bool = False,
                executor: Executor | None = None) -> list[SweepResult]:
        """Run every trial not yet completed; return one result per trial started so far."""
        observer = None
        if verbose:
            from .console.progress import ProgressObserver
            from .console.screen import Screen
            observer = ProgressObserver(Screen(), self.resolved)
        self.outcome = run_resolved(self.resolved, observer=observer, allow_drift=allow_drift, executor=executor)
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
        executor = executor_for(self.resolved) if self.spec.dask_scheduler and self.spec.parallel == "auto" else None
        try:
            slots = decide_for(self.resolved, executor=executor).slots  # on a cluster: its worker threads
        finally:
            if executor is not None:
                executor.shutdown(cancel=False)
        return math.ceil(remaining / max(1, slots)) * float(avg_experiment_duration)
