"""What runs on a Dask worker for one attempt (the task of :mod:`sweeplab.executors.dask`), and the
files of the attempt folder it shares with the coordinator.

:func:`run_on_worker` claims the folder (:data:`~sweeplab.executors.base.CLAIM_NAME`, whose first line
also carries the random part of the attempt's cancel-event name), runs the attempt with
:func:`~sweeplab.executors.attempt.run_attempt` (a python-runner attempt with warm-worker isolation
in a process forked from a warm worker of this Dask worker process), and stores the result as the
claim's second line. The coordinator cancels through a mark file
(:data:`CANCEL_MARK_NAME`, looked at before the trial starts) and a :class:`distributed.Event` (asked
every :data:`CANCEL_POLL` seconds once the trial has run that long).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import socket
import time
from typing import Any

from ..trial import TrialLaunch, TrialResult, TrialStatus
from .attempt import run_attempt
from .base import CLAIM_NAME
from .outcome import result_without_process
from .reaper import end_processes_of
from .warm import WarmAttempt, dask_worker_pool, warm_function

__all__ = ["CANCEL_MARK_NAME", "CANCEL_POLL", "cancel_event_name", "mark_cancelled", "run_on_worker", "stored_result"]

logger = logging.getLogger(__name__)

#: how often a running task asks whether its attempt was cancelled (seconds)
CANCEL_POLL = 0.25
#: the file in an attempt folder that tells the task the coordinator cancelled the attempt
CANCEL_MARK_NAME = ".sweeplab-cancelled"


def cancel_event_name(attempt_dir: str, cancel_id: str | None = None) -> str:
    """The :class:`distributed.Event` that cancels the attempt writing into ``attempt_dir``.

    Derived from the folder and a random id the submission chose (``cancel_id``; when not given, read
    from the claim of the task that runs the attempt, which writes it there), so that a coordinator
    resuming after a crash can cancel attempts that its dead predecessor submitted, and an event set for
    an earlier attempt in a folder of the same path (a sweep deleted and run again) never cancels a new
    one: events need no clearing per submission, which cost a round trip to the scheduler for every trial.
    """
    if cancel_id is None:
        cancel_id = _claimed_cancel_id(attempt_dir)
    return "sweeplab-cancel-" + hashlib.sha256(f"{attempt_dir}\0{cancel_id}".encode()).hexdigest()[:32]


def _claimed_cancel_id(attempt_dir: str) -> str:
    """The cancel id in the folder's claim ("" without a claim: the task has not started)."""
    try:
        with open(os.path.join(attempt_dir, CLAIM_NAME), encoding="utf-8") as handle:
            words = handle.readline().split()
    except (OSError, ValueError):
        return ""
    return next((word[len("cancel="):] for word in words if word.startswith("cancel=")), "")


