"""One attempt's process, from its start to its reaping, on any host.

Every executor runs a :class:`~sweeplab.trial.TrialLaunch` the same way, so this module holds
the process control they share:

* starting the process in its own process group with its environment and memory grant
  (:func:`child_env`, :func:`start_process`) and ending the whole group (:func:`signal_group`);
* :class:`AttemptProcess`, one running attempt with its deadlines (timeout, then SIGKILL after
  the grace period, an RSS watchdog over :func:`tree_rss` when a memory grant is set), reaped
  once its process exits;
* :func:`run_attempt`, which runs a launch to completion in the calling thread — what a remote
  (Dask) worker does.

The local executor multiplexes many :class:`AttemptProcess` objects with one selector; the
attempt itself never sleeps or polls to notice that its process ended (it exposes a pidfd).
Reading what the ended attempt left behind is :mod:`sweeplab.executors.outcome`.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Mapping

from ..errors import ExecutorError
from ..trial import TrialLaunch, TrialResult
from .base import ATTEMPT_DIR_VARIABLE, STDERR_NAME, STDOUT_NAME
from .outcome import EndReason, build_result, start_failure_result
from .reaper import NARROW_SCAN_SECONDS, end_processes_of

__all__ = [
    "AttemptProcess",
    "child_env",
    "run_attempt",
    "signal_group",
    "start_process",
    "tree_rss",
]

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
#: how often the RSS watchdog looks at a trial that has a memory grant (seconds)
WATCHDOG_INTERVAL = 0.25


def child_env(launch: TrialLaunch, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the trial: ``base`` (default: ours) + ``launch.env`` + thread caps."""
    env = dict(os.environ if base is None else base)
    env.update(launch.env)
    threads = str(max(1, launch.cpu_threads))
    for name in THREAD_VARIABLES:
        env[name] = threads
    env[ATTEMPT_DIR_VARIABLE] = launch.attempt_dir
    return env


def _memory_limiter(nbytes: int) -> Callable[[], None]:
    # computed in the parent so the child only makes two system calls between fork and exec
    limits = []
    for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        _, hard = resource.getrlimit(which)
        cap = nbytes if hard == resource.RLIM_INFINITY else min(nbytes, hard)
        limits.append((which, (cap, cap)))

    def apply() -> None:
        for which, pair in limits:
            resource.setrlimit(which, pair)

    return apply


class _Child:
    """The started process: its pid and a way to collect its exit code (see :func:`start_process`)."""

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self._popen = popen

    def wait(self) -> int:
        """Reap the process; the exit code as :mod:`subprocess` reports it (negative: killed by that signal)."""
        if self._popen is not None:
            return self._popen.wait()
        while True:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:  # reaped by someone else: with SIGCHLD ignored, the kernel does
                logger.warning("the exit status of pid %d is lost (is SIGCHLD ignored in this process?); "
                               "counting the attempt as killed", self.pid)
                return -signal.SIGKILL
            except InterruptedError:
                continue
            return os.waitstatus_to_exitcode(status)


_RESET_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))
# no O_CLOEXEC: these become the child's stdout and stderr across exec
_OUT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW  # never written through a link


