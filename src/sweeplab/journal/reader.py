"""The journal's read side: every question the rest of sweeplab asks of the sweep tables, typed.

A :class:`JournalReader` wraps one connection. Opened with :meth:`JournalReader.open` it is
read-only and creates nothing beside the database (status, analysis, the dashboard, a resume's
checks before anything is written); the writer (:class:`~sweeplab.journal.writer.Journal`) is a
reader too, on its own connection. No SQL against ``sweeps``, ``trials`` or ``attempts`` lives
outside this package.

Trials a resume with ``--allow-drift`` left out of the plan are ``dropped``: they keep their
rows, but the views, counts of the plan, errors and analysis leave them out.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import JournalError
from ..trial import NO_METRICS, TrialStatus, canonical_json
from .schema import connect

__all__ = ["JournalReader", "TrialState", "TrialRecord", "TrialExtra", "AttemptError", "DurationSummary",
           "DROPPED", "NO_METRICS"]

DROPPED = TrialStatus.DROPPED.value
COMPLETED = TrialStatus.COMPLETED.value
_RESULT_FIELDS = ("total_cycles", "total_crashes", "total_messages")

# One JSON record per trial, built by SQLite's JSON functions: the stored JSON columns are
# spliced in as they are, so a 100,000-trial view costs a query, not 200,000 json.loads.
_RECORD_SQL = """
SELECT json_object(
    'experiment_id', experiment_id, 'parameters', json(params_json), 'status', status,
    'start_time', start_time, 'end_time', end_time,
    {counters},
    'error_message', error_message, 'db_path', :db_path, 'metrics', json(metrics_json),
    'attempts', attempts, 'duration', duration, 'replicate', label)
FROM trials WHERE sweep_id = :sweep_id AND status != :dropped ORDER BY idx
""".format(counters=",\n    ".join(
    f"'{name}', COALESCE(json_extract(metrics_json, '$.{name}'), 0)" for name in _RESULT_FIELDS))


class TrialState(NamedTuple):
    """Where a started trial stands. ``params_json`` and ``repeat`` are None when not asked for."""

    status: str
    attempts: int
    experiment_id: str
    params_json: str | None
    repeat: int | None


class TrialRecord(NamedTuple):
    """One trial as the analysis reads it (the columns of ``trials`` it uses)."""

    experiment_id: str
    key: str
    idx: int
    repeat: int
    label: str | None
    status: str
    attempts: int
    metrics_json: str
    params_json: str
    start_time: str | None
    end_time: str | None
    duration: float | None
    error_message: str | None


class TrialExtra(NamedTuple):
    """The values a trial reported that are not finite numbers (``extra_json``), for the analysis.

    ``extra`` maps a name to its JSON value: text, booleans, lists, mappings, and non-finite numbers
    as the strings ``"nan"``, ``"inf"``, ``"-inf"``. ``no_metrics``: the trial completed and reported
    nothing at all (neither a number nor any other value).
    """

    experiment_id: str
    key: str
    status: str
    extra: dict[str, Any]
    no_metrics: bool


class AttemptError(NamedTuple):
    """A failed attempt, for ``status``: which trial, which attempt, how it ended and its error tail."""

    experiment_id: str
    attempt: int
    status: str
    error_tail: str | None


class DurationSummary(NamedTuple):
    """Completed trials' mean duration and the span of their times (None where no trial completed)."""

    mean_duration: float | None
    first_start: str | None
    last_end: str | None


