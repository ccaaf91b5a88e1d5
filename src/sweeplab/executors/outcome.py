"""One attempt's process from start to :class:`~sweeplab.trial.TrialResult`, on any host.

Every executor runs a :class:`~sweeplab.trial.TrialLaunch` the same way, so this module holds
the parts they share:

* reading what a finished trial left behind (``metrics.json`` or its last JSON line on stdout,
  the tail of stderr) and classifying how it ended (:func:`build_result`);
* starting the process in its own process group with its memory grant
  (:func:`start_process`) and ending the whole group (:func:`signal_group`);
* :class:`AttemptProcess`, one running attempt with its deadlines (timeout, then SIGKILL after
  the grace period, an RSS watchdog when a memory grant is set);
* :func:`run_attempt`, which runs a launch to completion in the calling thread — what a remote
  (Dask) worker does.

The local executor multiplexes many :class:`AttemptProcess` objects with one selector; the
attempt itself never sleeps or polls to notice that its process ended (it exposes a pidfd).
"""

from __future__ import annotations

import enum
import json
import logging
import math
import numbers
import os
import resource
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..errors import ExecutorError
from ..trial import TrialLaunch, TrialResult, TrialStatus

__all__ = [
    "EndReason",
    "AttemptProcess",
    "build_result",
    "child_env",
    "classify",
    "numeric_metrics",
    "read_metrics",
    "result_without_process",
    "run_attempt",
    "signal_group",
    "start_failure_result",
    "start_process",
    "stderr_tail",
    "tree_rss",
    "utc_iso",
]

logger = logging.getLogger(__name__)

STDOUT_NAME = "stdout.txt"
STDERR_NAME = "stderr.txt"
METRICS_NAME = "metrics.json"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
#: how often the RSS watchdog looks at a trial that has a memory grant (seconds)
WATCHDOG_INTERVAL = 0.25
#: the exit code a trial uses to say "my config is invalid; retrying cannot help"
INVALID_CONFIG_EXIT = 2
# signals an allocator failure or the kernel's OOM killer typically end a process with
_MEMORY_SIGNALS = frozenset({signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS})
_MEMORY_MARKERS = ("memoryerror", "cannot allocate memory", "std::bad_alloc", "out of memory")
_STDOUT_SCAN_BYTES = 256 * 1024
_STDERR_SCAN_BYTES = 16 * 1024


class EndReason(str, enum.Enum):
    """Why *we* ended an attempt (None when it ended on its own)."""

    TIMEOUT = "timeout"
    CANCEL = "cancel"
    MEMORY = "memory"


# --------------------------------------------------------------------------- what it left behind


