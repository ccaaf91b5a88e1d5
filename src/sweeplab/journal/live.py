"""The live view's reads of the journal: what the dashboard asks beyond :class:`JournalReader`.

Every method is one short read (SQLite in autocommit mode: each statement is its own
transaction), so a reader never holds a snapshot the coordinator's checkpoint would wait for.
The connection is opened read-only (``mode=ro``) by :meth:`JournalReader.open`.

:func:`change_token` asks no SQL at all: the size and modification time of the database and
its write-ahead log change with every commit the coordinator makes, so a file-system ``stat``
tells whether anything can have changed since the last look.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import JournalError
from .reader import DROPPED, JournalReader

__all__ = ["LiveReader", "change_token", "EXPERIMENT_TABLE_ROWS"]

#: at most this many rows of each experiment table are shown for one trial
EXPERIMENT_TABLE_ROWS = 200


def change_token(*paths: Path | str) -> tuple[tuple[int, int], ...]:
    """(size, mtime in ns) of each path, (-1, -1) for a missing one: equal tokens mean no commit between them."""
    token = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            token.append((-1, -1))
        else:
            token.append((info.st_size, info.st_mtime_ns))
    return tuple(token)


def database_files(db_path: Path) -> tuple[Path, Path]:
    """The database and its write-ahead log: where every commit lands."""
    return db_path, Path(f"{db_path}-wal")


class LiveReader(JournalReader):
    """The dashboard's reads: sweeps of a database, running attempts, one trial and its attempts."""

    def _dicts(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._rows(sql, params)]

    def sweeps(self) -> list[dict[str, Any]]:
        """Every sweep of the database with its trial counts by status (empty without journal tables)."""
        if not self.has_journal():
            return []
        sweeps = self._dicts("SELECT sweep_id, description, sweep_dir, total_trials, status, created_at, updated_at"
                             " FROM sweeps ORDER BY created_at")
        counts: dict[str, dict[str, int]] = {}
        for row in self._rows("SELECT sweep_id, status, COUNT(*) FROM trials GROUP BY sweep_id, status"):
            counts.setdefault(row[0], {})[row[1]] = row[2]
        for sweep in sweeps:
            sweep["counts"] = counts.get(sweep["sweep_id"], {})
        return sweeps

    def fingerprint(self, sweep_id: str) -> tuple[Any, ...]:
        """What changes whenever anything a sweep page shows changes: its status and, per trial status,
        the count, attempts and latest start and end (one indexed query; other sweeps' writes leave it)."""
        sweep = self._rows("SELECT status, updated_at, total_trials FROM sweeps WHERE sweep_id = ?", (sweep_id,))
        trials = self._rows("SELECT status, COUNT(*), SUM(attempts), MAX(start_time), MAX(end_time) FROM trials "
                            "WHERE sweep_id = ? GROUP BY status ORDER BY status", (sweep_id,))
        return tuple(tuple(row) for row in sweep), tuple(tuple(row) for row in trials)

    def spec_json(self, sweep_id: str) -> str | None:
        """The stored spec of the sweep (None when the sweep is unknown)."""
        rows = self._rows("SELECT spec_json FROM sweeps WHERE sweep_id = ?", (sweep_id,))
        return rows[0][0] if rows else None

    def best(self, sweep_id: str, metric: str | None, *, maximize: bool) -> tuple[str | None, float | None]:
        """The best value of ``metric`` over the sweep's completed trials (None: its first metric)."""
        if metric is None:
            rows = self._rows("SELECT metrics_json FROM trials WHERE sweep_id = ? AND status = 'completed' "
                              "AND metrics_json != '{}' LIMIT 1", (sweep_id,))
            if not rows:
                return None, None
            try:
                metric = next(iter(json.loads(rows[0][0])), None)
            except ValueError:
                metric = None
            if metric is None:
                return None, None
        aggregate = "MAX" if maximize else "MIN"
        path = "$." + json.dumps(metric)  # quoted: a metric name may hold dots or spaces
        rows = self._rows(f"SELECT {aggregate}(json_extract(metrics_json, ?)) FROM trials "
                          "WHERE sweep_id = ? AND status = 'completed'", (path, sweep_id))
        value = rows[0][0] if rows else None
        return metric, float(value) if isinstance(value, (int, float)) else None

    def running(self, sweep_id: str) -> list[dict[str, Any]]:
        """Attempts running now, with their trial's experiment id and parameters, oldest first."""
        return self._dicts(
            """SELECT a.key, a.attempt, a.start_time, a.host, t.experiment_id, t.params_json FROM attempts a
               JOIN trials t ON t.sweep_id = a.sweep_id AND t.key = a.key
               WHERE a.sweep_id = ? AND a.status = 'running' ORDER BY a.start_time""", (sweep_id,))

    def failures(self, sweep_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest failed attempts (newest first) with their trial's status and attempt count."""
        return self._dicts(
            """SELECT a.key, a.attempt, a.status, a.exit_code, a.error_tail, a.end_time, t.experiment_id,
                      t.status AS trial_status, t.attempts AS trial_attempts FROM attempts a
               JOIN trials t ON t.sweep_id = a.sweep_id AND t.key = a.key
               WHERE a.sweep_id = ? AND a.status NOT IN ('completed', 'running') AND t.status != ?
               ORDER BY a.end_time DESC LIMIT ?""", (sweep_id, DROPPED, limit))

    def trial(self, sweep_id: str, key: str) -> dict[str, Any] | None:
        """The trial's row (None when the sweep has no such trial)."""
        rows = self._dicts("SELECT * FROM trials WHERE sweep_id = ? AND key = ?", (sweep_id, key))
        return rows[0] if rows else None

    def attempts(self, sweep_id: str, key: str) -> list[dict[str, Any]]:
        """Every attempt of one trial, first to last."""
        return self._dicts("SELECT * FROM attempts WHERE sweep_id = ? AND key = ? ORDER BY attempt", (sweep_id, key))

    def experiment_rows(self, experiment_id: str,
                        limit: int = EXPERIMENT_TABLE_ROWS) -> dict[str, dict[str, Any]]:
        """Rows an experiment wrote under ``experiment_id`` in tables a runner merged into the database.

        The runner's own tables (the phenomenology runner's ``self_reports`` and
        ``epistemic_assessments``, for one) are found by their ``experiment_id`` column, so that
        no runner needs to be known here. Returns ``{table: {"columns": [...], "rows": [[...]],
        "truncated": bool}}`` for the tables that have rows.
        """
        found: dict[str, dict[str, Any]] = {}
        for table in sorted(self.tables() - {"sweeps", "trials", "attempts"}):
            columns = self.table_columns(table)
            if "experiment_id" not in columns or table.startswith("sqlite_"):
                continue
            quoted = '"' + table.replace('"', '""') + '"'
            try:
                cursor = self.conn.execute(f"SELECT * FROM {quoted} WHERE experiment_id = ? LIMIT ?",
                                           (experiment_id, limit + 1))
                names = [d[0] for d in cursor.description]
                rows = [list(row) for row in cursor.fetchall()]
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read table '{table}' of the database: {exc}") from exc
            if rows:
                found[table] = {"columns": names, "rows": rows[:limit], "truncated": len(rows) > limit}
        return found
