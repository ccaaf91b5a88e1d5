"""The coordinator: owns one sweep while it runs.

It receives a prepared run (:func:`sweeplab.engine.launch.prepare` checked drift, built the plan
and sized the budget), takes the sweep's lock, recovers attempts left running by a dead
coordinator, then loops: ask the scheduler what to
start, hand it to the executor, and record every finished attempt in the journal (the only
writer). When a trial ends, its successor starts before anything else is done; the files of
the trial likely to start next are made while others run, and the journal is written in
group commits (at most ``JOURNAL_INTERVAL`` late). Views and events are refreshed as it goes.
Interrupts: the first stops launching, the second (or SIGTERM) cancels what runs; either way
the sweep resumes cleanly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..executors.base import Executor, Job
from ..executors.outcome import STDERR_NAME, STDOUT_NAME
from ..journal.reader import TrialState
from ..journal.views import write_json_atomic, write_views
from ..journal.writer import AttemptEnd, AttemptStart, Journal
from ..planning.plan import Plan
from ..planning.resolve import ResolvedSweep
from ..runners.base import RunContext, TrialResources, trial_resources
from ..trial import (
    RETRYABLE_STATUSES,
    Trial,
    TrialLaunch,
    TrialResult,
    TrialStatus,
    canonical_json,
    utc_now,
)
from .folder import EventLog, SweepLock, config_file_name, stored_sweep_config
from .observer import Observer, SweepOutcome
from .resources import Budget
from .scheduler import MAX_SORTED, Scheduler, Ticket, order_by_hints

__all__ = ["Coordinator"]

log = logging.getLogger(__name__)

#: views are rewritten at most this often while a sweep runs (seconds)
VIEW_INTERVAL = 1.0
#: starts and ends are journaled together at most this long after the first of them (seconds)
JOURNAL_INTERVAL = 0.1


class _Batch:
    """Journal records not committed yet: a group commit every ``JOURNAL_INTERVAL`` seconds at most.

    Committing trial by trial costs a transaction each; with many short trials that is a large
    share of the coordinator's time. Anything in a batch that a crash loses is safe: a started
    attempt is found by its environment on resume, an ended one just runs again.
    """

    def __init__(self) -> None:
        self.starts: list[AttemptStart] = []
        self.ends: list[AttemptEnd] = []
        self.announcements: list[tuple[Ticket, TrialResult, bool, float | None]] = []
        self.due: float | None = None  # when this batch must be committed (None: empty)

    def _opened(self, now: float) -> None:
        if self.due is None:
            self.due = now + JOURNAL_INTERVAL

    def add_starts(self, starts: list[AttemptStart], now: float) -> None:
        if starts:
            self.starts += starts
            self._opened(now)

    def add_end(self, end: AttemptEnd, announcement: tuple[Ticket, TrialResult, bool, float | None],
                now: float) -> None:
        self.ends.append(end)
        self.announcements.append(announcement)
        self._opened(now)

    def clear(self) -> None:
        self.starts, self.ends, self.announcements = [], [], []
        self.due = None


class Coordinator:
    """Runs one prepared sweep to the end (or to an interrupt).

    ``plan`` and ``budget`` come from :func:`~sweeplab.engine.launch.prepare`, which also made the
    drift check: ``drift_warnings`` is the drift it let through (resuming across it matches trials
    by their parameters). The coordinator neither re-checks nor rebuilds them.
    """

    def __init__(self, sweep: ResolvedSweep, plan: Plan, budget: Budget, executor: Executor,
                 observer: Observer | None = None, drift_warnings: Iterable[str] = ()) -> None:
        self.sweep = sweep
        self.plan = plan
        self.budget = budget
        self.executor = executor
        self.observer = observer or Observer()
        self.warnings = list(drift_warnings)
        self.host = socket.gethostname()
        self._stop_requests = 0
        self._configs: dict[str, dict[str, Any]] = {}
        self._demands: dict[str, TrialResources] = {}
        self._retries: dict[str, int] = {}
        self._sweep_dir = str(sweep.sweep_dir.resolve())
        self._trials_dir = os.path.join(self._sweep_dir, "trials")
        self._staged: dict[str, tuple[Trial, int, str]] = {}  # key -> (trial, attempt, folder) made ahead
        self._cwd = os.getcwd()
        self._drifted = bool(self.warnings)  # resuming across an allowed drift
        self._completed_now = 0  # trials completed by this run
        self._notes: list[str] = []  # said at the end, after the warnings

    # --- interrupts -----------------------------------------------------------------------
    def request_stop(self, force: bool = False) -> None:
        """First call: stop launching. Second call, or ``force``: cancel what runs."""
        self._stop_requests = max(self._stop_requests + 1, 2 if force else 1)
        self.executor.wakeup()  # act on it now, not when the current wait times out

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop(force=True))
        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return restore

    # --- trials ---------------------------------------------------------------------------
    def _config(self, trial: Trial) -> dict[str, Any]:
        config = self._configs.get(trial.key)
        if config is None:
            config = self._configs[trial.key] = self.plan.config_for(trial)
        return config

    def _demand(self, trial: Trial) -> TrialResources:
        need = self._demands.get(trial.key)
        if need is None:
            limits = self.sweep.spec.limits
            need = self._demands[trial.key] = trial_resources(
                self.sweep.runner, self._config(trial), limits.memory_gb if limits else None,
                limits.cpu_threads if limits else None, bool(limits and limits.resident_only))
        return need

    def _stage(self, trial: Trial, attempt: int) -> tuple[int, str]:
        """Create the attempt's folder and files ahead of its start; returns (attempt number, folder).

        The number is ``attempt`` unless a folder of that number exists already: left by an attempt
        that started unjournaled just before a crash. Its processes were ended by the recovery if
        the executor can do that (local ones); the folder is then reused. Otherwise (a remote
        worker may still be writing there) the next free number is taken, so that two attempts
        never share a folder.

        Called for the trial that will start next while others run, so that when a slot frees
        up, only the process start stands between the old trial's exit and the new one's start
        (each file-system call costs up to a millisecond on some disks). Paths are plain strings
        built from the absolute sweep folder: pathlib's parsing costs more than the calls it wraps.
        """
        join = os.path.join
        trial_dir = join(self._trials_dir, trial.key)
        try:
            os.mkdir(trial_dir)  # 'trials' exists since run(); one call, not makedirs' several
        except FileExistsError:
            pass
        while True:
            # absolute: it is the SWEEPLAB_ATTEMPT_DIR a resume matches to find this attempt's processes
            attempt_dir = join(trial_dir, f"attempt-{attempt}")
            try:
                os.mkdir(attempt_dir)
                break
            except FileExistsError:
                if self.executor.ends_leftovers:
                    shutil.rmtree(attempt_dir, ignore_errors=True)
                    os.mkdir(attempt_dir)
                    break
                attempt += 1
        for name in (STDOUT_NAME, STDERR_NAME):  # created now, so the start only has to open them
            os.close(os.open(join(attempt_dir, name), os.O_WRONLY | os.O_CREAT, 0o644))
        # Rewritten by any rerun, and read only once the trial has started, so a plain write is
        # enough; the original layout's exp…_config.json is the same file under its readable name.
        config_path = join(trial_dir, "config.json")
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, (json.dumps(self._config(trial), indent=2) + "\n").encode())
        finally:
            os.close(fd)
        readable = self._readable_config(trial)
        try:
            os.link(config_path, readable)
        except FileExistsError:
            if not os.path.samefile(config_path, readable):  # same inode: the write above updated both
                os.unlink(readable)
                os.link(config_path, readable)
        except OSError:  # no hard links here: write a copy
            shutil.copyfile(config_path, readable)
        return attempt, attempt_dir

    def _readable_config(self, trial: Trial) -> str:
        """The original layout's ``exp…_config.json`` of ``trial`` in the sweep folder."""
        return os.path.join(self._sweep_dir, config_file_name(self.sweep.sweep_id, trial.experiment_id))

    def _unstage(self) -> None:
        """Remove what was staged for trials that did not start (the sweep stopped first)."""
        for trial, attempt, attempt_dir in self._staged.values():
            if attempt == 1:  # the trial never ran: no trace of it should remain
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._readable_config(trial))
                shutil.rmtree(os.path.dirname(attempt_dir), ignore_errors=True)
            else:
                shutil.rmtree(attempt_dir, ignore_errors=True)
        self._staged.clear()

    def _stage_next(self, scheduler: Scheduler) -> None:
        """Prepare the trial the scheduler will most likely start next (see :meth:`_stage`)."""
        if scheduler.closed:
            return
        upcoming = scheduler.peek(time.monotonic())
        if upcoming is not None and upcoming[0].key not in self._staged:
            trial, attempt = upcoming
            self._staged[trial.key] = (trial, *self._stage(trial, attempt))

    def _launch(self, ticket: Ticket) -> tuple[Job, AttemptStart, Ticket]:
        """Start the ticket's attempt (staging its files first if that was not done ahead).

        Returns the ticket as started: its attempt number may have moved on (see :meth:`_stage`).
        The start (with the process group, when the process runs on this host) is journaled in the
        next group commit, after the process exists: should the coordinator die in between, a
        resume finds the process by its ``SWEEPLAB_ATTEMPT_DIR``.
        """
        sweep, trial = self.sweep, ticket.trial
        staged = self._staged.pop(trial.key, None)
        if staged is None or staged[1] < ticket.attempt:  # not staged, or staged for an earlier attempt
            if staged is not None:
                shutil.rmtree(staged[2], ignore_errors=True)
            attempt, attempt_dir = self._stage(trial, ticket.attempt)
        else:
            _, attempt, attempt_dir = staged
        if attempt != ticket.attempt:
            ticket = dataclasses.replace(ticket, attempt=attempt)
        self._configs.pop(trial.key, None)  # keep memory flat on huge plans; a retry recomputes it
        self._demands.pop(trial.key, None)
        context = RunContext(sweep_id=sweep.sweep_id, experiment_id=trial.experiment_id, key=trial.key,
                             seed=trial.seed, attempt=ticket.attempt,
                             config_path=os.path.join(self._trials_dir, trial.key, "config.json"),
                             attempt_dir=attempt_dir, db_path=os.path.join(attempt_dir, "experiment.db"),
                             cpu_threads=ticket.resources.cpu_threads)
        argv, env = sweep.runner.command(context)
        memory = ticket.resources.memory_gb
        launch = TrialLaunch(
            sweep_id=sweep.sweep_id, key=trial.key, experiment_id=trial.experiment_id, attempt=ticket.attempt,
            argv=tuple(argv), attempt_dir=attempt_dir, cwd=self._cwd, env=env,
            timeout=sweep.spec.timeout, grace=sweep.spec.grace_period,
            memory_bytes=int(memory * 1024 ** 3) if memory else None, cpu_threads=ticket.resources.cpu_threads,
            resident_only=ticket.resources.resident_only)
        job = self.executor.submit(launch)
        start = AttemptStart(trial, ticket.attempt, attempt_dir, self.host, utc_now(), job.pid, job.pgid)
        self.observer.trial_started(trial, ticket.attempt)
        return job, start, ticket

    def _recover(self, journal: Journal, events: EventLog) -> None:
        """Attempts a dead coordinator left running: stop their processes, mark them cancelled.

        Only a sweep that ran before can have any: for a new one, nothing is looked up (the
        search through every process's environment costs milliseconds on a busy machine).
        """
        from ..executors.local import terminate_attempts_under, terminate_process_group
        if not self.executor.ends_leftovers:  # tasks of the dead coordinator may still run on workers
            asked = self.executor.end_leftovers(self._leftover_folders(journal))
            log.info("asked %d attempt(s) of the previous coordinator to end", asked)
        for attempt in journal.running_attempts(self.sweep.sweep_id):
            if attempt["host"] == self.host and attempt["pgid"]:
                attempt_dir = attempt["attempt_dir"]
                if attempt_dir and not Path(attempt_dir).is_absolute():  # journaled relative by older versions
                    attempt_dir = str((self.sweep.sweep_dir / "trials" / attempt["key"]
                                       / f"attempt-{attempt['attempt']}").resolve())
                terminate_process_group(attempt["pgid"], self.sweep.spec.grace_period, attempt_dir)
            journal.abandon_attempt(self.sweep.sweep_id, attempt["key"], attempt["attempt"],
                                    "its coordinator stopped while it ran")
            events.write("recovered", key=attempt["key"], attempt=attempt["attempt"])
        # Processes on this machine of attempts never journaled (or of an earlier run here), whatever
        # the executor now: found by their environment.
        terminate_attempts_under(self._trials_dir, self.sweep.spec.grace_period)

    def _leftover_folders(self, journal: Journal) -> list[str]:
        """Attempt folders whose attempt may still run: journaled as running, or never journaled."""
        journaled = {(row["key"], row["attempt"]): row["status"] for row in journal.attempt_states(self.sweep.sweep_id)}
        folders = []
        for trial_dir in os.scandir(self._trials_dir):
            if not trial_dir.is_dir():
                continue
            for entry in os.scandir(trial_dir.path):
                name = entry.name
                if entry.is_dir() and name.startswith("attempt-") and name[8:].isdigit():
                    status = journaled.get((trial_dir.name, int(name[8:])))
                    if status is None or status == "running":
                        folders.append(entry.path)
        return folders

    def _drop_outside_plan(self, journal: Journal, journaled: Any) -> None:
        """Journaled trials the plan no longer has (after an allowed drift) become ``dropped``; dropped
        ones it has again come back. Memory is bounded by the journal, not by the plan."""
        in_plan = set()
        for trial in self.plan:
            trial, state = journaled(trial)
            if state is not None:
                in_plan.add(trial.key)
        dropped, back = journal.keep_only(self.sweep.sweep_id, in_plan)
        if dropped:
            self._notes.append(f"{dropped} trial(s) the plan no longer has are marked 'dropped': kept in "
                               "the database, left out of the views and counts")
        if back:
            self._notes.append(f"{back} dropped trial(s) are back in the plan with their earlier results")

    def _pending(self, journal: Journal) -> tuple[Any, int]:
        """Trials still to run, as (trial, attempt number), and how many of the plan's are already completed."""
        sweep_id = self.sweep.sweep_id
        states = journal.trial_states(sweep_id, with_params=self._drifted)
        # After an allowed drift (base config or seed changed) every trial key changed: a trial of
        # the journal is the plan's trial with the same parameters and replicate, under its old key.
        by_params = {(state.params_json, state.repeat): key for key, state in states.items()} if self._drifted else {}

        def journaled(trial: Trial) -> tuple[Trial, TrialState | None]:
            state = states.get(trial.key)
            if state is None and by_params:
                old_key = by_params.get((canonical_json(trial.params), trial.repeat))
                if old_key is not None:
                    state = states[old_key]
                    trial = Trial(index=trial.index, key=old_key, experiment_id=state.experiment_id, params=trial.params,
                                  repeat=trial.repeat, seed=trial.seed, label=trial.label)
            return trial, state

        if self._drifted or any(state.status == TrialStatus.DROPPED for state in states.values()):
            self._drop_outside_plan(journal, journaled)
            states = journal.trial_states(sweep_id, with_params=self._drifted)  # trials brought back

        def candidates() -> Iterator[Trial]:
            if by_params:  # keys moved: match every trial by its parameters
                yield from self.plan
                return
            for position, key in self.plan.keys():  # skip completed trials without building them
                state = states.get(key)
                if state is None or state.status != TrialStatus.COMPLETED:
                    yield self.plan[position]

        def todo() -> Iterator[tuple[Trial, int]]:
            for trial in candidates():
                trial, state = journaled(trial)
                if state is None:
                    yield trial, 1
                elif state.status != TrialStatus.COMPLETED:
                    # the journal's experiment id wins: the plan's index may have moved if values were added
                    if state.experiment_id != trial.experiment_id:
                        trial = Trial(index=trial.index, key=trial.key, experiment_id=state.experiment_id, params=trial.params,
                                      repeat=trial.repeat, seed=trial.seed, label=trial.label)
                    yield trial, state.attempts + 1
        if self._drifted:  # the journal may hold trials the plan no longer has
            done = sum(1 for trial in self.plan if (state := journaled(trial)[1]) and state.status == TrialStatus.COMPLETED)
        else:
            done = sum(1 for state in states.values() if state.status == TrialStatus.COMPLETED)
        hints = journal.duration_hints(sweep_id, self.sweep.base_hash)
        if not hints or len(self.plan) - len(states) > MAX_SORTED:
            return todo(), done
        def hint(trial: Trial) -> float | None:
            return hints.get(trial.key, hints.get("params:" + canonical_json(trial.params)))
        return order_by_hints(list(todo()), hint), done

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> SweepOutcome:
        sweep = self.sweep
        total = len(self.plan)
        lock = SweepLock(sweep.sweep_dir)
        lock.acquire()
        journal = Journal(sweep.db_path)
        events = EventLog(sweep.sweep_dir / "events.jsonl")
        restore_signals = self._install_signals()
        try:
            stored = stored_sweep_config(sweep, total)
            spec_record = dict(stored["spec"], _resolved_params=stored["sweep_params"])
            # a first run makes the trials folder before any trial starts
            ran_before = journal.sweep(sweep.sweep_id) is not None or os.path.isdir(self._trials_dir)
            journal.save_sweep(sweep.sweep_id, description=sweep.spec.description, tags=list(sweep.spec.tags),
                               spec=spec_record, base_config=sweep.base_config, base_hash=sweep.base_hash,
                               sweep_dir=str(sweep.sweep_dir.resolve()), total_trials=total)
            write_json_atomic(sweep.sweep_dir / "sweep_config.json", stored)
            os.makedirs(self._trials_dir, exist_ok=True)
            if ran_before:
                self._recover(journal, events)
            pending, done = self._pending(journal)
            events.write("sweep_started", sweep_id=sweep.sweep_id, total=total, already_completed=done)
            self.observer.started(total, done, self.budget)
            try:
                interrupted = self._loop(journal, events, pending)
            finally:
                self._unstage()
            counts = journal.counts(sweep.sweep_id)
            completed = done + self._completed_now  # of the plan's trials (the journal may hold dropped ones)
            status = "interrupted" if interrupted else ("completed" if completed == total else "incomplete")
            journal.set_sweep_status(sweep.sweep_id, status)
            write_views(journal, sweep.sweep_id, sweep.sweep_dir, str(sweep.db_path))
            events.write("sweep_finished", status=status, counts=counts)
            outcome = SweepOutcome(sweep.sweep_id, counts, total, interrupted=interrupted,
                                   warnings=self.warnings + self._notes,
                                   plan_completed=completed)
            self.observer.finished(outcome)
            return outcome
        finally:
            restore_signals()
            events.close()
            journal.close()
            lock.release()

    def _loop(self, journal: Journal, events: EventLog, pending: Any) -> bool:
        sweep_id = self.sweep.sweep_id
        scheduler = Scheduler(self.budget, self._demand, pending)
        running: dict[Job, Ticket] = {}
        batch = _Batch()
        last_view, view_cost, dirty = 0.0, 0.0, False
        announced = 0
        while True:
            now = time.monotonic()
            if self._stop_requests and announced < self._stop_requests:
                announced = self._stop_requests
                scheduler.closed = True
                force = self._stop_requests >= 2
                self.observer.stopping(force, len(running))
                events.write("stopping", force=force, running=len(running))
                events.flush()
                if force:
                    for job in running:
                        job.cancel()
            batch.add_starts(self._fill(events, scheduler, running), now)
            if not running and (scheduler.closed or scheduler.exhausted(now)):
                break
            retry_in = scheduler.next_retry_in(now)
            wait_for = VIEW_INTERVAL if retry_in is None else min(VIEW_INTERVAL, retry_in)
            if batch.due is not None:
                wait_for = max(0.0, min(wait_for, batch.due - now))
            finished = self.executor.wait(list(running), wait_for) if running else (time.sleep(wait_for) or [])
            tickets = [running.pop(job) for job in finished]
            for ticket in tickets:
                scheduler.release(ticket)
            # Fill the freed slots first: the next trial should not wait for us to read the
            # finished ones' files and journal them.
            now = time.monotonic()
            batch.add_starts(self._fill(events, scheduler, running) if finished else [], now)
            for job, ticket in zip(finished, tickets):
                result = job.result()
                end, retry_in = self._decide(scheduler, ticket, result)
                batch.add_end(end, (ticket, result, end.final, retry_in), now)
            now = time.monotonic()
            if batch.due is not None and (now >= batch.due or not running or self._stop_requests):
                dirty = self._commit(journal, events, batch) or dirty
            # views show only what is journaled; looked at every round (the wait above ends at least
            # once per VIEW_INTERVAL), so a change is never left out for long
            if dirty and now - last_view >= max(VIEW_INTERVAL, 5 * view_cost):
                started = time.monotonic()
                write_views(journal, sweep_id, self.sweep.sweep_dir, str(self.sweep.db_path))
                view_cost, last_view, dirty = time.monotonic() - started, now, False
            self.observer.tick()
            self._stage_next(scheduler)
        self._commit(journal, events, batch)
        return self._stop_requests > 0

    def _commit(self, journal: Journal, events: EventLog, batch: _Batch) -> bool:
        """Journal what the batch holds in one go, then tell events.jsonl and the observer; True if trials ended."""
        if batch.due is None:
            return False
        journal.record(self.sweep.sweep_id, starts=batch.starts, ends=batch.ends)
        for ticket, result, final, retry_in in batch.announcements:
            self._announce(events, ticket, result, final, retry_in)
        events.flush()
        ended = bool(batch.ends)
        batch.clear()
        return ended

    def _fill(self, events: EventLog, scheduler: Scheduler, running: dict[Job, Ticket]) -> list[AttemptStart]:
        """Launch whatever the scheduler admits now; return their start records."""
        if scheduler.closed:
            return []
        starts = []
        for ticket in scheduler.take(time.monotonic()):
            job, start, ticket = self._launch(ticket)
            running[job] = ticket
            starts.append(start)
            events.write("started", key=ticket.trial.key, experiment_id=ticket.trial.experiment_id,
                         attempt=ticket.attempt)
        return starts

    def _decide(self, scheduler: Scheduler, ticket: Ticket, result: TrialResult) -> tuple[AttemptEnd, float | None]:
        """Whether an ended attempt is final or retried (queued after a backoff), as its journal record."""
        key = ticket.trial.key
        used = self._retries.get(key, 0)  # retries are counted per run: a resume gives a fresh budget
        retry = (result.status in RETRYABLE_STATUSES and not result.invalid_config
                 and self._stop_requests == 0 and used < self.sweep.spec.max_retries)
        retry_in = scheduler.retry(ticket.trial, ticket.attempt + 1, time.monotonic()) if retry else None
        if retry:
            self._retries[key] = used + 1
        if result.status is TrialStatus.COMPLETED:
            self._completed_now += 1
        merge_db = (os.path.join(result.attempt_dir, "experiment.db")
                    if result.attempt_dir and result.status is TrialStatus.COMPLETED else None)
        return AttemptEnd(result, final=not retry, merge_db=merge_db), retry_in

    def _announce(self, events: EventLog, ticket: Ticket, result: TrialResult, final: bool,
                  retry_in: float | None) -> None:
        """Tell events.jsonl and the observer how an attempt ended (after it is journaled)."""
        event = "retried" if not final else ("cancelled" if result.status is TrialStatus.CANCELLED else "finished")
        events.write(event, key=ticket.trial.key, experiment_id=ticket.trial.experiment_id,
                     attempt=ticket.attempt, status=result.status.value, duration=round(result.duration, 3),
                     error=result.error[-300:] if result.error else None)
        self.observer.trial_finished(ticket.trial, result, retry_in)