class JournalReader:
    """Typed reads of the sweep tables on ``conn`` (``sqlite3.Row`` rows)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._extra_column: bool | None = None  # does ``trials`` have extra_json (older databases lack it)

    @classmethod
    def open(cls, db_path: Path | str) -> JournalReader:
        """A read-only reader of the database at ``db_path`` (which must exist)."""
        return cls(connect(Path(db_path), readonly=True))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the sweep journal: {exc}") from exc

    # --- the database as a whole ---------------------------------------------------------
    def tables(self) -> set[str]:
        """Names of the tables the database holds (the journal's and any experiment's)."""
        return {row[0] for row in self._rows("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def has_journal(self) -> bool:
        return "trials" in self.tables()

    def table_columns(self, table: str) -> set[str]:
        """Column names of ``table`` (empty when it does not exist)."""
        quoted = '"' + table.replace('"', '""') + '"'
        return {row[1] for row in self._rows(f"PRAGMA table_info({quoted})")}

    def _extra_sql(self) -> str:
        """The SQL of a trial's ``extra_json``: the column, or its default in a database of an older version."""
        if self._extra_column is None:
            self._extra_column = "extra_json" in self.table_columns("trials")
        return "t.extra_json" if self._extra_column else "'{}'"

    # --- sweeps ---------------------------------------------------------------------------
    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        """The sweep's row, or None (also when the database has no journal tables yet)."""
        try:
            row = self.conn.execute("SELECT * FROM sweeps WHERE sweep_id = ?", (sweep_id,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # no journal tables yet
                return None
            raise JournalError(f"cannot read the sweep journal: {exc}") from exc
        except sqlite3.Error as exc:  # not a database, or a damaged one
            raise JournalError(f"cannot read the sweep journal: {exc}") from exc
        return dict(row) if row else None

    def base_history(self, base_hash: str) -> tuple[float | None, int]:
        """Mean duration and count of completed trials of any sweep of this base config."""
        rows = self._rows("""SELECT AVG(t.duration), COUNT(*) FROM trials t JOIN sweeps s ON s.sweep_id = t.sweep_id
                             WHERE s.base_hash = ? AND t.status = ? AND t.duration IS NOT NULL""",
                          (base_hash, COMPLETED))
        return (rows[0][0], rows[0][1]) if rows else (None, 0)

    # --- trials ---------------------------------------------------------------------------
    def completed_keys(self, sweep_id: str) -> set[str]:
        return {row[0] for row in self._rows("SELECT key FROM trials WHERE sweep_id = ? AND status = ?",
                                             (sweep_id, COMPLETED))}

    def completed_count(self, sweep_id: str) -> int:
        rows = self._rows("SELECT COUNT(*) FROM trials WHERE sweep_id = ? AND status = ?", (sweep_id, COMPLETED))
        return rows[0][0] if rows else 0

    def trial_states(self, sweep_id: str, *, with_params: bool = True) -> dict[str, TrialState]:
        """key → :class:`TrialState` for every started trial.

        Without ``with_params`` the parameters and repeat are None: a resume of a huge sweep then
        holds no parameter text in memory.
        """
        if not with_params:
            rows = self._rows("SELECT key, status, attempts, experiment_id FROM trials WHERE sweep_id = ?",
                              (sweep_id,))
            return {row[0]: TrialState(row[1], row[2], row[3], None, None) for row in rows}
        rows = self._rows(
            "SELECT key, status, attempts, experiment_id, params_json, repeat FROM trials WHERE sweep_id = ?",
            (sweep_id,))
        # re-spelled canonically: a journal written by an older version compares equal
        return {row[0]: TrialState(row[1], row[2], row[3], canonical_json(json.loads(row[4])), row[5]) for row in rows}

    def counts(self, sweep_id: str) -> dict[str, int]:
        """Trials by status (``dropped`` included: callers that show the plan leave it out)."""
        rows = self._rows("SELECT status, COUNT(*) FROM trials WHERE sweep_id = ? GROUP BY status", (sweep_id,))
        return {row[0]: row[1] for row in rows}

    def duration_summary(self, sweep_id: str) -> DurationSummary:
        rows = self._rows("""SELECT AVG(duration), MIN(start_time), MAX(end_time) FROM trials
                             WHERE sweep_id = ? AND status = ?""", (sweep_id, COMPLETED))
        return DurationSummary(*rows[0]) if rows else DurationSummary(None, None, None)

    def duration_hints(self, sweep_id: str, base_hash: str) -> dict[str, float]:
        """Observed durations of finished attempts: by trial key (this sweep) and by params (same base).

        Keys of the result are trial keys, or ``"params:" + params_json`` for history of other
        sweeps of the same base config.
        """
        hints: dict[str, float] = {}
        # This sweep: only trials still to run matter (completed ones are skipped anyway).
        rows = self._rows(
            """SELECT a.key, MAX(a.duration) FROM trials t JOIN attempts a ON a.sweep_id = t.sweep_id AND a.key = t.key
               WHERE t.sweep_id = ? AND t.status != ? AND a.duration IS NOT NULL
                 AND a.status IN ('completed', 'failed', 'crashed')
               GROUP BY a.key""", (sweep_id, COMPLETED))
        hints.update((row[0], row[1]) for row in rows)
        # Other sweeps of the same base config: the same parameters likely take as long again.
        rows = self._rows(
            """SELECT t.params_json, MAX(t.duration) FROM sweeps s JOIN trials t ON t.sweep_id = s.sweep_id
               WHERE s.base_hash = ? AND s.sweep_id != ? AND t.status = ? AND t.duration IS NOT NULL
               GROUP BY t.params_json""", (base_hash, sweep_id, COMPLETED))
        hints.update(("params:" + canonical_json(json.loads(row[0])), row[1]) for row in rows)
        return hints

    def trial_records(self, sweep_id: str) -> list[TrialRecord]:
        """Every trial of the plan (not the dropped ones), in plan order."""
        rows = self._rows(
            "SELECT experiment_id, key, idx, repeat, label, status, attempts, metrics_json, params_json,"
            " start_time, end_time, duration, error_message FROM trials WHERE sweep_id = ? AND status != ?"
            " ORDER BY idx", (sweep_id, DROPPED))
        return [TrialRecord(*row) for row in rows]

    def trial_extras(self, sweep_id: str) -> list[TrialExtra]:
        """Every trial of the plan (not the dropped ones) with its non-numeric reported values and
        whether it is a completed trial that reported no metrics, in plan order.

        >>> # for one in reader.trial_extras("sweep_1"): one.extra.get("optimizer"), one.no_metrics
        """
        rows = self._rows(
            f"SELECT t.experiment_id, t.key, t.status, {self._extra_sql()}, t.metrics_json FROM trials t"
            " WHERE t.sweep_id = ? AND t.status != ? ORDER BY t.idx", (sweep_id, DROPPED))
        extras = []
        for experiment_id, key, status, extra_json, metrics_json in rows:
            extra = json.loads(extra_json or "{}")
            empty = not extra and (metrics_json or "{}") == "{}"
            extras.append(TrialExtra(experiment_id, key, status, extra, status == COMPLETED and empty))
        return extras

    def no_metrics_count(self, sweep_id: str) -> int:
        """Completed trials of the plan that reported no metrics at all (the ``no metrics`` flag)."""
        rows = self._rows(f"SELECT COUNT(*) FROM trials t WHERE t.sweep_id = ? AND t.status = ?"
                          f" AND t.metrics_json = '{{}}' AND {self._extra_sql()} = '{{}}'", (sweep_id, COMPLETED))
        return rows[0][0] if rows else 0

    def best_trial(self, sweep_id: str, metric: str, *,
                   maximize: bool) -> tuple[str, dict[str, Any], float] | None:
        """(experiment_id, parameters, value) of the completed trial with the best ``metric``, the first in plan
        order among equals; None when no completed trial reported it. One query, whatever the sweep's size."""
        if '"' in metric:  # a JSON path of SQLite cannot name such a key: compare in Python
            return self._best_by_scan(sweep_id, metric, maximize)
        path = '$."' + metric + '"'
        rows = self._rows(
            f"""SELECT experiment_id, params_json, json_extract(metrics_json, :path) AS value FROM trials
                WHERE sweep_id = :sweep_id AND status = :completed
                  AND json_type(metrics_json, :path) IN ('integer', 'real')
                ORDER BY value {'DESC' if maximize else 'ASC'}, idx LIMIT 1""",
            {"path": path, "sweep_id": sweep_id, "completed": COMPLETED})
        return (rows[0][0], json.loads(rows[0][1] or "{}"), float(rows[0][2])) if rows else None

    def _best_by_scan(self, sweep_id: str, metric: str, maximize: bool) -> tuple[str, dict[str, Any], float] | None:
        best: tuple[str, str, float] | None = None
        for experiment_id, params_json, metrics_json in self._rows(
                "SELECT experiment_id, params_json, metrics_json FROM trials WHERE sweep_id = ? AND status = ?"
                " ORDER BY idx", (sweep_id, COMPLETED)):
            value = json.loads(metrics_json or "{}").get(metric)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and (
                    best is None or (value > best[2] if maximize else value < best[2])):
                best = (experiment_id, params_json, float(value))
        return (best[0], json.loads(best[1] or "{}"), best[2]) if best else None

    def result_lines(self, sweep_id: str, db_path: str) -> Iterator[str]:
        """The ``sweep_results.json`` record of every trial of the plan, one JSON text each, in plan order."""
        try:
            cursor = self.conn.execute(_RECORD_SQL, {"sweep_id": sweep_id, "db_path": db_path, "dropped": DROPPED})
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the sweep journal: {exc}") from exc
        return (row[0] for row in cursor)

    def completed_id_lines(self, sweep_id: str) -> Iterator[str]:
        """The experiment ids of completed trials as JSON strings, in plan order."""
        cursor = self.conn.execute(
            "SELECT json_quote(experiment_id) FROM trials WHERE sweep_id = ? AND status = ? ORDER BY idx",
            (sweep_id, COMPLETED))
        return (row[0] for row in cursor)

    def completed_experiment_rows(self, sweep_id: str, table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """``columns`` of an experiment table (keyed by ``experiment_id``) for the sweep's completed trials.

        ``table`` and ``columns`` are the caller's fixed names (e.g. the phenomenology runner's
        ``self_reports``), never user input.
        """
        names = ", ".join(columns)
        return [tuple(row) for row in self._rows(
            f"SELECT {names} FROM {table} WHERE experiment_id IN "
            "(SELECT experiment_id FROM trials WHERE sweep_id = ? AND status = ?)", (sweep_id, COMPLETED))]

    # --- attempts -------------------------------------------------------------------------
    def attempt_states(self, sweep_id: str) -> list[dict[str, Any]]:
        """Every journaled attempt of the sweep: key, attempt number, status."""
        return [dict(row) for row in self._rows("SELECT key, attempt, status FROM attempts WHERE sweep_id = ?",
                                                (sweep_id,))]

    def running_attempts(self, sweep_id: str) -> list[dict[str, Any]]:
        """Attempts still marked running (their coordinator died)."""
        return [dict(row) for row in self._rows("SELECT * FROM attempts WHERE sweep_id = ? AND status = 'running'",
                                                (sweep_id,))]

    def last_errors(self, sweep_id: str, limit: int = 5) -> list[AttemptError]:
        """The latest failed attempts of trials of the plan, newest first."""
        rows = self._rows("""SELECT t.experiment_id, a.attempt, a.status, a.error_tail FROM attempts a
                             JOIN trials t ON t.sweep_id = a.sweep_id AND t.key = a.key
                             WHERE a.sweep_id = ? AND a.status NOT IN ('completed', 'running')
                               AND t.status != ?
                             ORDER BY a.end_time DESC LIMIT ?""", (sweep_id, DROPPED, limit))
        return [AttemptError(*row) for row in rows]
