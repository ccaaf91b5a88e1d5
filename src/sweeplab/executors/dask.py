"""Run trials on a Dask distributed cluster (``pip install 'sweeplab[dask]'``).

Each attempt is one Dask task that runs :func:`~sweeplab.executors.attempt.run_attempt` on a
worker: the trial is a process of that worker's machine, in its own process group, with the
same timeout, memory grant and result reading as a local trial. A python-runner attempt with warm-worker
isolation runs in a process forked from a warm worker that the Dask worker process keeps
(:func:`~sweeplab.executors.warm.dask_worker_pool`), as the local executor does. The worker needs the attempt
folder the coordinator prepared, so the sweep folder must be on a file system both see (the
usual shared home or scratch of a cluster; one machine trivially).

A trial counts as one slot of one worker thread: start workers with ``--nthreads`` equal to the
trials each machine should run at once. When the worker threads are what caps the trials running at
once (``parallel: auto``, or a count at least the threads), five to nine more trials per thread are
submitted ahead (:attr:`~sweeplab.engine.resources.Budget.ahead`) and wait in the scheduler's queue, so
a thread that frees starts the next trial at once instead of after the round trip through the
coordinator. They are sent four per thread at a time (:meth:`DaskExecutor.submit_many`: one
``client.map``, one message to the scheduler).

Cancelling an attempt writes a mark into its folder (:data:`CANCEL_MARK_NAME`) and sets a
:class:`distributed.Event`. A task not started yet is cancelled outright (should it start meanwhile,
it finds the mark and never starts its trial). A running task looks at the mark, and from a quarter
second after its start on, at the event too, every quarter second; either ends the trial's process
group. The event is what a worker sees at once when NFS shows it a new file late; a short trial never
asks for it. Mark and event are found from the attempt folder (the event's name from the folder and the
random id the task writes into its claim), so a resuming coordinator can cancel what its predecessor left.

A worker that dies loses nothing that finished and runs nothing twice. An attempt folder is
one-shot: the task claims it (:data:`~sweeplab.executors.base.CLAIM_NAME`) before the trial starts and
stores the result in the claim when it ends. When the scheduler runs a task again because its worker
died, the new run finds the claim: it returns the stored result if the first run ended, and otherwise
a ``crashed`` result (after ending the orphaned trial, if it runs on its host), and the coordinator's
retry makes a new attempt in a new folder. The futures of fetched results are released in groups
(:data:`RELEASE_BATCH`, and all at shutdown): one message to the scheduler for many, where a release
per trial cost the scheduler and the workers a message each. A finished task not released yet, on a
worker that dies, is run again by the scheduler, and that run returns the stored result.

Memory-aware placement: start every worker with a ``MEMORY`` resource, the bytes its trials may use
together (``dask worker tcp://scheduler:8786 --nthreads 4 --resources "MEMORY=16e9"``). A trial with a
memory grant then asks for that many bytes of it, so Dask starts it only on a worker with that much
left (two 6 GB trials on that worker, not three). Without the resource, only the coordinator's total
budget applies. A trial larger than every worker's ``MEMORY`` asks for the largest's, and runs there alone.

A sweep that runs in the process of its cluster's scheduler (a ``LocalCluster``, a notebook's
``Client()``) has the GIL handed over every :data:`SHARED_SWITCH_INTERVAL` seconds meanwhile
(:meth:`DaskExecutor.during_sweep`).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import selectors
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import ExecutorError
from ..trial import TrialLaunch, TrialResult, TrialStatus
from .base import CLAIM_NAME, Capacity, Executor, Job
from .dask_task import CANCEL_MARK_NAME, cancel_event_name, mark_cancelled, run_on_worker, stored_result
from .outcome import result_without_process
from .wake import WakePipe

__all__ = ["CANCEL_MARK_NAME", "DaskExecutor", "DaskJob", "cancel_event_name"]

logger = logging.getLogger(__name__)

#: seconds beyond the grace period that shutdown waits for cancelled tasks to end
SHUTDOWN_MARGIN = 10.0
#: seconds between two looks of DaskJob.started at an attempt's folder while no worker has claimed it
STARTED_LOOK_INTERVAL = 0.2
#: how many fetched results' futures are released together (see the module's notes)
RELEASE_BATCH = 32
#: the worker resource that holds the bytes of memory its trials may use together
MEMORY_RESOURCE = "MEMORY"
#: seconds between two hand-overs of the GIL while a sweep runs in the process of its Dask scheduler
SHARED_SWITCH_INTERVAL = 0.001


class DaskJob(Job):
    """A handle on one attempt running as a Dask task."""

    def __init__(self, executor: DaskExecutor, launch: TrialLaunch, cancel_id: str) -> None:
        self.launch = launch
        self._executor = executor
        self._future: Any = None  # set when the task is sent; None again once its result is here
        self._cancel_id = cancel_id
        self._cancelled = False
        self._result: TrialResult | None = None
        self._claimed = False  # a worker started the task (seen once, never unseen)
        self._look_after = 0.0  # (monotonic) when started may look at the folder again

    @property
    def key(self) -> str:
        """The task's key on the cluster."""
        return f"sweeplab-{self.launch.key[:16]}-{self.launch.attempt}-{self._cancel_id[:8]}"

    def done(self) -> bool:
        return self._result is not None or self._future.done()

    def result(self) -> TrialResult:
        """The attempt's outcome, waiting for it if needed; a task the cluster lost is ``crashed``.

        The task's future is handed to the executor, which releases it with others (:data:`RELEASE_BATCH`).
        """
        if self._result is None:
            future = self._future
            # A finished task stored its result in the attempt folder, which the coordinator shares: reading
            # it there costs a file read, where fetching it from the worker costs a round trip per trial.
            stored = stored_result(self.launch) if future.status == "finished" else None
            if stored is not None and stored.attempt == self.launch.attempt:
                self._result = stored
            else:
                try:
                    self._result = future.result()
                except Exception as exc:  # noqa: BLE001 - any failure of the cluster itself
                    if self._cancelled or future.cancelled():
                        self._result = result_without_process(self.launch, TrialStatus.CANCELLED, "cancelled")
                    else:
                        self._result = result_without_process(
                            self.launch, TrialStatus.CRASHED, f"the Dask cluster lost the attempt: {exc!r}")
            self._executor._let_go(future)
            self._future = None
        return self._result

    def cancel(self) -> None:
        """End the attempt: not started yet, it never starts; running, its process group is terminated.

        Returns at once; the job is done when the worker has ended the trial (within a quarter
        second plus the grace period).
        """
        if self.done():
            return
        self._cancelled = True
        from distributed import Event

        # Running, the task sees the mark or the event and ends its trial's process group; the future
        # is left alone, so that it is done only once the trial has ended. Still waiting for a worker,
        # the task is cancelled outright (and, should it start meanwhile, the mark stops it at once).
        mark_cancelled(self.launch.attempt_dir)
        client = self._executor.client
        Event(cancel_event_name(self.launch.attempt_dir, self._cancel_id), client=client).set()
        if not self._executing(client):
            self._future.cancel()

    @property
    def started(self) -> bool:
        """Whether a worker has started the attempt: its task claimed the folder.

        Until then, one look at the shared folder at most every :data:`STARTED_LOOK_INTERVAL` seconds: the
        coordinator asks about every queued attempt once per round, which with many worker threads and short
        trials would be thousands of looks a second.
        """
        if not self._claimed:
            if self._result is not None:
                self._claimed = True
            else:
                now = time.monotonic()
                if now >= self._look_after:
                    self._look_after = now + STARTED_LOOK_INTERVAL
                    self._claimed = os.path.exists(os.path.join(self.launch.attempt_dir, CLAIM_NAME))
        return self._claimed

    def withdraw(self) -> bool:
        """Cancel the attempt if no worker runs it yet (it waits on the scheduler, submitted ahead)."""
        if self.done() or self._executing(self._executor.client):
            return False
        self.cancel()  # (should it start meanwhile, the cancel mark stops it before its trial starts)
        return True

    def _executing(self, client: Any) -> bool:
        """Whether a worker runs the task now. A task the scheduler has not heard of yet (its submission
        is still on the way, on the same ordered stream a cancel takes) is not running."""
        try:
            return any(client.call_stack(keys=[self.key]).values())
        except KeyError:
            return False

    def __repr__(self) -> str:
        return (f"<DaskJob {self.launch.experiment_id} attempt={self.launch.attempt} "
                f"{self._future.status if self._future is not None else 'released'}>")


