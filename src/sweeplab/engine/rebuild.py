"""A journal lost under a sweep folder: rebuilt from the folder's own records before anything runs.

When the database was deleted, replaced or truncated to nothing while the sweep folder lives on,
the journal holds no row of the sweep, but ``events.jsonl`` still says which attempts completed:
a ``finished`` line is written only after its attempt was committed to the journal. Each such
attempt's folder still holds what it left behind (its metrics, and its ``experiment.db``), so it
is journaled again exactly as it was first: its rows merged with its ``completed`` mark, in one
transaction. Those trials are then skipped like any completed trial, instead of running again
unnoticed. An attempt whose folder is gone, or whose rows can no longer be merged, is not
restored: that trial runs again, and the note says how many did.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from ..executors.outcome import read_reported
from ..journal.writer import AttemptEnd, AttemptStart
from ..trial import TrialResult, TrialStatus
from .staging import trial_folders

if TYPE_CHECKING:
    from pathlib import Path

    from ..journal.writer import Journal
    from ..planning.plan import Plan
    from ..planning.resolve import ResolvedSweep

__all__ = ["rebuild_lost_journal", "completed_in_events"]

log = logging.getLogger(__name__)


def _event_lines(path: Path) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:  # a line cut short by a full disk
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def completed_in_events(path: Path) -> dict[str, dict[str, Any]]:
    """key → {attempt, start, end, duration} of every attempt ``events.jsonl`` reports as completed."""
    started: dict[tuple[str, int], str] = {}
    completed: dict[str, dict[str, Any]] = {}
    for event in _event_lines(path):
        key, attempt = event.get("key"), event.get("attempt")
        if not isinstance(key, str) or not isinstance(attempt, int):
            continue
        if event.get("event") == "started":
            started[(key, attempt)] = str(event.get("time", ""))
        elif event.get("event") == "finished" and event.get("status") == TrialStatus.COMPLETED.value:
            end = str(event.get("time", ""))
            completed[key] = {"attempt": attempt, "start": started.get((key, attempt), end), "end": end,
                              "duration": float(event.get("duration") or 0.0)}
    return completed


def rebuild_lost_journal(sweep: ResolvedSweep, plan: Plan, journal: Journal, host: str) -> list[str]:
    """Journal again the completed attempts the sweep folder records; returns notes for the user.

    Call it only when the journal has no row of the sweep (before the sweep is saved).
    """
    sweep_dir = sweep.sweep_dir.resolve()
    completed = completed_in_events(sweep_dir / "events.jsonl")
    if not completed:
        return []
    positions = {key: position for position, key in plan.keys() if key in completed}
    restored = missing = 0
    folders = trial_folders(os.path.join(sweep_dir, "trials"))  # readable names hold their key inside
    for key, record in completed.items():
        attempt_dir = os.path.join(folders.get(key, os.path.join(sweep_dir, "trials", key)),
                                   f"attempt-{record['attempt']}")
        if key not in positions or not os.path.isdir(attempt_dir):
            missing += 1
            continue
        trial = plan[positions[key]]
        metrics, extra = read_reported(attempt_dir)
        result = TrialResult(key=key, attempt=record["attempt"], status=TrialStatus.COMPLETED,
                             metrics=metrics, extra=extra, start_time=record["start"], end_time=record["end"],
                             duration=record["duration"], exit_code=0, host=host, attempt_dir=attempt_dir)
        start = AttemptStart(trial, record["attempt"], attempt_dir, host, record["start"])
        refused = journal.record(sweep.sweep_id, starts=[start], ends=[
            AttemptEnd(result, final=True, merge_db=os.path.join(attempt_dir, "experiment.db"))])
        if refused:
            missing += 1
        else:
            restored += 1
    note = (f"the journal of sweep '{sweep.sweep_id}' was missing from the database '{sweep.db_path}' (deleted, "
            f"replaced or emptied?): {restored} completed trial(s) were restored from the records of the sweep "
            f"folder '{sweep_dir}' (events.jsonl and their attempt folders, experiment rows included)")
    if missing:
        note += f"; {missing} completed trial(s) could not be restored and run again"
    log.warning("%s", note)
    return [note]
