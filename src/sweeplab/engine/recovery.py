"""What a run of a sweep takes over from earlier runs, before its first trial starts.

* :func:`recover`: attempts a dead coordinator left running are stopped and marked cancelled, so
  that they run again and are never recorded twice;
* :func:`pending`: which trials of the plan still have to run, matched to the journal's trials —
  by key, or after an allowed drift (base config or seed changed, so every key moved) by their
  parameters and replicate; journaled trials the plan no longer has become ``dropped``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..journal.reader import TrialState
from ..trial import Trial, TrialStatus, canonical_json
from .scheduler import MAX_SORTED, order_by_hints
from .staging import folder_keys

if TYPE_CHECKING:
    from ..executors.base import Executor
    from ..journal.writer import Journal
    from ..planning.plan import Plan
    from ..planning.resolve import ResolvedSweep
    from .folder import EventLog

__all__ = ["recover", "pending"]

log = logging.getLogger(__name__)

#: a trial of the plan → (the trial as journaled — its old key after a drift —, its journal state or None)
Matcher = Callable[[Trial], tuple[Trial, TrialState | None]]


def recover(sweep: ResolvedSweep, journal: Journal, events: EventLog, executor: Executor, host: str) -> None:
    """Attempts a dead coordinator left running: stop their processes, mark them cancelled.

    Only a sweep that ran before can have any: for a new one, do not call this (the search
    through every process's environment costs milliseconds on a busy machine).
    """
    from ..executors.local import terminate_attempts_under, terminate_process_group
    trials_dir = str(sweep.sweep_dir.resolve() / "trials")
    if not executor.ends_leftovers:  # tasks of the dead coordinator may still run on workers
        asked = executor.end_leftovers(_leftover_folders(sweep, journal, trials_dir))
        log.info("asked %d attempt(s) of the previous coordinator to end", asked)
    for attempt in journal.running_attempts(sweep.sweep_id):
        if attempt["host"] == host and attempt["pgid"]:
            attempt_dir = attempt["attempt_dir"]
            if attempt_dir and not Path(attempt_dir).is_absolute():  # journaled relative by older versions
                attempt_dir = str((sweep.sweep_dir / "trials" / attempt["key"]
                                   / f"attempt-{attempt['attempt']}").resolve())
            terminate_process_group(attempt["pgid"], sweep.spec.grace_period, attempt_dir)
        journal.abandon_attempt(sweep.sweep_id, attempt["key"], attempt["attempt"],
                                "its coordinator stopped while it ran")
        events.write("recovered", key=attempt["key"], attempt=attempt["attempt"])
    # Processes on this machine of attempts never journaled (or of an earlier run here), whatever
    # the executor now: found by their environment.
    terminate_attempts_under(trials_dir, sweep.spec.grace_period)


def _leftover_folders(sweep: ResolvedSweep, journal: Journal, trials_dir: str) -> list[str]:
    """Attempt folders whose attempt may still run: journaled as running, or never journaled."""
    journaled = {(row["key"], row["attempt"]): row["status"] for row in journal.attempt_states(sweep.sweep_id)}
    folders = []
    for trial_dir, key in folder_keys(trials_dir).items():
        for entry in os.scandir(trial_dir):
            name = entry.name
            if entry.is_dir() and name.startswith("attempt-") and name[8:].isdigit():
                status = journaled.get((key, int(name[8:])))
                if status is None or status == "running":
                    folders.append(entry.path)
    return folders


def _with_journal_id(trial: Trial, key: str, experiment_id: str) -> Trial:
    return Trial(index=trial.index, key=key, experiment_id=experiment_id, params=trial.params,
                 repeat=trial.repeat, seed=trial.seed, label=trial.label)


def _drop_outside_plan(sweep: ResolvedSweep, plan: Plan, journal: Journal, journaled: Matcher) -> list[str]:
    """Journaled trials the plan no longer has (after an allowed drift) become ``dropped``; dropped
    ones it has again come back. Returns what to tell the user. Memory is bounded by the journal,
    not by the plan."""
    in_plan = set()
    for trial in plan:
        trial, state = journaled(trial)
        if state is not None:
            in_plan.add(trial.key)
    dropped, back = journal.keep_only(sweep.sweep_id, in_plan)
    notes = []
    if dropped:
        notes.append(f"{dropped} trial(s) the plan no longer has are marked 'dropped': kept in "
                     "the database, left out of the views and counts")
    if back:
        notes.append(f"{back} dropped trial(s) are back in the plan with their earlier results")
    return notes


def pending(sweep: ResolvedSweep, plan: Plan, journal: Journal, *,
            drifted: bool) -> tuple[Iterable[tuple[Trial, int]], int, list[str]]:
    """Trials still to run as (trial, attempt number), how many of the plan's are already completed,
    and notes for the user (trials dropped or brought back).

    ``drifted``: the run resumes across an allowed drift. The trials to run are yielded lazily
    (a plan may hold millions) unless the journal's durations can order them longest first.
    """
    sweep_id = sweep.sweep_id
    states = journal.trial_states(sweep_id, with_params=drifted)
    # After an allowed drift (base config or seed changed) every trial key changed: a trial of
    # the journal is the plan's trial with the same parameters and replicate, under its old key.
    by_params = {(state.params_json, state.repeat): key for key, state in states.items()} if drifted else {}

    def journaled(trial: Trial) -> tuple[Trial, TrialState | None]:
        state = states.get(trial.key)
        if state is None and by_params:
            old_key = by_params.get((canonical_json(trial.params), trial.repeat))
            if old_key is not None:
                state = states[old_key]
                trial = _with_journal_id(trial, old_key, state.experiment_id)
        return trial, state

    notes: list[str] = []
    if drifted or any(state.status == TrialStatus.DROPPED for state in states.values()):
        notes = _drop_outside_plan(sweep, plan, journal, journaled)
        states = journal.trial_states(sweep_id, with_params=drifted)  # trials brought back

    def candidates() -> Iterator[Trial]:
        if by_params:  # keys moved: match every trial by its parameters
            yield from plan
            return
        for position, key in plan.keys():  # skip completed trials without building them
            state = states.get(key)
            if state is None or state.status != TrialStatus.COMPLETED:
                yield plan[position]

    def todo() -> Iterator[tuple[Trial, int]]:
        for trial in candidates():
            trial, state = journaled(trial)
            if state is None:
                yield trial, 1
            elif state.status != TrialStatus.COMPLETED:
                # the journal's experiment id wins: the plan's index may have moved if values were added
                if state.experiment_id != trial.experiment_id:
                    trial = _with_journal_id(trial, trial.key, state.experiment_id)
                yield trial, state.attempts + 1

    if drifted:  # the journal may hold trials the plan no longer has
        done = sum(1 for trial in plan if (state := journaled(trial)[1]) and state.status == TrialStatus.COMPLETED)
    else:
        done = sum(1 for state in states.values() if state.status == TrialStatus.COMPLETED)
    hints = journal.duration_hints(sweep_id, sweep.base_hash)
    if not hints or len(plan) - len(states) > MAX_SORTED:
        return todo(), done, notes

    def hint(trial: Trial) -> float | None:
        return hints.get(trial.key, hints.get("params:" + canonical_json(trial.params)))
    return order_by_hints(list(todo()), hint), done, notes
