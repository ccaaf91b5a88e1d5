"""The coordinator: owns one sweep while it runs.

It receives a prepared run (:func:`sweeplab.engine.launch.prepare` checked drift, built the plan
and sized the budget), takes the sweep's lock, records the sweep, takes over from a dead
coordinator (:mod:`.recovery`), then loops: ask the scheduler what to start, hand it to the
executor, and record every finished attempt in the journal (the only writer). When a trial ends,
its successor starts before anything else is done; the files of the trial likely to start next
are made while others run (:mod:`.staging`), and the journal is written in group commits (at
most ``JOURNAL_INTERVAL`` late). Views and events are refreshed as it goes.
Interrupts: the first stops launching, the second (or SIGTERM) cancels what runs; either way
the sweep resumes cleanly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable

from ..errors import JournalError
from ..executors.base import Executor, Job
from ..journal.schema import is_disk_full
from ..journal.storage import DiskFullError, StorageFailure
from ..journal.views import write_json_atomic, write_views
from ..journal.writer import AttemptEnd, AttemptStart, Journal
from ..planning.plan import Plan
from ..planning.resolve import ResolvedSweep
from ..search import SearchSource, open_search
from ..trial import RETRYABLE_STATUSES, Trial, TrialResult, TrialStatus, utc_now
from .failfast import FailureGuard, check_expected
from .folder import EventLog, JournalLock, SweepLock, stored_sweep_config
from .observer import Observer, SweepOutcome
from .rebuild import rebuild_lost_journal
from .recovery import pending, recover
from .resources import Budget
from .scheduler import Scheduler, Ticket
from .staging import Staging

__all__ = ["Coordinator"]

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
        self.staging = Staging(sweep, plan, reuse_leftovers=executor.ends_leftovers, outputs=executor.stages_outputs)
        self._stop_requests = 0
        self._retries: dict[str, int] = {}
        self._completed_now = 0  # trials completed by this run
        self._search: SearchSource | None = None  # a search (bayesian, refine) chooses trials as it runs
        self._guard = FailureGuard(sweep.spec.max_failures)  # max_failures: stop when the first attempts fail alike

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
    def _launch(self, tickets: list[Ticket]) -> list[tuple[Job, AttemptStart, Ticket]]:
        """Start the tickets' attempts (their files staged first if that was not done ahead), together.

        Returns each ticket as started: its attempt number may have moved on (see
        :meth:`Staging.stage`). A start (with the process group, when the process runs on this
        host) is journaled in the next group commit, after the process exists: should the
        coordinator die in between, a resume finds the process by its ``SWEEPLAB_ATTEMPT_DIR``.
        """
        if not tickets:
            return []
        staged = [self.staging.launch_for(ticket) for ticket in tickets]
        jobs = self.executor.submit_many([launch for launch, _ in staged])  # a cluster: one message for all
        started = []
        for job, (launch, ticket) in zip(jobs, staged):
            started.append((job, AttemptStart(ticket.trial, ticket.attempt, launch.attempt_dir, self.host, utc_now(),
                                              job.pid, job.pgid), ticket))
            self.observer.trial_started(ticket.trial, ticket.attempt)
        return started

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> SweepOutcome:
        """Take the sweep's locks, record it, take over from earlier runs, run the loop, write the views.

        A file or the database failing on the way (a full disk above all) raises a
        :class:`~sweeplab.journal.storage.StorageFailure` that says what failed and how to resume: every
        journal write is one transaction, so what was recorded before it is intact.
        """
        try:
            return self._run_holding_locks()
        except (OSError, JournalError) as exc:
            raise self._storage_failure(exc) from exc

    def _storage_failure(self, exc: OSError | JournalError) -> StorageFailure:
        sweep = self.sweep
        if isinstance(exc, OSError):
            where, detail = exc.filename or f"a file in {sweep.sweep_dir}", exc.strerror or str(exc)
        else:
            where, detail = sweep.db_path, str(exc.__cause__ or exc)
        resume = f"'sweeplab resume {sweep.sweep_id} --sweep-dir {sweep.sweep_dir.parent}'"
        safe = f"Every result recorded before is safe in the journal '{sweep.db_path}'"
        if is_disk_full(exc):
            return DiskFullError(f"disk full: cannot write '{where}' ({detail}). {safe}: free space on that file "
                                 f"system and run {resume}")
        return StorageFailure(f"cannot write '{where}' ({detail}). {safe}: fix that and run {resume}")

    def _run_holding_locks(self) -> SweepOutcome:
        sweep = self.sweep
        with contextlib.ExitStack() as held:  # released in reverse order, whatever happens
            # the journal's lock first: a second coordinator of this sweep and database is refused
            # before it makes anything in its own sweep folder
            owner = JournalLock(sweep.db_path, sweep.sweep_id, sweep.sweep_dir)
            owner.acquire()
            held.callback(owner.release)
            lock = SweepLock(sweep.sweep_dir, sweep.db_path)
            lock.acquire()
            held.callback(lock.release)
            journal = Journal(sweep.db_path)
            held.callback(journal.close)
            events = EventLog(sweep.sweep_dir / "events.jsonl")
            held.callback(events.close)
            held.callback(self._install_signals())
            held.enter_context(self.executor.during_sweep())
            return self._run(journal, events)

    def _run(self, journal: Journal, events: EventLog) -> SweepOutcome:
        sweep, staging = self.sweep, self.staging
        total = len(self.plan)
        stored = stored_sweep_config(sweep, total)
        spec_record = dict(stored["spec"], _resolved_params=stored["sweep_params"])
        # a first run makes the trials folder before any trial starts
        journaled = journal.sweep(sweep.sweep_id) is not None
        ran_before = journaled or os.path.isdir(staging.trials_dir)
        # the stored spec first: a sweep the journal knows always has the file 'sweeplab resume' reads
        write_json_atomic(sweep.sweep_dir / "sweep_config.json", stored)
        journal.save_sweep(sweep.sweep_id, description=sweep.spec.description, tags=list(sweep.spec.tags),
                           spec=spec_record, base_config=sweep.base_config, base_hash=sweep.base_hash,
                           sweep_dir=staging.sweep_dir, total_trials=total)
        os.makedirs(staging.trials_dir, exist_ok=True)
        # a folder that ran before under a journal without the sweep: the journal was lost
        rebuilt = rebuild_lost_journal(sweep, self.plan, journal, self.host) if ran_before and not journaled else []
        if ran_before:
            recover(sweep, journal, events, self.executor, self.host)
        if getattr(self.plan, "dynamic", False):  # the search is rebuilt from the journal, the only truth
            self._search = open_search(sweep, self.plan, journal)  # type: ignore[arg-type]
            todo, done, notes = self._search, journal.completed_count(sweep.sweep_id), []
        else:
            todo, done, notes = pending(sweep, self.plan, journal, drifted=bool(self.warnings))
        notes = rebuilt + notes
        events.write("sweep_started", sweep_id=sweep.sweep_id, total=total, already_completed=done)
        self.observer.started(total, done, self.budget)
        try:
            interrupted = self._loop(journal, events, todo)
        finally:
            staging.unstage()
            staging.close()
        counts = journal.counts(sweep.sweep_id)
        completed = done + self._completed_now  # of the plan's trials (the journal may hold dropped ones)
        if self._search is not None:  # its trials: those it chose; done when it stopped choosing
            total = self._search.registered
            journal.save_sweep(sweep.sweep_id, description=sweep.spec.description, tags=list(sweep.spec.tags),
                               spec=spec_record, base_config=sweep.base_config, base_hash=sweep.base_hash,
                               sweep_dir=staging.sweep_dir, total_trials=total)
            self._search.write_summary()
        status = "interrupted" if interrupted else ("completed" if completed == total else "incomplete")
        journal.set_sweep_status(sweep.sweep_id, status)
        write_views(journal, sweep.sweep_id, sweep.sweep_dir, str(sweep.db_path))
        events.write("sweep_finished", status=status, counts=counts)
        outcome = SweepOutcome(sweep.sweep_id, counts, total, interrupted=interrupted,
                               warnings=self.warnings + notes, plan_completed=completed)
        self.observer.finished(outcome)
        return outcome

    def _loop(self, journal: Journal, events: EventLog, todo: Iterable[tuple[Trial, int]]) -> bool:
        sweep_id = self.sweep.sweep_id
        scheduler = Scheduler(self.budget, self.staging.demand, todo)
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
                # trials submitted ahead that no worker has started are not running: they do not start
                withdrawn = 0 if force else _withdraw_queued(running)
                self.observer.stopping(force, len(running) - withdrawn)
                events.write("stopping", force=force, running=len(running) - withdrawn, withdrawn=withdrawn)
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
            self._watch_failures(scheduler, finished, running)  # fail fast decides before a freed slot is refilled
            # Fill the freed slots first: the next trial should not wait for us to read the
            # finished ones' files and journal them.
            now = time.monotonic()
            # (a search waits: the freed slot's next trial is chosen once the results are told)
            batch.add_starts(self._fill(events, scheduler, running) if finished and not self._search else [], now)
            self.observer.attempts_running(_running_now(running))  # exact before the ends are announced
            for job, ticket in zip(finished, tickets):
                result = job.result()
                end, retry_in = self._decide(scheduler, ticket, result)
                batch.add_end(end, (ticket, end.result, end.final, retry_in), now)
            now = time.monotonic()
            if batch.due is not None and (now >= batch.due or not running or self._stop_requests
                                          or (finished and self._search is not None)):
                dirty = self._commit(journal, events, batch) or dirty
            # views show only what is journaled; looked at every round (the wait above ends at least
            # once per VIEW_INTERVAL), so a change is never left out for long
            if dirty and now - last_view >= max(VIEW_INTERVAL, 5 * view_cost):
                started = time.monotonic()
                write_views(journal, sweep_id, self.sweep.sweep_dir, str(self.sweep.db_path))
                view_cost, last_view, dirty = time.monotonic() - started, now, False
            self.observer.tick()
            self.staging.stage_next(scheduler, time.monotonic())
        self._commit(journal, events, batch)
        return self._stop_requests > 0

    def _commit(self, journal: Journal, events: EventLog, batch: _Batch) -> bool:
        """Journal what the batch holds in one go, then tell events.jsonl and the observer; True if trials ended."""
        if batch.due is None:
            return False
        refused = {(end.result.key, end.result.attempt): end
                   for end in journal.record(self.sweep.sweep_id, starts=batch.starts, ends=batch.ends)}
        for ticket, result, final, retry_in in batch.announcements:
            end = refused.get((result.key, result.attempt))
            if end is not None:  # completed, but its rows could not be merged: failed, and final
                self._completed_now -= 1
                result, final, retry_in = end.result, True, None
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
        for job, start, ticket in self._launch(scheduler.take(time.monotonic())):
            running[job] = ticket
            starts.append(start)
            events.write("started", key=ticket.trial.key, experiment_id=ticket.trial.experiment_id,
                         attempt=ticket.attempt)
        return starts

    def _watch_failures(self, scheduler: Scheduler, finished: list[Job], running: dict[Job, Ticket]) -> None:
        """max_failures: stop admitting trials when the first attempts all failed alike. Reads the results
        only while that can still happen (the first attempts of a run), so it costs nothing later."""
        if not self._guard.armed:
            return
        for job in finished:
            result = check_expected(job.result(), self.sweep.spec.expect_metrics)
            if self._guard.record(result):
                scheduler.closed = True  # the running trials end; nothing new starts
                _withdraw_queued(running)
                self.warnings.append(self._guard.message(result, self.sweep.sweep_id,
                                                         str(self.sweep.sweep_dir.parent)))

    def _decide(self, scheduler: Scheduler, ticket: Ticket, result: TrialResult) -> tuple[AttemptEnd, float | None]:
        """Whether an ended attempt is final or retried (queued after a backoff), as its journal record."""
        key = ticket.trial.key
        result = check_expected(result, self.sweep.spec.expect_metrics)
        used = self._retries.get(key, 0)  # retries are counted per run: a resume gives a fresh budget
        retry = (result.status in RETRYABLE_STATUSES and not result.invalid_config and not self._guard.tripped
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
        if final and self._search is not None:  # journaled: the search learns what the journal holds
            self._search.tell(ticket.trial, result)


def _withdraw_queued(running: dict[Job, Ticket]) -> int:
    """Cancel the attempts that wait in the executor's queue and have not started; how many there were."""
    return sum(job.withdraw() for job in list(running))


def _running_now(running: dict[Job, Ticket]) -> int:
    """The launched attempts that run now: not those still waiting in a cluster's queue (submitted ahead)."""
    return sum(1 for job in running if job.started)