def mark_cancelled(attempt_dir: str) -> None:
    """Write the cancel mark (:data:`CANCEL_MARK_NAME`); a folder that is gone needs none."""
    try:
        os.close(os.open(os.path.join(attempt_dir, CANCEL_MARK_NAME), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    except OSError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _claim(attempt_dir: str, cancel_id: str) -> int | None:
    """Claim the attempt folder for this run; returns the claim file, open, for the result to follow
    (:func:`_store_result`), or None if a run claimed the folder before (a task run again).

    The claim's first line names the attempt's cancel id, which a resuming coordinator reads
    (:func:`cancel_event_name`).
    """
    try:
        fd = os.open(os.path.join(attempt_dir, CLAIM_NAME), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return None
    try:
        _write_all(fd, f"pid={os.getpid()} host={socket.gethostname()} cancel={cancel_id}\n".encode())
    except BaseException:
        os.close(fd)
        raise
    return fd


def _store_result(claim: int, result: TrialResult) -> None:
    """Keep the result in the claim file, as its second line, for the coordinator and a rerun of this task.

    One write of one line: a reader takes it only whole (ending in a newline) and the coordinator reads
    it only once the task has ended. The claim file being open already, this costs no file creation.
    """
    # the fields as they are (json copies nothing): dataclasses.asdict would deep-copy the metrics first
    record = {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}
    record["status"] = result.status.value
    try:
        _write_all(claim, (json.dumps(record) + "\n").encode())
    except OSError as exc:  # the result still reaches the coordinator as the task's value
        logger.warning("cannot store the result of attempt %s: %s", result.attempt_dir, exc)
    finally:
        os.close(claim)


def stored_result(launch: TrialLaunch) -> TrialResult | None:
    """The result the run of ``launch``'s task stored (None while it runs, or if it never ended)."""
    try:
        with open(os.path.join(launch.attempt_dir, CLAIM_NAME), encoding="utf-8") as handle:
            text = handle.read()
        _, _, line = text.partition("\n")
        if not line.endswith("\n"):
            return None
        record = json.loads(line)
        return TrialResult(**dict(record, status=TrialStatus(record["status"])))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _run_again(launch: TrialLaunch) -> TrialResult:
    """A task the cluster runs a second time, because the worker that ran it died: the folder is
    one-shot. The result the first run stored is its value; without one, the first run never ended,
    and this attempt is lost (sweeplab's retry makes a new attempt in a new folder)."""
    stored = stored_result(launch)
    if stored is not None:
        return stored
    # the first run's trial, orphaned by its dead worker, may still run here: it must not run on
    end_processes_of(launch.attempt_dir)
    return result_without_process(
        launch, TrialStatus.CRASHED,
        f"the Dask worker running this attempt was lost before it ended; the attempt is not run again in its "
        f"folder {launch.attempt_dir} (a retry is a new attempt)")


class _CancelWatch:
    """``should_cancel`` of a running task: the cancel mark in the attempt folder, and once the trial
    has run :data:`CANCEL_POLL` seconds, the cancel event (made then: a short trial never asks the
    scheduler anything)."""

    def __init__(self, attempt_dir: str, event_name: str) -> None:
        self._mark = os.path.join(attempt_dir, CANCEL_MARK_NAME)
        self._event_name = event_name
        self._event: Any = None
        self._event_from = time.monotonic() + CANCEL_POLL

    def __call__(self) -> bool:
        if os.path.exists(self._mark):
            return True
        if self._event is None:
            if time.monotonic() < self._event_from:
                return False
            from distributed import Event

            self._event = Event(self._event_name)
        return bool(self._event.is_set())


def run_on_worker(launch: TrialLaunch, cancel_id: str) -> TrialResult:
    """The task: run the attempt on this worker, ending it if the coordinator cancels it."""
    if os.path.exists(os.path.join(launch.attempt_dir, CANCEL_MARK_NAME)):  # cancelled while it waited
        return result_without_process(launch, TrialStatus.CANCELLED, "cancelled")
    if not os.path.isdir(launch.attempt_dir):  # the coordinator made it: this worker does not see its files
        return result_without_process(
            launch, TrialStatus.FAILED,
            f"the attempt folder {launch.attempt_dir} does not exist on Dask worker {socket.gethostname()}: the "
            "sweep folder must be on a file system that the coordinator and every worker share (choose it with "
            "--output)", invalid_config=True)
    claim = _claim(launch.attempt_dir, cancel_id)
    if claim is None:
        return _run_again(launch)
    function = warm_function(launch)
    pool = dask_worker_pool() if function is not None else None
    start = None if pool is None else (lambda launch: WarmAttempt(launch, pool, function))
    watch = _CancelWatch(launch.attempt_dir, cancel_event_name(launch.attempt_dir, cancel_id))
    try:
        result = run_attempt(launch, should_cancel=watch, poll=CANCEL_POLL, start=start)
    except BaseException:
        os.close(claim)
        raise
    _store_result(claim, result)
    return result
