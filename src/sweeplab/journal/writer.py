"""The journal: the single writer of sweep state, in SQLite.

Contract (the rest of the engine relies on it):

* One writer per sweep (the coordinator); readers may open the database at any time (WAL).
* Every change goes through :meth:`Journal.transaction`, one ``BEGIN IMMEDIATE`` … ``COMMIT``
  that rolls back on any error and wraps driver errors in :class:`~sweeplab.errors.JournalError`.
* Exactly once: a completed attempt's experiment rows (merged from its own database) and the
  ``completed`` mark of its trial are committed in the same transaction. A trial may run
  again after a coordinator crash; it is never recorded twice.
* The journal is the source of truth; the JSON files in the sweep folder are views of it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import JournalError
from ..trial import Trial, TrialResult, TrialStatus, canonical_json, utc_now
from .merge import RowsRefused, attempt_db_problem, merge_attempt_rows, refusal
from .reader import DROPPED, JournalReader
from .schema import DDL, connect, is_storage_failure, migrate

__all__ = ["Journal", "AttemptStart", "AttemptEnd"]

log = logging.getLogger(__name__)


class Journal(JournalReader):
    """Sweep state in the SQLite database at ``db_path`` (created on first use); reads as a
    :class:`~.reader.JournalReader` on the same connection."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        super().__init__(connect(self.db_path))
        with self.transaction() as conn:
            for statement in DDL.split(";"):
                if statement.strip():
                    conn.execute(statement)
            added = migrate(conn)  # a database written by an older version
        if added:
            log.info("the database '%s' was given the new column(s) %s", self.db_path, ", ".join(added))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: commit on success, roll back on any error.

        A failed ``COMMIT`` (disk full, I/O error) is rolled back too: the database keeps what it
        held before the transaction, and the error is a :class:`~sweeplab.errors.JournalError`.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write to the database '{self.db_path}': {exc}") from exc
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise JournalError(f"writing to the database '{self.db_path}' failed: {exc}") from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        # SQLite may have rolled back already (it does after some I/O errors): then there is nothing to do
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error as exc:  # the original error is the one worth reporting
                log.warning("rolling back on '%s' failed: %s", self.db_path, exc)

    # --- sweeps -------------------------------------------------------------------------

    def save_sweep(self, sweep_id: str, *, description: str, tags: list[str], spec: dict[str, Any],
                   base_config: dict[str, Any], base_hash: str, sweep_dir: str, total_trials: int) -> None:
        now = utc_now()
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO sweeps (sweep_id, description, tags_json, spec_json, base_config_json, base_hash,
                                       sweep_dir, total_trials, status, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)
                   ON CONFLICT(sweep_id) DO UPDATE SET description=excluded.description,
                       tags_json=excluded.tags_json, spec_json=excluded.spec_json,
                       base_config_json=excluded.base_config_json, base_hash=excluded.base_hash,
                       sweep_dir=excluded.sweep_dir, total_trials=excluded.total_trials,
                       status='running', updated_at=excluded.updated_at""",
                (sweep_id, description, canonical_json(tags), canonical_json(spec), canonical_json(base_config), base_hash,
                 sweep_dir, total_trials, now, now),
            )

    def set_sweep_status(self, sweep_id: str, status: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE sweeps SET status = ?, updated_at = ? WHERE sweep_id = ?",
                         (status, utc_now(), sweep_id))

    # --- writing attempts -----------------------------------------------------------------
    def start_attempt(self, sweep_id: str, trial: Trial, attempt: int, attempt_dir: str, host: str) -> str:
        """Record that an attempt started; returns its start time."""
        start = AttemptStart(trial, attempt, attempt_dir, host, utc_now())
        self.record(sweep_id, starts=[start])
        return start.start_time

    def set_attempt_process(self, sweep_id: str, key: str, attempt: int, pid: int | None, pgid: int | None) -> None:
        """Record the process (group) an attempt runs as."""
        self.record(sweep_id, processes=[(key, attempt, pid, pgid)])

    def finish_attempt(self, sweep_id: str, result: TrialResult, *, final: bool, merge_db: Path | None = None) -> None:
        """Record how an attempt ended, merging its experiment rows when it completed — atomically.

        ``final`` says whether the trial's status becomes the attempt's (no retry follows);
        otherwise the trial goes back to ``pending``.
        """
        self.record(sweep_id, ends=[AttemptEnd(result, final, merge_db)])

    def record(self, sweep_id: str, *, starts: Iterable[AttemptStart] = (),
               processes: Iterable[tuple[str, int, int | None, int | None]] = (),
               ends: Iterable[AttemptEnd] = ()) -> list[AttemptEnd]:
        """Journal a batch of what happened (the coordinator commits in groups) in few transactions.

        Starts, process groups and plain ends share one transaction. An end whose experiment
        rows must be merged gets its own (its database is attached outside any transaction),
        so its rows and its ``completed`` mark still commit together or not at all.

        A completed attempt whose rows cannot be merged (its database is not SQLite or is
        corrupt, its rows collide with rows already there, a table name the journal reserves)
        is the trial's fault, not the sweep's: it is recorded ``failed`` with the reason, final,
        and nothing of it is merged. Returns those replaced ends, to be announced instead of the
        given ones. A failure of the sweep's own database (disk full, I/O error) raises
        :class:`~sweeplab.errors.JournalError` and records nothing of the batch's merges.
        """
        starts, processes = list(starts), list(processes)
        plain = [end for end in ends if not end.merges]
        merging = [end for end in ends if end.merges]
        if starts or processes or plain:
            with self.transaction() as conn:
                for start in starts:
                    _write_start(conn, sweep_id, start)
                for key, attempt, pid, pgid in processes:
                    conn.execute("UPDATE attempts SET pid = ?, pgid = ? WHERE sweep_id = ? AND key = ? AND attempt = ?",
                                 (pid, pgid, sweep_id, key, attempt))
                for end in plain:
                    _write_end(conn, sweep_id, end)
        refused = []
        for end in merging:
            reason = attempt_db_problem(Path(os.fspath(end.merge_db)))  # type: ignore[arg-type]
            if reason is None:
                try:
                    self._merge(sweep_id, end)
                    continue
                except RowsRefused as exc:
                    reason = str(exc)
            failed = end.refused(f"its experiment database {os.fspath(end.merge_db)} could not be merged into "  # type: ignore[arg-type]
                                 f"the sweep's database '{self.db_path}': {reason}")
            log.warning("trial %s attempt %d: %s", end.result.key, end.result.attempt, failed.result.error)
            with self.transaction() as conn:
                _write_end(conn, sweep_id, failed)
            refused.append(failed)
        return refused

    def _merge(self, sweep_id: str, end: AttemptEnd) -> None:
        """Merge the attempt's rows and write its end in one transaction; :class:`RowsRefused` when
        the rows (not the sweep's database) are at fault, after rolling back."""
        try:
            self.conn.execute("ATTACH DATABASE ? AS attempt_db", (os.fspath(end.merge_db),))  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            if is_storage_failure(exc):
                raise JournalError(f"cannot write to the database '{self.db_path}': {exc}") from exc
            raise RowsRefused(str(exc)) from exc
        try:
            with self.transaction() as conn:
                try:
                    merge_attempt_rows(conn)
                except sqlite3.Error as exc:
                    if is_storage_failure(exc):
                        raise
                    raise RowsRefused(refusal(exc)) from exc
                _write_end(conn, sweep_id, end)
        finally:
            self.conn.execute("DETACH DATABASE attempt_db")

    def keep_only(self, sweep_id: str, plan_keys: Iterable[str]) -> tuple[int, int]:
        """Mark the sweep's trials outside ``plan_keys`` ``dropped`` (``--allow-drift`` removed them).

        A dropped trial keeps its row, attempts and experiment rows, but leaves the views and the
        plan's counts. A dropped trial the plan has again gets back the status of its last
        attempt, so a completed one is not run twice. Returns (newly dropped, brought back).
        """
        with self.transaction() as conn:
            conn.execute("CREATE TEMP TABLE plan_keys (key TEXT PRIMARY KEY)")
            try:
                conn.executemany("INSERT OR IGNORE INTO plan_keys VALUES (?)", ((key,) for key in plan_keys))
                dropped = conn.execute(
                    """UPDATE trials SET status = :dropped WHERE sweep_id = :sweep_id AND status != :dropped
                       AND key NOT IN (SELECT key FROM plan_keys)""",
                    {"dropped": DROPPED, "sweep_id": sweep_id}).rowcount
                back = conn.execute(
                    """UPDATE trials SET status = COALESCE(
                           (SELECT a.status FROM attempts a WHERE a.sweep_id = trials.sweep_id AND a.key = trials.key
                            ORDER BY a.attempt DESC LIMIT 1), 'cancelled')
                       WHERE sweep_id = ? AND status = ? AND key IN (SELECT key FROM plan_keys)""",
                    (sweep_id, DROPPED)).rowcount
            finally:
                conn.execute("DROP TABLE temp.plan_keys")
        return dropped, back

    def register_trials(self, sweep_id: str, trials: Iterable[Trial]) -> None:
        """Journal trials a search chose, as ``pending`` with no attempt, before any of them starts.

        A search (bayesian, refine) decides its trials while it runs: registering each one when it
        is chosen gives it its number, key and parameters for good, so a resume after a crash runs
        exactly these trials instead of choosing others. A trial already journaled is left as it is.
        """
        with self.transaction() as conn:
            conn.executemany(
                """INSERT OR IGNORE INTO trials (sweep_id, key, idx, experiment_id, params_json, repeat, label, seed,
                                                 status, attempts)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0)""",
                [(sweep_id, t.key, t.index, t.experiment_id, canonical_json(t.params), t.repeat, t.label, t.seed)
                 for t in trials])

    def abandon_attempt(self, sweep_id: str, key: str, attempt: int, reason: str) -> None:
        """Mark an attempt of a dead coordinator as cancelled, its trial ready to run again."""
        now = utc_now()
        with self.transaction() as conn:
            conn.execute("""UPDATE attempts SET status='cancelled', end_time=?, error_tail=?
                            WHERE sweep_id=? AND key=? AND attempt=? AND status='running'""",
                         (now, reason, sweep_id, key, attempt))
            conn.execute("""UPDATE trials SET status='cancelled', end_time=?, error_message=?
                            WHERE sweep_id=? AND key=? AND status='running'""", (now, reason, sweep_id, key))


@dataclass(frozen=True)
class AttemptStart:
    """An attempt that started: what the journal records about it."""

    trial: Trial
    attempt: int
    attempt_dir: str
    host: str
    start_time: str
    pid: int | None = None  # known at once when the process started locally
    pgid: int | None = None


@dataclass(frozen=True)
class AttemptEnd:
    """An attempt that ended; ``final`` when no retry follows; ``merge_db`` its experiment rows."""

    result: TrialResult
    final: bool
    merge_db: str | os.PathLike[str] | None = None

    @property
    def merges(self) -> bool:
        return (self.merge_db is not None and self.result.status is TrialStatus.COMPLETED
                and os.path.isfile(self.merge_db))

    def refused(self, reason: str) -> AttemptEnd:
        """This end as ``failed`` for ``reason`` (its rows could not be merged), final, merging nothing."""
        result = dataclasses.replace(self.result, status=TrialStatus.FAILED, error=reason, invalid_config=True)
        return AttemptEnd(result, final=True, merge_db=None)


def _write_start(conn: sqlite3.Connection, sweep_id: str, start: AttemptStart) -> None:
    trial = start.trial
    conn.execute(
        """INSERT INTO trials (sweep_id, key, idx, experiment_id, params_json, repeat, label, seed, status,
                               attempts, start_time)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)
           ON CONFLICT(sweep_id, key) DO UPDATE SET status='running', attempts=excluded.attempts,
               start_time=excluded.start_time, end_time=NULL, error_message=NULL""",
        (sweep_id, trial.key, trial.index, trial.experiment_id, canonical_json(trial.params), trial.repeat,
         trial.label, trial.seed, start.attempt, start.start_time),
    )
    conn.execute(
        """INSERT OR REPLACE INTO attempts (sweep_id, key, attempt, status, start_time, host, attempt_dir, pid, pgid)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)""",
        (sweep_id, trial.key, start.attempt, start.start_time, start.host, start.attempt_dir, start.pid, start.pgid),
    )


def _write_end(conn: sqlite3.Connection, sweep_id: str, end: AttemptEnd) -> None:
    result = end.result
    conn.execute(
        """UPDATE attempts SET status=?, end_time=?, duration=?, exit_code=?, error_tail=?, host=?,
               metrics_json=?, extra_json=?, pid=COALESCE(pid, ?), pgid=COALESCE(pgid, ?)
           WHERE sweep_id=? AND key=? AND attempt=?""",
        (result.status.value, result.end_time, result.duration, result.exit_code, result.error or None,
         result.host, canonical_json(result.metrics), canonical_json(result.extra), result.pid, result.pid,
         sweep_id, result.key, result.attempt),
    )
    status = result.status.value if end.final else TrialStatus.PENDING.value
    conn.execute(
        """UPDATE trials SET status=?, metrics_json=?, extra_json=?, end_time=?, duration=?, error_message=?
           WHERE sweep_id=? AND key=?""",
        (status, canonical_json(result.metrics), canonical_json(result.extra), result.end_time, result.duration,
         result.error or None, sweep_id, result.key),
    )