class DaskExecutor(Executor):
    """Run attempts as tasks of a Dask cluster: ``address`` is the scheduler's (``tcp://host:8786``), or pass a
    ready ``client``. ``slots`` defaults to the cluster's worker threads, ``memory_bytes`` and ``cpus`` to the
    sum over its workers. Use from one thread."""

    name = "dask"
    stages_outputs = False  # the worker makes them when it starts the trial

    def __init__(self, address: str | None = None, *, client: Any = None, slots: int | None = None,
                 memory_bytes: int | None = None, cpus: int | None = None, connect_timeout: float = 30) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ExecutorError("the Dask executor needs Dask distributed: pip install 'sweeplab[dask]'") from exc
        if client is None and address is None:
            raise ExecutorError("DaskExecutor needs the scheduler's address (tcp://host:8786) or a client")
        self._owns_client = client is None
        try:
            self.client = client or Client(address, timeout=connect_timeout, set_as_default=False)
        except OSError as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        #: the scheduler's address, as the client knows it
        self.address: str = address or str(getattr(self.client.scheduler, "address", "") or "")
        workers = self.client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        if not workers:
            logger.warning("the Dask cluster has no workers yet: trials wait until one joins")
        # placement by memory only when every worker declares it: one without would take any trial
        memories = [w.get("resources", {}).get(MEMORY_RESOURCE) for w in workers.values()]
        self.memory_placement = bool(memories) and all(memory for memory in memories)
        self._largest_memory = int(max(memories)) if self.memory_placement else 0
        worker_memory = (sum(int(memory) for memory in memories) if self.memory_placement
                         else sum(int(w.get("memory_limit") or 0) for w in workers.values()))
        if memories and any(memories) and not self.memory_placement:
            logger.warning("only some Dask workers declare a %s resource: trials are placed without regard "
                           "to memory; give it to every worker", MEMORY_RESOURCE)
        self._capacity = Capacity(
            slots=slots or max(1, threads),
            memory_bytes=memory_bytes or worker_memory or 1,
            cpus=cpus or max(1, threads),
        )
        # a done callback (Dask's thread) or wakeup() (maybe a signal handler) writes a byte here
        self._wake = WakePipe()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake, selectors.EVENT_READ)
        self._woken = False
        self._jobs: list[DaskJob] = []
        # jobs whose task has ended, appended by the done callbacks (deque appends are thread-safe): a wait
        # looks at these, not at every job it waits for
        self._ended: collections.deque[DaskJob] = collections.deque()
        self._ready: dict[DaskJob, None] = {}  # (in the order they ended)
        self._fetched: list[Any] = []  # futures whose results are here, until released together
        self._closed = False

    @property
    def capacity(self) -> Capacity:
        return self._capacity

    def submit(self, launch: TrialLaunch) -> DaskJob:
        return self.submit_many([launch])[0]

    def submit_many(self, launches: list[TrialLaunch]) -> list[DaskJob]:  # type: ignore[override]
        """Send the attempts' tasks: one ``client.map`` (one message to the scheduler) for those that ask
        the same resources, each group in the order given."""
        if self._closed:
            raise ExecutorError("this DaskExecutor has been shut down; create a new one")
        # the random id names the attempt's cancel event; its task writes it into its claim (cancel_event_name)
        jobs = [DaskJob(self, launch, uuid.uuid4().hex) for launch in launches]
        groups: dict[int | None, list[DaskJob]] = {}
        for job in jobs:
            resources = self._resources_for(job.launch)
            groups.setdefault(None if resources is None else resources[MEMORY_RESOURCE], []).append(job)
        for memory, group in groups.items():
            futures = self.client.map(run_on_worker, [job.launch for job in group],
                                      [job._cancel_id for job in group], key=[job.key for job in group],
                                      pure=False, resources=None if memory is None else {MEMORY_RESOURCE: memory})
            for job, future in zip(group, futures):
                job._future = future
                future.add_done_callback(lambda _, job=job: self._ended_now(job))
        self._jobs.extend(jobs)
        return jobs

    def _ended_now(self, job: DaskJob) -> None:
        """The done callback of ``job``'s task (in Dask's callback thread)."""
        self._ended.append(job)
        self._wake.wake()

    def _let_go(self, future: Any) -> None:
        """Release ``future`` with the others fetched, once there are :data:`RELEASE_BATCH` of them."""
        self._fetched.append(future)
        if len(self._fetched) >= RELEASE_BATCH:
            self._release_fetched()

    def _release_fetched(self) -> None:
        # each release is queued on the client's loop, which sends them to the scheduler as one message
        for future in self._fetched:
            future.release()
        self._fetched.clear()

    def _resources_for(self, launch: TrialLaunch) -> dict[str, int] | None:
        """The worker resources the attempt asks for: its memory grant, when workers declare memory."""
        if not self.memory_placement or not launch.memory_bytes:
            return None
        if launch.memory_bytes > self._largest_memory:
            logger.warning("trial %s needs %.1f GB, more than any Dask worker's %s (%.1f GB): it runs alone on "
                           "the largest", launch.experiment_id, launch.memory_bytes / 2**30, MEMORY_RESOURCE,
                           self._largest_memory / 2**30)
            return {MEMORY_RESOURCE: self._largest_memory}
        return {MEMORY_RESOURCE: launch.memory_bytes}

    def workers_missing(self, folder: str) -> list[str]:
        """The workers (by address) on which ``folder`` is not a directory: they do not share it."""
        present = self.client.run(os.path.isdir, folder)
        return sorted(worker for worker, is_dir in present.items() if not is_dir)

    def end_leftovers(self, attempt_dirs: Iterable[str]) -> int:
        """Cancel attempts a dead coordinator submitted (by their folders); returns how many were asked.

        A task still running on a worker sees its cancel mark or event within a quarter second and
        ends its trial's process group; one still queued never starts its trial; a task that is gone
        is not affected.
        """
        from distributed import Event

        count = 0
        for attempt_dir in attempt_dirs:
            mark_cancelled(attempt_dir)
            Event(cancel_event_name(attempt_dir), client=self.client).set()
            count += 1
        return count

    def wakeup(self) -> None:
        """Make a :meth:`wait` in progress return early; safe from a signal handler."""
        self._woken = True
        self._wake.wake()

    @contextlib.contextmanager
    def during_sweep(self) -> Iterator[None]:
        """With the cluster's scheduler in this process, the GIL changes hands every millisecond instead of
        Python's five, so the scheduler's loop answers a worker without waiting for the coordinator's turn
        to end (1.05x faster on 100 trivial trials); restored when the sweep ends."""
        previous = sys.getswitchinterval()
        lower = previous > SHARED_SWITCH_INTERVAL and self._scheduler_here()
        if lower:
            sys.setswitchinterval(SHARED_SWITCH_INTERVAL)
        try:
            yield
        finally:
            if lower:
                sys.setswitchinterval(previous)

    def _scheduler_here(self) -> bool:
        try:  # (one round trip to the scheduler)
            return bool(self.client.run_on_scheduler(os.getpid) == os.getpid())
        except Exception:  # noqa: BLE001 - a scheduler that runs nothing for clients: not ours to tune
            return False

    def wait(self, jobs: Iterable[Job], timeout: float | None) -> list[Job]:
        wanted = list(jobs)
        for job in wanted:
            if not isinstance(job, DaskJob) or job._executor is not self:
                raise ExecutorError(f"{job!r} was not submitted to this executor")
        end = None if timeout is None else time.monotonic() + timeout
        waiting = set(wanted)
        while True:
            while self._ended:
                job = self._ended.popleft()
                if job._future is not None:  # (its result not fetched yet)
                    self._ready[job] = None
            finished = [job for job in self._ready if job in waiting]
            over = end is not None and time.monotonic() >= end
            if over and not finished:  # (a done callback never missed so far: one look at them all)
                finished = [job for job in wanted if job.done()]
            if finished or not wanted or self._woken or over:
                self._woken = False
                for job in finished:
                    self._ready.pop(job, None)
                    job.result()  # fetched now, and its future released (see DaskJob.result)
                self._jobs = [job for job in self._jobs if job._result is None]
                return finished
            self._selector.select(None if end is None else max(0.0, end - time.monotonic()))
            self._wake.drain()

    def shutdown(self, cancel: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        live = [job for job in self._jobs if not job.done()]
        if live:
            deadline = None  # without cancel: wait for them to finish
            if cancel:
                for job in live:
                    job.cancel()
                # a cancelled task ends within its grace period; a cluster that does not answer is not waited for
                deadline = time.monotonic() + max(job.launch.grace for job in live) + SHUTDOWN_MARGIN
            waiting = list(live)
            while waiting and (deadline is None or time.monotonic() < deadline):
                self.wait(waiting, None if deadline is None else max(0.0, deadline - time.monotonic()))
                waiting = [job for job in waiting if not job.done()]
            if waiting:
                logger.warning("the Dask cluster did not confirm the end of %d cancelled attempt(s)", len(waiting))
        for job in live:
            if job.done():
                job.result()
            else:
                job._result = result_without_process(job.launch, TrialStatus.CANCELLED,
                                                 "cancelled (the cluster did not confirm the end)")
        self._release_fetched()
        self._selector.close()
        self._wake.close()
        if self._owns_client:
            self.client.close()