def _inheritable_descriptors() -> list[int]:
    """Our descriptors above 2 that a child would inherit (Python makes none unless asked; others may)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    found.append(fd)
            except OSError:  # the listing's own descriptor, closed by now
                continue
    return found


def start_process(launch: TrialLaunch, environ: Mapping[str, str] | None = None) -> _Child:
    """Start ``launch.argv`` (no shell) in a new session, output to the attempt folder.

    The process is the leader of its own process group (pgid == pid), so the whole trial —
    children and grandchildren included — can be signalled at once. Without a memory grant the
    process is created by ``posix_spawn`` (a vfork that runs nothing of ours before exec, and
    opens the output files in the child), the cheapest start there is; with one (unless it is
    ``resident_only``), RLIMIT_AS and RLIMIT_DATA are set in the child between fork and exec, which
    needs :class:`subprocess.Popen`. The RSS watchdog holds every memory grant.
    """
    folder = launch.attempt_dir
    env = child_env(launch, environ)
    argv = list(launch.argv)
    caps_address_space = bool(launch.memory_bytes) and not launch.resident_only
    if not caps_address_space and (launch.cwd is None or launch.cwd == os.getcwd()):
        try:
            # As subprocess does: what Python ignores for itself (SIGPIPE, SIGXFSZ) is back to its
            # default in the trial, and no descriptor of ours beyond 0-2 is passed on.
            return _Child(os.posix_spawnp(argv[0], argv, env, setsid=True, setsigdef=_RESET_SIGNALS, file_actions=[
                *((os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_descriptors()),
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.path.join(folder, STDOUT_NAME), _OUT_FLAGS, 0o644),
                (os.POSIX_SPAWN_OPEN, 2, os.path.join(folder, STDERR_NAME), _OUT_FLAGS, 0o644),
            ]))
        except FileNotFoundError:
            if os.path.isdir(folder):
                raise  # the program itself is missing
            os.makedirs(folder, exist_ok=True)  # the coordinator normally made it
            return start_process(launch, environ)
    os.makedirs(folder, exist_ok=True)

    def output(name: str) -> int:
        return os.open(os.path.join(folder, name), _OUT_FLAGS | os.O_CLOEXEC, 0o644)

    with open(output(STDOUT_NAME), "wb") as out, open(output(STDERR_NAME), "wb") as err:
        popen = subprocess.Popen(
            argv, cwd=launch.cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
            preexec_fn=_memory_limiter(launch.memory_bytes) if caps_address_space else None,
        )
    return _Child(popen.pid, popen)


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to process group ``pgid``; False when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        logger.warning("not allowed to signal process group %d", pgid)
        return False
    return True


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants; 0 when it is gone."""
    import psutil  # lazy: only attempts with a memory grant need it

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


class AttemptProcess:
    """One started attempt: its process, its pidfd, its deadlines and why we ended it.

    Drive it with :meth:`next_deadline` / :meth:`service` while waiting for :meth:`fileno` to
    become readable (the process exited), then call :meth:`finish` exactly once.
    """

    def __init__(self, launch: TrialLaunch, environ: Mapping[str, str] | None = None) -> None:
        self._begin(launch)
        self.process = start_process(launch, environ)
        self.pid = self.process.pid
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except OSError as exc:  # kernel without pidfds (< 5.3): do not leave the process behind
            signal_group(self.pid, signal.SIGKILL)
            self.process.wait()
            raise ExecutorError(f"cannot track pid {self.pid} of trial {launch.key}: {exc}") from exc

    def _begin(self, launch: TrialLaunch) -> None:
        """The attempt's clock and deadlines, set just before its process starts (by whatever starts it)."""
        self.launch = launch
        self.started = time.time()
        self._started_mono = time.monotonic()
        self.ended_by: EndReason | None = None
        self._term_at = None if launch.timeout is None else self._started_mono + launch.timeout
        self._kill_at: float | None = None
        self._watch_at = self._started_mono + WATCHDOG_INTERVAL if launch.memory_bytes else None
        self.returncode: int | None = None  # set by reap()
        self.duration = 0.0
        self.result: TrialResult | None = None

    @property
    def pgid(self) -> int:
        """The trial's process group (the leader is the process we started)."""
        return self.pid

    def fileno(self) -> int:
        """A pidfd that becomes readable when the process exits (for selectors)."""
        return self._pidfd

    def ended_unreaped(self) -> bool:
        """True when the end is known but nothing will wake a selector for it (never, for a process's pidfd)."""
        return False

    def exited(self) -> bool:
        """True once the main process has exited (it stays a zombie until :meth:`finish`)."""
        if self.returncode is not None:
            return True
        info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return info is not None

    def next_deadline(self) -> float | None:
        """The next monotonic time at which :meth:`service` has something to do."""
        times = [t for t in (self._term_at, self._kill_at, self._watch_at) if t is not None]
        return min(times) if times else None

    def terminate(self, reason: EndReason, grace: float | None = None) -> None:
        """End the attempt: SIGTERM to its group now, SIGKILL after ``grace`` (default: the launch's).

        The first reason given is the one the result reports. An attempt whose process has
        already exited is left alone.
        """
        if self.exited():
            return  # it ended on its own first: report that, not our reason
        if self._schedule_end(reason, grace):
            signal_group(self.pgid, signal.SIGTERM)

    def _schedule_end(self, reason: EndReason, grace: float | None) -> bool:
        """Keep the first reason and set the SIGKILL deadline ``grace`` seconds on (default: the launch's).

        False when there is no grace: the attempt was killed at once and needs no SIGTERM.
        """
        if self.ended_by is None:
            self.ended_by = reason
        self._term_at = None
        grace = self.launch.grace if grace is None else grace
        if grace <= 0:
            self._kill_now()
            return False
        kill_at = time.monotonic() + grace
        self._kill_at = kill_at if self._kill_at is None else min(self._kill_at, kill_at)
        return True

    def _kill_now(self) -> None:
        signal_group(self.pgid, signal.SIGKILL)
        self._kill_at = None
        self._watch_at = None

    def service(self, now: float) -> None:
        """Act on deadlines that have passed: timeout, SIGKILL after grace, the RSS watchdog."""
        if self.returncode is not None:
            return
        if self._term_at is not None and now >= self._term_at:
            logger.info("trial %s attempt %d exceeded its timeout of %gs", self.launch.key,
                        self.launch.attempt, self.launch.timeout)
            self.terminate(EndReason.TIMEOUT)
        if self._kill_at is not None and now >= self._kill_at:
            self._kill_now()
        if self._watch_at is not None and now >= self._watch_at:
            self._watch_at = now + WATCHDOG_INTERVAL
            limit = self.launch.memory_bytes or 0
            rss = self._rss()
            if limit and rss > limit:
                logger.info("trial %s attempt %d uses %d bytes, over its grant of %d: killing it",
                            self.launch.key, self.launch.attempt, rss, limit)
                self.terminate(EndReason.MEMORY, grace=0)

    def _rss(self) -> int:
        """Resident memory of the attempt's process tree (what the watchdog holds to the grant)."""
        return tree_rss(self.pid)

    def reap(self) -> None:
        """Kill what is left of the group and collect the exit code, once the process has exited.

        Cheap on purpose: an executor calls it the moment the pidfd fires and starts the next
        trial before it reads what this one left behind (:meth:`finish`). Idempotent.
        """
        if self.returncode is not None:
            return
        # The leader is still a zombie here, so its pid (= the pgid) cannot have been reused.
        signal_group(self.pgid, signal.SIGKILL)
        self.returncode = self.process.wait()
        self.duration = time.monotonic() - self._started_mono
        os.close(self._pidfd)

    def finish(self) -> TrialResult:
        """Reap the process (if not done yet) and build the result from its files (idempotent)."""
        if self.result is None:
            self.reap()
            assert self.returncode is not None
            self.result = build_result(self.launch, returncode=self.returncode, ended_by=self.ended_by,
                                       started=self.started, ended=self.started + self.duration,
                                       duration=self.duration, pid=self.pid)
        return self.result


