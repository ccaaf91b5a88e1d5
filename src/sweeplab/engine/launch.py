"""Preparing one run of a sweep, once, and running it: :func:`prepare` → :meth:`Launch.run`.

:func:`prepare` does everything that may refuse a sweep, in this order and before anything is
written:

0. the storage: the database and the sweep folder must be usable (:func:`~sweeplab.engine.folder.check_sweep_storage`);
1. the drift check: a sweep id in use needs ``resume``, and a resume must not mix experiments
   (:func:`~sweeplab.engine.drift.check_resumable`; allowed drift becomes warnings); then the runner's
   own checks (:meth:`~sweeplab.runners.base.Runner.preflight`: the python runner imports its function;
   with warm workers on this machine, that check is made at step 4 by the workers themselves);
2. the plan, built here and only here: the coordinator runs this one;
3. a Dask cluster, if the spec names one, is connected and asked whether its workers see the
   sweep folder;
4. the budget: trials at once, RAM and CPUs (:func:`~sweeplab.engine.resources.budget_for`); a
   python-runner sweep with warm workers then gets its local executor now, its workers started and
   the first one's load of the function being the fail-fast check (:func:`_warm_start`).

:meth:`Launch.run` then creates the local executor if there is none, hands everything to the
coordinator, and shuts the executor down. A preview (``connect=False``: the dry run) contacts
nothing, refuses nothing, cannot run, and imports neither an executor nor the coordinator, so
showing a plan stays fast.

>>> launch = prepare(resolve(spec))                        # doctest: +SKIP
>>> print(len(launch.plan), launch.budget.slots)            # doctest: +SKIP
>>> outcome = launch.run()                                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
from functools import cached_property
from typing import TYPE_CHECKING

from ..errors import ConfigError, ExecutorError, JournalError, SweepError
from ..journal.reader import JournalReader
from ..planning.plan import Plan
from ..planning.resolve import probe_configs
from ..planning.search_plan import plan_for
from .drift import check_resumable
from .folder import check_sweep_storage
from .observer import Observer, SweepOutcome
from .resources import Budget, budget_for

if TYPE_CHECKING:
    from ..executors.base import Executor
    from ..planning.resolve import ResolvedSweep

__all__ = ["Launch", "prepare", "run_resolved", "executor_for", "estimate_duration", "parallel_slots",
           "DASK_CONNECT_TIMEOUT"]

log = logging.getLogger(__name__)

#: seconds to wait for a Dask scheduler to answer before giving up
DASK_CONNECT_TIMEOUT = 10.0


def executor_for(sweep: ResolvedSweep) -> Executor | None:
    """The executor the spec asks for: a connected Dask executor, or None to run here.

    Connecting happens before anything is written, so a wrong address is a clean error.
    """
    address = sweep.spec.dask_scheduler
    if not address:
        return None
    from ..executors.dask import DaskExecutor
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


def parallel_slots(sweep: ResolvedSweep) -> int:
    """How many trials of ``sweep`` would run at once. Writes nothing.

    Only a Dask cluster asked for ``parallel: auto`` is contacted (its worker threads decide);
    no drift check is made.
    """
    executor = executor_for(sweep) if sweep.spec.dask_scheduler and sweep.spec.parallel == "auto" else None
    try:
        return budget_for(sweep, executor).slots
    finally:
        if executor is not None:
            executor.shutdown(cancel=False)


class Launch:
    """One prepared run of a sweep (made by :func:`prepare`): run it once, or close it.

    ``plan`` is the sweep's plan, built once; ``executor`` the connected Dask executor (None when
    the trials run on this machine: the local executor is made by :meth:`run`, or by :func:`prepare`
    when it started warm workers); ``budget`` the parallelism decision; ``warnings`` the drift that ``allow_drift`` let through; ``estimate``
    (seconds or None, what it is based on) is worked out when first asked for. The launch owns
    its executor: :meth:`run` and :meth:`close` shut it down. A launch is also a context manager
    that closes it, so that a sweep refused after ``prepare`` (a "no" at a prompt) releases the cluster.
    """

    def __init__(self, sweep: ResolvedSweep, plan: Plan, budget: Budget, executor: Executor | None,
                 warnings: list[str], *, preview: bool) -> None:
        self.sweep = sweep
        self.plan = plan
        self.budget = budget
        self.executor = executor
        self.warnings = warnings
        self.preview = preview
        self._state = "prepared"  # then "ran" or "closed"

    @cached_property
    def estimate(self) -> tuple[float | None, str]:
        """(seconds or None, what it is based on) for the whole plan; see :func:`estimate_duration`."""
        return estimate_duration(self.sweep, self.plan, self.budget)

    def run(self, observer: Observer | None = None) -> SweepOutcome:
        """Run the plan to its end (or to an interrupt) and return how it ended.

        ``observer`` gets the coordinator's hooks (progress on a screen, for instance).
        """
        if self.preview:
            raise SweepError(f"the launch of sweep '{self.sweep.sweep_id}' is a preview (prepared with "
                             "connect=False): nothing can run from it; prepare(sweep) makes one that runs")
        if self._state != "prepared":
            raise SweepError(f"the launch of sweep '{self.sweep.sweep_id}' has {self._state} already: "
                             "prepare(sweep) again to run it again")
        self._state = "ran"
        # imported here: a preview never loads the coordinator or an executor
        from .coordinator import Coordinator
        executor = self.executor
        if executor is None:
            from ..executors.local import LocalExecutor
            executor = self.executor = LocalExecutor(slots=self.budget.slots, memory_bytes=self.budget.memory_bytes,
                                                     cpus=self.budget.cpus)
        with executor:  # shut down at the end, whatever happens
            coordinator = Coordinator(self.sweep, self.plan, self.budget, executor, observer=observer,
                                      drift_warnings=self.warnings)
            return coordinator.run()

    def close(self) -> None:
        """Give up a launch that did not run: shut its executor down (cancelling nothing that ran)."""
        if self._state != "prepared":
            return
        self._state = "closed"
        if self.executor is not None:
            self.executor.shutdown(cancel=True)

    def __enter__(self) -> Launch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _warm_python(sweep: ResolvedSweep) -> bool:
    """Whether the trials run on warm workers of the local executor (the python runner, worker isolation)."""
    from ..runners.python import PythonRunner
    return isinstance(sweep.runner, PythonRunner) and sweep.runner.isolation == "worker"


def _warm_start(sweep: ResolvedSweep, plan: Plan, budget: Budget) -> Executor:
    """The local executor with its warm workers already importing the function; refuses a function that
    cannot be loaded. Writes nothing.

    The first worker's load is the fail-fast check, so the module is imported once per worker instead of
    once more, serially, before them (a heavy import such as scikit-learn takes over a second). The
    workers are started for the launch the first trial would make (its thread caps); trials that differ
    get workers of their own, as they would have anyway.
    """
    from ..executors.local import LocalExecutor
    from ..runners.base import RunContext, trial_resources
    from ..runners.python import PREFLIGHT_TIMEOUT
    from ..trial import TrialLaunch

    runner, limits = sweep.runner, sweep.spec.limits
    config = next(iter(probe_configs(sweep.axes, sweep.base_config, runner, sweep.spec.seed)),
                  (None, sweep.base_config))[1]
    threads = trial_resources(runner, config, limits.memory_gb if limits else None,
                              limits.cpu_threads if limits else None).cpu_threads
    context = RunContext(sweep_id=sweep.sweep_id, experiment_id="", key="", seed=0, attempt=1, config_path="",
                         attempt_dir="", db_path="", cpu_threads=threads)
    argv, env = runner.command(context)
    cwd = str(sweep.spec_dir.resolve()) if sweep.spec_dir is not None else os.getcwd()  # as the trials run
    template = TrialLaunch(sweep_id=sweep.sweep_id, key="", experiment_id="", attempt=1, argv=tuple(argv),
                           attempt_dir="", cwd=cwd, env=env, cpu_threads=threads)
    executor = LocalExecutor(slots=budget.slots, memory_bytes=budget.memory_bytes, cpus=budget.cpus)
    try:
        try:
            loaded, problem = executor.warm_up(template, max(1, min(budget.slots, len(plan))), PREFLIGHT_TIMEOUT)
        except TimeoutError:
            raise runner.refusal(None) from None  # type: ignore[attr-defined]
        if problem is not None:
            raise runner.refusal(problem)  # type: ignore[attr-defined]
        if not loaded:  # every worker died while importing, or took too long: the check in a child says why
            runner.preflight()
    except BaseException:
        executor.shutdown(cancel=True)
        raise
    return executor


def prepare(sweep: ResolvedSweep, *, allow_drift: bool = False, executor: Executor | None = None,
            connect: bool = True) -> Launch:
    """Check, plan, connect and size one run of ``sweep`` (see the module docstring); writes nothing.

    ``executor`` replaces the one the spec asks for (the launch owns it from here on). With
    ``connect=False`` the result is a preview for showing the plan: no drift check, no cluster
    contacted (the budget of a Dask sweep is provisional), and it cannot run.
    Raises the :class:`~sweeplab.errors.UserError` of a refusal.
    """
    warnings: list[str] = []
    try:
        warm = connect and executor is None and not sweep.spec.dask_scheduler and _warm_python(sweep)
        if connect:  # a preview shows the plan even of a sweep that a run would refuse, as the dry run did
            check_sweep_storage(sweep)
            warnings = check_resumable(sweep, allow_drift)
            sweep.runner.folder = sweep.spec_dir  # relative names (a module, a pickled function) are found there
            if not warm:  # warm workers load the function below: their first load is the check
                sweep.runner.preflight()  # e.g. the python runner's function must import
        plan = plan_for(sweep)  # a search (bayesian, refine) has a plan of its budget, chosen as it runs
        if connect and executor is None:
            executor = executor_for(sweep)
        budget = budget_for(sweep, executor)
        if warm:
            executor = _warm_start(sweep, plan, budget)
    except BaseException:
        if executor is not None:  # the launch owns it, and there will be no launch
            executor.shutdown(cancel=True)
        raise
    return Launch(sweep, plan, budget, executor, warnings, preview=not connect)


def run_resolved(sweep: ResolvedSweep, *, observer: Observer | None = None, allow_drift: bool = False,
                 executor: Executor | None = None) -> SweepOutcome:
    """Prepare and run a resolved sweep in one call: on ``executor``, on the spec's Dask cluster, or here."""
    return prepare(sweep, allow_drift=allow_drift, executor=executor).run(observer)
