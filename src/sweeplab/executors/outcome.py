"""What a finished attempt left behind, read into a :class:`~sweeplab.trial.TrialResult`, on any host.

Every executor reads an ended attempt the same way: the numbers it reported (``metrics.json``,
else the last JSON line of its stdout, see :func:`read_metrics`), the tail of its stderr, and
how it ended (:func:`classify`: its exit code, and :class:`EndReason` when *we* ended it). The
result of an attempt that never had a process (could not start, cancelled before it started,
lost by a cluster) is built here too (:func:`result_without_process`).

Nothing here starts, signals or waits for a process: that is :mod:`sweeplab.executors.attempt`,
which calls :func:`build_result` once its process has been reaped. Everything here may run on
the coordinator's host or on a remote worker, reading the attempt folder's files; it never
writes them.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import signal
import socket
import time
from datetime import datetime, timezone
from typing import Any

from ..trial import TrialLaunch, TrialResult, TrialStatus, split_reported
from .base import METRICS_NAME, STDERR_NAME, STDOUT_NAME

__all__ = [
    "INVALID_CONFIG_EXIT",
    "METRICS_NAME",
    "STDERR_NAME",
    "STDOUT_NAME",
    "EndReason",
    "build_result",
    "classify",
    "read_metrics",
    "read_reported",
    "result_without_process",
    "start_failure_result",
    "stderr_tail",
    "utc_iso",
]

logger = logging.getLogger(__name__)

#: the exit code a trial uses to say "my config is invalid; retrying cannot help"
INVALID_CONFIG_EXIT = 2
# signals an allocator failure or the kernel's OOM killer typically end a process with
_MEMORY_SIGNALS = frozenset({signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS})
_MEMORY_MARKERS = ("memoryerror", "cannot allocate memory", "std::bad_alloc", "out of memory")
_STDOUT_SCAN_BYTES = 256 * 1024
_STDERR_SCAN_BYTES = 16 * 1024


class EndReason(str, enum.Enum):
    """Why *we* ended an attempt (None when it ended on its own).

    Set by :class:`~sweeplab.executors.attempt.AttemptProcess` when it signals the process group;
    defined here because it decides the result (:func:`classify`): what we did to a process wins
    over how it exited.
    """

    TIMEOUT = "timeout"
    CANCEL = "cancel"
    MEMORY = "memory"


# --------------------------------------------------------------------------- what it left behind


def utc_iso(epoch: float) -> str:
    """``epoch`` seconds as an ISO 8601 UTC timestamp (``2026-01-31T12:00:00.123456+00:00``)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()


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


def read_reported(attempt_dir: str | os.PathLike[str]) -> tuple[dict[str, float], dict[str, Any]]:
    """What a trial reported, split as the journal keeps it (:func:`~sweeplab.trial.split_reported`):
    its finite numbers, and every other value (non-finite numbers as "nan"/"inf"/"-inf", text, lists).

    Read from ``metrics.json`` if it wrote one (NaN and Infinity spelled as Python's json writes them
    are accepted), else from the last line of its stdout that is a JSON object.
    """
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
                return split_reported(value)
            logger.warning("ignoring %s: expected a JSON object, got %s", metrics_file, type(value).__name__)
    found = _last_json_object(_read_tail(os.path.join(folder, STDOUT_NAME), _STDOUT_SCAN_BYTES))
    return split_reported(found) if found else ({}, {})


def read_metrics(attempt_dir: str | os.PathLike[str]) -> dict[str, float]:
    """The finite numbers a trial reported (see :func:`read_reported`, which keeps the other values too)."""
    return read_reported(attempt_dir)[0]


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
    metrics, extra = read_reported(folder)
    return TrialResult(
        key=launch.key, attempt=launch.attempt, status=status, metrics=metrics, extra=extra,
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