def run_attempt(launch: TrialLaunch, should_cancel: Callable[[], bool] | None = None,
                poll: float = 0.25, start: Callable[[TrialLaunch], AttemptProcess] | None = None) -> TrialResult:
    """Run ``launch`` to completion in this thread and return how it ended.

    Enforces the timeout (SIGTERM to the group, SIGKILL after ``launch.grace``) and the memory
    grant (rlimits plus the RSS watchdog). ``should_cancel``, asked every ``poll`` seconds, ends
    the attempt as ``cancelled`` when it returns true (how a remote coordinator cancels). ``start``
    makes the attempt (default: a fresh process; a warm worker's attempt for python-runner launches).
    Meant for remote workers; a process that cannot start gives a ``failed`` result rather than an
    exception. What left the attempt's process group ends with it (:func:`end_processes_of`).
    """
    import select  # a poll object per attempt: no file descriptor of its own, unlike an epoll selector

    try:
        attempt = start(launch) if start is not None else AttemptProcess(launch)
    except OSError as exc:
        return start_failure_result(launch, exc)
    watcher = select.poll()
    watcher.register(attempt.fileno(), select.POLLIN)
    try:
        while not attempt.ended_unreaped():
            deadline = attempt.next_deadline()
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if should_cancel is not None:
                wait = poll if wait is None else min(wait, poll)
            if watcher.poll(None if wait is None else wait * 1000) and attempt.exited():
                break  # (a warm worker's pipe carries other news too)
            if should_cancel is not None and attempt.ended_by is None and should_cancel():
                attempt.terminate(EndReason.CANCEL)
            attempt.service(time.monotonic())
    except BaseException:
        # interrupted (KeyboardInterrupt, a worker shutting down): leave nothing running
        attempt.terminate(EndReason.CANCEL, grace=0)
        attempt.finish()
        end_processes_of(launch.attempt_dir)
        raise
    result = attempt.finish()
    # what left the process group (setsid) ends with it too; a short attempt's strays are among the
    # processes started after its own
    narrow = attempt.pid is not None and attempt.duration <= NARROW_SCAN_SECONDS
    end_processes_of(launch.attempt_dir, since_pid=attempt.pid if narrow else None)
    return result
