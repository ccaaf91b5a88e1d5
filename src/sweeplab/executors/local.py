"""Run trials as child processes of the coordinator on this machine.

Each attempt is one process started directly (no wrapper, no shell) in its own process group.
The executor keeps one selector over the attempts' pidfds, so :meth:`LocalExecutor.wait`
wakes the moment a process exits; it sleeps between events only until the next deadline
(a timeout, the SIGKILL after a grace period, or the RSS watchdog of a memory-limited trial).

When a process exits, the executor only reaps it (collects the exit code); the result is read
from the attempt's files when the caller asks for it, so a coordinator can start the next
trial first and keep the freed core busy.

Example::

    with LocalExecutor(slots=2) as executor:
        job = executor.submit(launch)
        executor.wait([job], timeout=None)
        status = job.result().status
"""

from __future__ import annotations

import logging
import os
import select
import selectors
import signal
import time
from collections.abc import Iterable

import psutil

from ..errors import ExecutorError
from ..trial import TrialLaunch, TrialResult
from .attempt import AttemptProcess, signal_group
from .base import ATTEMPT_DIR_VARIABLE, Capacity, Executor, Job
from .outcome import EndReason, start_failure_result
from .reaper import StrayReaper
from .wake import WakePipe
from .warm import WarmAttempt, WarmPool, warm_function

__all__ = ["LocalExecutor", "LocalJob", "terminate_process_group", "terminate_attempts_under"]

logger = logging.getLogger(__name__)


class LocalJob(Job):
    """A handle on one attempt running as a local process group."""

    def __init__(self, executor: LocalExecutor, launch: TrialLaunch, attempt: AttemptProcess | None,
                 result: TrialResult | None = None) -> None:
        self.launch = launch
        self._executor = executor
        self._attempt = attempt
        self._result = result

    @property
    def pid(self) -> int | None:
        """Pid of the attempt's main process (None if it never started)."""
        return self._attempt.pid if self._attempt else None

    @property
    def pgid(self) -> int | None:
        """The attempt's process group on this host (None if it never started)."""
        return self._attempt.pgid if self._attempt else None

    @property
    def _ended(self) -> bool:
        return self._result is not None or (self._attempt is not None and self._attempt.returncode is not None)

    def done(self) -> bool:
        """True once the attempt has ended; also lets the executor act on passed deadlines."""
        if not self._ended:
            self._executor.wait([self], timeout=0)
        return self._ended

    def result(self) -> TrialResult:
        """The attempt's outcome, waiting for it to end if it is still running.

        The outcome is read from the attempt's files on the first call, not when the process
        is reaped, so the executor can start the next trial first.
        """
        if not self._ended:
            self._executor.wait([self], timeout=None)
        if self._result is None and self._attempt is not None and self._attempt.returncode is not None:
            self._result = self._attempt.finish()
        if self._result is None:  # only if the executor lost track of it
            raise ExecutorError(f"attempt {self.launch.attempt} of trial {self.launch.key} has no result")
        return self._result

    def cancel(self) -> None:
        """SIGTERM the attempt's group now and SIGKILL it after the grace period; result ``cancelled``.

        Returns at once; the end is noticed by the next :meth:`LocalExecutor.wait`.
        Cancelling a finished attempt does nothing.
        """
        if not self._ended and self._attempt is not None:
            self._attempt.terminate(EndReason.CANCEL)

    def __repr__(self) -> str:
        state = "ended" if self._ended else "running"
        pid = self._attempt.pid if self._attempt else None
        return f"<LocalJob {self.launch.experiment_id} attempt={self.launch.attempt} pid={pid} {state}>"