def utc_iso(epoch: float) -> str:
    """``epoch`` seconds as an ISO 8601 UTC timestamp (``2026-01-31T12:00:00.123456+00:00``)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()


def numeric_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    """Keep the finite numbers of ``values``; bools become 0/1, everything else is dropped.

    >>> numeric_metrics({"loss": 0.5, "ok": True, "name": "x", "nested": {"a": 1}, "bad": float("nan")})
    {'loss': 0.5, 'ok': 1}
    """
    kept: dict[str, float] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            kept[str(name)] = int(value)
        elif isinstance(value, numbers.Integral):
            kept[str(name)] = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(float(value)):
            kept[str(name)] = float(value)
    return kept


def _read_tail(path: str | os.PathLike[str], max_bytes: int) -> str:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return ""
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            os.lseek(fd, size - max_bytes, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, max_bytes):
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def _last_json_object(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def read_metrics(attempt_dir: str | os.PathLike[str]) -> dict[str, float]:
    """The numbers a trial reported: ``metrics.json`` if it wrote one, else its last JSON stdout line."""
    folder = os.fspath(attempt_dir)
    metrics_file = os.path.join(folder, METRICS_NAME)
    text = None
    try:
        fd = os.open(metrics_file, os.O_RDONLY | os.O_CLOEXEC)  # most trials write none: fail cheaply
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("ignoring unreadable %s: %s", metrics_file, exc)
    else:
        try:
            with open(fd, encoding="utf-8", closefd=True) as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("ignoring unreadable %s: %s", metrics_file, exc)
    if text is not None:
        try:
            value = json.loads(text)
        except ValueError as exc:
            logger.warning("ignoring unreadable %s: %s", metrics_file, exc)
        else:
            if isinstance(value, dict):
                return numeric_metrics(value)
            logger.warning("ignoring %s: expected a JSON object, got %s", metrics_file, type(value).__name__)
    found = _last_json_object(_read_tail(os.path.join(folder, STDOUT_NAME), _STDOUT_SCAN_BYTES))
    return numeric_metrics(found) if found else {}


def stderr_tail(path: str | os.PathLike[str], lines: int = 20, max_chars: int = 2000) -> str:
    """The last ``lines`` lines of a stderr file, at most ``max_chars`` characters (the end kept)."""
    text = "\n".join(_read_tail(path, _STDERR_SCAN_BYTES).rstrip().splitlines()[-lines:])
    return text[-max_chars:]


# --------------------------------------------------------------------------- how it ended


def _format_gb(nbytes: int) -> str:
    return f"{nbytes / 1024**3:.3g} GB"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _looks_like_memory_failure(returncode: int, stderr_text: str) -> bool:
    if returncode < 0 and -returncode in _MEMORY_SIGNALS:
        return True
    lowered = stderr_text.lower()
    return any(marker in lowered for marker in _MEMORY_MARKERS)


def classify(launch: TrialLaunch, returncode: int, ended_by: EndReason | None,
             stderr_text: str) -> tuple[TrialStatus, str, bool]:
    """Status, error text and ``invalid_config`` for an attempt that exited with ``returncode``.

    ``returncode`` follows :mod:`subprocess`: negative means killed by that signal. What we did
    to the process (``ended_by``) wins over how it exited.
    """
    tail = "\n".join(stderr_text.rstrip().splitlines()[-20:])[-2000:]
    if ended_by is EndReason.TIMEOUT:
        return TrialStatus.TIMEOUT, f"exceeded the timeout of {launch.timeout:g} s", False
    if ended_by is EndReason.CANCEL:
        return TrialStatus.CANCELLED, "cancelled", False
    if ended_by is EndReason.MEMORY and launch.memory_bytes:
        return (TrialStatus.CRASHED,
                f"exceeded its memory limit of {_format_gb(launch.memory_bytes)} (resident memory)", False)
    if returncode == 0:
        return TrialStatus.COMPLETED, "", False
    if launch.memory_bytes and _looks_like_memory_failure(returncode, stderr_text):
        message = f"exceeded its memory limit of {_format_gb(launch.memory_bytes)}"
        return TrialStatus.CRASHED, f"{message}\n{tail}" if tail else message, False
    if returncode < 0:
        message = f"killed by {_signal_name(-returncode)}"
        return TrialStatus.CRASHED, f"{message}\n{tail}" if tail else message, False
    if returncode == INVALID_CONFIG_EXIT:
        return TrialStatus.FAILED, f"invalid config: {tail}" if tail else "invalid config", True
    return TrialStatus.FAILED, tail or f"exited with code {returncode}", False


_HOST = socket.gethostname()


def build_result(launch: TrialLaunch, *, returncode: int, ended_by: EndReason | None,
                 started: float, ended: float, duration: float, pid: int | None) -> TrialResult:
    """The :class:`TrialResult` of a finished attempt, from its files in ``launch.attempt_dir``.

    ``started``/``ended`` are epoch seconds; ``duration`` is measured on a monotonic clock.
    """
    folder = launch.attempt_dir
    # a clean exit needs no stderr: skip the read, it is paid once per trial
    clean = returncode == 0 and ended_by is None
    stderr_text = "" if clean else _read_tail(os.path.join(folder, STDERR_NAME), _STDERR_SCAN_BYTES)
    status, error, invalid = classify(launch, returncode, ended_by, stderr_text)
    return TrialResult(
        key=launch.key, attempt=launch.attempt, status=status, metrics=read_metrics(folder),
        start_time=utc_iso(started), end_time=utc_iso(ended), duration=round(duration, 6),
        exit_code=returncode, error=error, host=_HOST, attempt_dir=launch.attempt_dir,
        pid=pid, invalid_config=invalid,
    )


def result_without_process(launch: TrialLaunch, status: TrialStatus, error: str, *,
                           invalid_config: bool = False) -> TrialResult:
    """The result of an attempt that has no process outcome to read (never started, or lost)."""
    now = utc_iso(time.time())
    return TrialResult(key=launch.key, attempt=launch.attempt, status=status, start_time=now, end_time=now,
                       error=error, host=_HOST, attempt_dir=launch.attempt_dir, invalid_config=invalid_config)


def start_failure_result(launch: TrialLaunch, exc: OSError) -> TrialResult:
    """The result of an attempt whose process could not even start (missing program, bad cwd)."""
    program = launch.argv[0] if launch.argv else "(empty argv)"
    return result_without_process(launch, TrialStatus.FAILED, f"could not start {program!r}: {exc}",
                                  invalid_config=True)


# --------------------------------------------------------------------------- process control


def child_env(launch: TrialLaunch, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the trial: ``base`` (default: ours) + ``launch.env`` + thread caps."""
    env = dict(os.environ if base is None else base)
    env.update(launch.env)
    threads = str(max(1, launch.cpu_threads))
    for name in THREAD_VARIABLES:
        env[name] = threads
    env["SWEEPLAB_ATTEMPT_DIR"] = launch.attempt_dir
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
_OUT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


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
    with open(os.path.join(folder, STDOUT_NAME), "wb") as out, open(os.path.join(folder, STDERR_NAME), "wb") as err:
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
        self.launch = launch
        self.started = time.time()
        self._started_mono = time.monotonic()
        self.process = start_process(launch, environ)
        self.pid = self.process.pid
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except OSError as exc:  # kernel without pidfds (< 5.3): do not leave the process behind
            signal_group(self.pid, signal.SIGKILL)
            self.process.wait()
            raise ExecutorError(f"cannot track pid {self.pid} of trial {launch.key}: {exc}") from exc
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
        if self.ended_by is None:
            self.ended_by = reason
        self._term_at = None
        grace = self.launch.grace if grace is None else grace
        if grace <= 0:
            self._kill_now()
            return
        signal_group(self.pgid, signal.SIGTERM)
        kill_at = time.monotonic() + grace
        self._kill_at = kill_at if self._kill_at is None else min(self._kill_at, kill_at)

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
            rss = tree_rss(self.pid)
            if limit and rss > limit:
                logger.info("trial %s attempt %d uses %d bytes, over its grant of %d: killing it",
                            self.launch.key, self.launch.attempt, rss, limit)
                self.terminate(EndReason.MEMORY, grace=0)

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
                poll: float = 0.25) -> TrialResult:
    """Run ``launch`` to completion in this thread and return how it ended.

    Enforces the timeout (SIGTERM to the group, SIGKILL after ``launch.grace``) and the memory
    grant (rlimits plus the RSS watchdog). ``should_cancel``, asked every ``poll`` seconds, ends
    the attempt as ``cancelled`` when it returns true (how a remote coordinator cancels). Meant
    for remote workers; a process that cannot start gives a ``failed`` result rather than an
    exception.
    """
    try:
        attempt = AttemptProcess(launch)
    except OSError as exc:
        return start_failure_result(launch, exc)
    with selectors.DefaultSelector() as selector:
        selector.register(attempt.fileno(), selectors.EVENT_READ)
        try:
            while True:
                deadline = attempt.next_deadline()
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                if should_cancel is not None:
                    wait = poll if wait is None else min(wait, poll)
                if selector.select(wait):
                    break
                if should_cancel is not None and attempt.ended_by is None and should_cancel():
                    attempt.terminate(EndReason.CANCEL)
                attempt.service(time.monotonic())
        except BaseException:
            # interrupted (KeyboardInterrupt, a worker shutting down): leave nothing running
            attempt.terminate(EndReason.CANCEL, grace=0)
            attempt.finish()
            raise
    return attempt.finish()
