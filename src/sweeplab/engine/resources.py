"""The machine's resources and the parallelism decision (``parallel: N | auto``, Jetson boards).

The decision is a :class:`Budget`: trial slots plus RAM and CPU budgets. The scheduler admits
a trial only when all three have room; a trial larger than the whole budget runs alone. On a Dask
cluster whose worker threads cap how many trials run at once, a few more are submitted ahead
(:attr:`Budget.ahead`): they wait in the cluster's queue, so a worker thread that frees starts the
next trial without waiting for the coordinator. They are sent in groups (:attr:`Budget.refill`), one
message to the cluster's scheduler for several trials.
:func:`decide_budget` decides from a machine's figures; :func:`budget_for` applies it to a sweep
(the trials' declared needs, or the Dask cluster's workers).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from ..planning.resolve import probe_configs
from ..planning.strategy import is_search
from ..runners.base import trial_resources

if TYPE_CHECKING:
    from ..executors.base import Executor
    from ..planning.resolve import ResolvedSweep

__all__ = ["Machine", "Budget", "detect_machine", "detect_jetson", "decide_budget", "budget_for", "cluster_budget",
           "GIB", "AUTO_MEMORY_FRACTION", "JETSON_MAX_PARALLEL"]

log = logging.getLogger(__name__)

GIB = 1024 ** 3
#: share of total RAM that auto mode hands to trials (the rest stays for the system)
AUTO_MEMORY_FRACTION = 0.70
#: the original tool's cap on a Jetson Orin: more parallel trials thrash its unified memory
JETSON_MAX_PARALLEL = 4


@dataclass(frozen=True)
class Machine:
    """What this host offers."""

    total_memory: int
    cpus: int
    jetson_model: str | None = None

    @property
    def is_jetson(self) -> bool:
        return self.jetson_model is not None


@dataclass(frozen=True)
class Budget:
    """How much may run at once, and why.

    ``slots`` trials run at once. ``ahead`` more may be submitted beyond them, only where something
    else caps what runs at once (a Dask cluster's worker threads): they wait in its queue. Until
    ``ahead_after`` attempts have ended (the first attempts, which decide whether the sweep fails fast:
    ``max_failures``), the lookahead starts no trial that would not have started without it by then.
    From then on, with a lookahead, trials are admitted once ``refill`` of the admitted places are free,
    and then as many as fit: they go to the cluster together (``ahead`` leaves enough queued meanwhile).
    """

    slots: int
    memory_bytes: int
    cpus: int | None            # None: not limited by CPU (an explicit parallel count)
    jetson: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    ahead: int = 0
    ahead_after: int = 0
    refill: int = 1


def detect_jetson(root: Path = Path("/")) -> str | None:
    """The board's name when this is an NVIDIA Jetson (Tegra), else None."""
    model_file = root / "proc/device-tree/model"
    release_file = root / "etc/nv_tegra_release"
    model = ""
    try:
        model = model_file.read_bytes().decode(errors="replace").strip("\x00 \n")
    except OSError:
        pass
    if "jetson" in model.lower() or "orin" in model.lower():
        return model
    if release_file.is_file():
        return model or "NVIDIA Jetson (from /etc/nv_tegra_release)"
    return None


def detect_machine(root: Path = Path("/")) -> Machine:
    """Read total RAM, usable cores and the Jetson model, if any."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return Machine(total_memory=psutil.virtual_memory().total, cpus=cpus, jetson_model=detect_jetson(root))


def _gb(n: float) -> str:
    return f"{n / GIB:.1f} GB"


def decide_budget(parallel: int | str, machine: Machine, *, jetson_forced: bool = False,
                  trial_memory_gb: float | None = None, trial_cpus: int = 1, cpus_why: str = "") -> Budget:
    """Turn ``parallel`` (a count or ``auto``) into slots and resource budgets.

    ``trial_memory_gb`` / ``trial_cpus`` describe a typical trial (the largest need in the plan: the
    threads it really keeps busy, as its runner states them) and only shape the explanation and the
    auto slot count; admission is per trial. ``cpus_why`` says where ``trial_cpus`` comes from.
    """
    jetson = jetson_forced or machine.is_jetson
    memory = int(machine.total_memory * AUTO_MEMORY_FRACTION)
    reasons = [f"RAM budget {_gb(memory)} ({AUTO_MEMORY_FRACTION:.0%} of {_gb(machine.total_memory)})"]
    if jetson:
        why = "forced by --jetson / jetson_optimized" if jetson_forced and not machine.is_jetson \
            else f"detected {machine.jetson_model}"
        reasons.append(f"Jetson profile ({why}): memory is shared with the GPU, at most "
                       f"{JETSON_MAX_PARALLEL} trials at once")
    if parallel == "auto":
        per_cpu = max(1, machine.cpus // max(1, trial_cpus))
        slots = per_cpu
        why = f" ({cpus_why})" if cpus_why else ""
        reasons.append(f"{machine.cpus} cores / {trial_cpus} busy thread(s) per trial{why} → {per_cpu} slot(s)")
        if trial_memory_gb:
            per_memory = max(1, int(memory // (trial_memory_gb * GIB)))
            if per_memory < slots:
                reasons.append(f"{_gb(memory)} / {trial_memory_gb:g} GB per trial → {per_memory} slot(s)")
            slots = min(slots, per_memory)
        if jetson:
            slots = min(slots, JETSON_MAX_PARALLEL)
        return Budget(slots=slots, memory_bytes=memory, cpus=machine.cpus, jetson=jetson, reasons=tuple(reasons))
    slots = int(parallel)
    if jetson and slots > JETSON_MAX_PARALLEL:
        reasons.append(f"asked for {slots}, capped at {JETSON_MAX_PARALLEL} by the Jetson profile")
        slots = JETSON_MAX_PARALLEL
    else:
        reasons.append(f"{slots} slot(s) as asked")
    return Budget(slots=slots, memory_bytes=memory, cpus=None, jetson=jetson, reasons=tuple(reasons))


#: on a cluster, how many trials a worker thread may have submitted at once (running or waiting)
QUEUED_PER_THREAD = 10
#: on a cluster, how many trials a worker thread are sent together (one message): five to nine a thread wait
SENT_PER_THREAD = 4


def cluster_budget(sweep: ResolvedSweep, executor: Executor) -> Budget:
    """The parallelism decision on a cluster: its worker threads, or the count asked for.

    When the slots are at least the worker threads (``auto``, or ``parallel`` that many or more), the
    threads are what cap the trials running at once, and trials are submitted ahead (:attr:`Budget.ahead`)
    until :data:`QUEUED_PER_THREAD` trials a thread are submitted, running or waiting on the cluster's
    scheduler, which hands one to the first thread that frees, where waiting for the coordinator to hear of
    the end and submit costs a round trip per trial. They are sent :data:`SENT_PER_THREAD` a thread at a
    time (:attr:`Budget.refill`): the scheduler and the coordinator each handle one message for them, where
    one message a trial cost 1-2 ms of CPU per trial more in all, and groups of two a thread 0.15-0.25 ms
    of the coordinator's CPU a trial more than groups of four (bench/bench_dask_submit.py). Slots beyond the
    threads already queue: ``parallel`` that many times the threads or more needs no lookahead.
    Below the threads, the count asked for is the cap, so nothing is submitted ahead; nor in a search
    (bayesian, refine), whose every choice should see the results that could be in by then.
    """
    capacity = executor.capacity
    address = sweep.spec.dask_scheduler or getattr(executor, "address", None) or "(the executor's)"
    reasons = [f"Dask cluster at {address}: {capacity.slots} worker thread(s), "
               f"{capacity.memory_bytes / 2**30:.1f} GB of worker memory"]
    if sweep.spec.parallel == "auto":
        slots = capacity.slots
        reasons.append("auto: one trial per worker thread")
    else:
        slots = int(sweep.spec.parallel)
    threads = capacity.slots
    ahead = max(0, QUEUED_PER_THREAD * threads - slots) if slots >= threads and not is_search(sweep.spec.strategy) \
        else 0
    refill = min(ahead, SENT_PER_THREAD * threads) if ahead else 1
    if ahead:
        reasons.append(f"+{ahead} submitted ahead, queued on the scheduler for the next free worker thread, "
                       f"{refill} at a time")
    return Budget(slots=slots, memory_bytes=capacity.memory_bytes, cpus=capacity.cpus, jetson=False,
                  reasons=tuple(reasons), ahead=ahead, ahead_after=sweep.spec.max_failures if ahead else 0,
                  refill=refill)


def _is_cluster(executor: Executor) -> bool:
    from ..executors.dask import DaskExecutor  # no Dask import: that module imports it when it connects

    return isinstance(executor, DaskExecutor)


def budget_for(sweep: ResolvedSweep, executor: Executor | None = None) -> Budget:
    """The parallelism decision for a sweep, from this machine and the trials' declared needs.

    A sweep on a Dask cluster (the spec's, or a Dask ``executor`` given to run it) is sized by
    ``executor`` (connected to it), or provisionally when the cluster was not contacted (a dry run).
    """
    if executor is not None and _is_cluster(executor):
        return cluster_budget(sweep, executor)
    if sweep.spec.dask_scheduler:
        if executor is not None:
            return cluster_budget(sweep, executor)
        slots = 1 if sweep.spec.parallel == "auto" else int(sweep.spec.parallel)
        return Budget(slots=slots, memory_bytes=0, cpus=None, jetson=False, reasons=(
            f"Dask cluster at {sweep.spec.dask_scheduler}, not contacted yet: "
            "its worker threads decide when the sweep starts",))
    memory: float | None = None
    cpus = declared = 1
    limits = sweep.spec.limits
    for _, config in probe_configs(sweep.axes, sweep.base_config, sweep.runner, sweep.spec.seed):
        need = trial_resources(sweep.runner, config, limits.memory_gb if limits else None,
                               limits.cpu_threads if limits else None)
        if need.memory_gb:
            memory = max(memory or 0.0, need.memory_gb)
        cpus = max(cpus, need.cpu_threads)
        constraints = config.get("resource_constraints")
        if isinstance(constraints, dict) and isinstance(constraints.get("cpu_threads"), int):
            declared = max(declared, constraints["cpu_threads"])
    # a runner may know that its trials keep fewer threads busy than their configs declare
    why = (f"the {sweep.runner_name} runner's need; the configs declare up to {declared}" if declared > cpus
           else "")
    return decide_budget(sweep.spec.parallel, detect_machine(), jetson_forced=sweep.spec.jetson_optimized,
                         trial_memory_gb=memory, trial_cpus=cpus, cpus_why=why)