class LocalExecutor(Executor):
    """Run attempts as local processes.

    ``slots`` is how many trials the scheduler may run at once; ``memory_bytes`` and ``cpus``
    default to the machine's total RAM and CPU count. The executor itself does not queue: the
    scheduler submits only what fits the capacity. Use from one thread.
    """

    name = "local"
    ends_leftovers = True

    def __init__(self, slots: int, memory_bytes: int | None = None, cpus: int | None = None) -> None:
        if slots < 1:
            raise ExecutorError(f"slots must be at least 1, got {slots}")
        self._capacity = Capacity(
            slots=slots,
            memory_bytes=memory_bytes or psutil.virtual_memory().total,
            cpus=cpus or os.cpu_count() or 1,
        )
        self._selector = selectors.DefaultSelector()
        self._running: dict[int, LocalJob] = {}  # pidfd -> job
        # wakeup() writes a byte here, so a wait in progress returns at once
        self._wake = WakePipe()
        self._selector.register(self._wake, selectors.EVENT_READ)
        self._closed = False
        self._woken = False  # wakeup() was called: the current wait returns
        # trial processes that leave their group (setsid) become ours when their parent exits, and end
        # with their attempt
        self._strays = StrayReaper()
        # read once: copying a plain dict per trial is much cheaper than decoding os.environ
        self._environ = dict(os.environ)
        # python-runner attempts asking for worker isolation run in processes forked from warm workers
        self._warm = WarmPool(slots, self._environ)

    @property
    def capacity(self) -> Capacity:
        """Slots, RAM (bytes) and CPU threads this executor offers."""
        return self._capacity

    @property
    def running(self) -> list[LocalJob]:
        """Jobs whose process has not been reaped yet."""
        return list(self._running.values())

    def submit(self, launch: TrialLaunch) -> LocalJob:
        """Start ``launch`` now and return its job; a program that cannot start gives a ``failed`` job.

        The process exists when this returns (``job.pid``, ``job.pgid``). Starting costs well
        under a millisecond of this thread's time: without a memory grant the process is
        created by ``posix_spawn``, which runs nothing of ours between fork and exec.
        """
        if self._closed:
            raise ExecutorError("this LocalExecutor has been shut down; create a new one")
        self._strays.start()
        function = warm_function(launch)
        try:
            if function is not None:
                attempt: AttemptProcess = WarmAttempt(launch, self._warm, function)
            else:
                attempt = AttemptProcess(launch, self._environ)
        except OSError as exc:
            logger.warning("could not start trial %s: %s", launch.key, exc)
            return LocalJob(self, launch, None, start_failure_result(launch, exc))
        job = LocalJob(self, launch, attempt)
        self._running[attempt.fileno()] = job
        self._selector.register(attempt.fileno(), selectors.EVENT_READ)
        logger.debug("started trial %s attempt %d as pid %s", launch.key, launch.attempt, attempt.pid)
        return job

    def warm_up(self, launch: TrialLaunch, count: int, timeout: float) -> tuple[bool, str | None]:
        """Start ``count`` warm workers for python-runner launches like ``launch`` before any is submitted,
        and wait until one of them has loaded the function: that load is the sweep's fail-fast check.

        Returns ``(True, None)`` once one has loaded it; ``(False, PROBLEM)`` when it cannot be loaded
        (a misspelled name, a module that does not import); ``(False, None)`` when ``launch`` runs no warm
        worker, or each worker died while importing. Raises :class:`TimeoutError` when none has loaded it
        within ``timeout`` seconds (the workers keep importing; :meth:`shutdown` ends them).
        """
        function = warm_function(launch)
        if function is None or self._closed:
            return False, None
        self._strays.start()  # the workers cloned from the first are adopted by this process
        pending = self._warm.prestart(launch, function, count)
        deadline = time.monotonic() + timeout
        while pending:
            for worker in pending:
                worker.messages()  # nothing but P and R comes before a request; end of file marks it lost
                if worker.ready:
                    return worker.problem is None, worker.problem
            pending = [worker for worker in pending if not worker.lost]
            left = deadline - time.monotonic()
            if pending and left <= 0:
                raise TimeoutError(f"no warm worker loaded {function} within {timeout:g} s")
            if pending:
                select.select(pending, [], [], left)
        return False, None

    def wakeup(self) -> None:
        """Make a :meth:`wait` in progress return early; safe from a signal handler."""
        self._woken = True
        self._wake.wake()

    def wait(self, jobs: Iterable[Job], timeout: float | None) -> list[Job]:
        """Block until one of ``jobs`` is done or ``timeout`` seconds pass; return the done ones.

        While waiting, every running attempt of this executor is served: exits are reaped and
        timeouts enforced, whichever jobs were asked about.
        """
        wanted = list(jobs)
        for job in wanted:
            if not isinstance(job, LocalJob) or job._executor is not self:
                raise ExecutorError(f"{job!r} was not submitted to this executor")
        finished = [job for job in wanted if job._ended]
        if finished or not wanted:
            return finished
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            self._serve(None if end is None else max(0.0, end - time.monotonic()))
            finished = [job for job in wanted if job._ended]
            if finished or self._woken or (end is not None and time.monotonic() >= end):
                self._woken = False
                return finished

    def _serve(self, timeout: float | None) -> None:
        """One round: wait for an exit (at most until the next deadline), reap, act on deadlines."""
        deadlines = [d for job in self._running.values()
                     if job._attempt is not None and (d := job._attempt.next_deadline()) is not None]
        if deadlines:
            until_deadline = max(0.0, min(deadlines) - time.monotonic())
            timeout = until_deadline if timeout is None else min(timeout, until_deadline)
        # ends already read from a warm worker's pipe: no event will come for them
        known_ends = [fd for fd, job in self._running.items()
                      if job._attempt is not None and job._attempt.ended_unreaped()]
        if known_ends:
            timeout = 0.0
        if not self._running:
            if timeout is None:
                return
            ready = []
            time.sleep(timeout)  # nothing can finish; honour the caller's timeout
        else:
            ready = self._selector.select(timeout)
        reaped = False
        for key, _ in ready:
            if key.fileobj is self._wake:
                self._wake.drain()
            elif key.fd in self._running and self._running[key.fd]._attempt.exited():  # a warm pipe says more
                self._reap(key.fd)
                reaped = True
        for fd in known_ends:
            if fd in self._running:
                self._reap(fd)
                reaped = True
        if reaped:
            self._end_strays()
        if self._running:
            now = time.monotonic()
            for job in list(self._running.values()):
                if job._attempt is not None:
                    job._attempt.service(now)

    def _end_strays(self) -> None:
        """End what ended attempts left behind outside their process groups (see :mod:`.reaper`)."""
        running = [job for job in self._running.values() if job._attempt is not None]
        self._strays.sweep({job.launch.attempt_dir for job in running}, {job._attempt.pid for job in running})

    def _reap(self, pidfd: int) -> None:
        job = self._running.pop(pidfd)
        self._selector.unregister(pidfd)
        assert job._attempt is not None
        job._attempt.reap()
        logger.debug("trial %s attempt %d exited with %s", job.launch.key, job.launch.attempt,
                     job._attempt.returncode)

    def shutdown(self, cancel: bool = True) -> None:
        """Stop accepting work; with ``cancel``, terminate running attempts, else wait for them."""
        if self._selector is None:
            return
        self._closed = True
        if cancel:
            for job in self._running.values():
                job.cancel()
        while self._running:
            self._serve(None)
        self._warm.close()
        self._strays.close()
        self._selector.close()
        self._selector = None  # type: ignore[assignment]
        self._wake.close()


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                members.append(process)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def terminate_process_group(pgid: int, grace: float, attempt_dir: str | None = None) -> bool:
    """End what is left of a process group, e.g. a dead coordinator's attempt found on resume.

    Sends SIGTERM, waits up to ``grace`` seconds for the group to disappear, then SIGKILL.
    With ``attempt_dir``, the group is only touched if one of its processes carries
    ``SWEEPLAB_ATTEMPT_DIR=attempt_dir`` in its environment — protection against a pgid that
    was reused by an unrelated program. Returns True if a live group was signalled.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    if attempt_dir is not None and not _group_runs_attempt(pgid, attempt_dir):
        logger.warning("process group %d does not run attempt %s; leaving it alone", pgid, attempt_dir)
        return False
    if not signal_group(pgid, signal.SIGTERM):
        return False
    members = _group_members(pgid)
    if grace > 0 and members:
        _, alive = psutil.wait_procs(members, timeout=grace)
        if not alive and not _group_members(pgid):
            return True
    signal_group(pgid, signal.SIGKILL)
    return True


def _group_runs_attempt(pgid: int, attempt_dir: str) -> bool:
    for process in _group_members(pgid):
        try:
            if process.environ().get(ATTEMPT_DIR_VARIABLE) == attempt_dir:
                return True
        except psutil.Error:
            continue
    return False


def terminate_attempts_under(folder: str, grace: float) -> int:
    """End every process group running an attempt inside ``folder`` (found by its environment).

    For attempts whose start never reached the journal (their coordinator died within
    milliseconds of starting them). Only call it while holding the sweep's lock: no live
    coordinator can own those processes then. Returns how many groups were ended.
    """
    prefix = folder.rstrip(os.sep) + os.sep
    groups: dict[int, str] = {}
    me = os.getpid()
    for process in psutil.process_iter():
        try:
            if process.pid == me:
                continue
            attempt_dir = process.environ().get(ATTEMPT_DIR_VARIABLE, "")
            if attempt_dir.startswith(prefix):
                groups.setdefault(os.getpgid(process.pid), attempt_dir)
        except (ProcessLookupError, psutil.Error):
            continue
    return sum(terminate_process_group(pgid, grace, attempt_dir) for pgid, attempt_dir in groups.items())
