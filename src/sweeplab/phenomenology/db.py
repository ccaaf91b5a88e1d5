"""The experiment database: the original project's tables, in SQLite.

Tables (every one has ``experiment_id``; rows refer to each other only through
``experiment_id`` and ``cycle_number``):

``experiments``            one row per run: config, seed, status, start/end, totals
``experiment_cycles``      one row per cycle: crash flag and reason, peak memory, tokens
``messages``               every message of the conversation, with its role and kind
``self_reports``           one row per questionnaire answer, with stated confidences
``epistemic_assessments``  one row per tracked belief per self-report session
``interventions``          one row per firing of an intervention, with what it did
``memory_states``          the memory store after each cycle / crash / resurrection
``system_metrics``         footprint, limit, speed per cycle (when ``collect_metrics``)
``observations``           what the observers note (when the mind is watched), observer logs
``participants``           one row per mind of the trial (a pair, a hive ...): its seat, role, config
``mode_events``            what a mode records: rounds, predictions, requests, hints, identity shifts
``mode_observables``       the mode's measures of each mind after each cycle (the mode metrics)

A trial may hold several minds (a split-brain pair, a prisoner's-dilemma pair, a hive, a
subject and its observer: see :mod:`.encounter`). Every per-mind table has a ``participant``
column naming the mind's seat (``mind`` when there is one). ``experiment_cycles`` holds one
row per mind per cycle, so the experiment's cycle count is the number of distinct cycles and
its crash count the crashes of all its minds.

The sweep engine merges a trial's database into the main one table by table, re-running
each ``CREATE TABLE IF NOT EXISTS`` and copying the rows without the first ``id INTEGER
PRIMARY KEY`` column. Hence: surrogate keys only as ``id`` in first position, no foreign keys
on ``id``, no UNIQUE constraints. WAL journal, one commit per cycle.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..trial import utc_now

__all__ = ["ExperimentDatabase", "TABLES", "PARTICIPANT_TABLES", "utc_now"]

_ID = "id INTEGER PRIMARY KEY AUTOINCREMENT"

TABLES: dict[str, str] = {
    "experiments": f"""({_ID}, experiment_id TEXT NOT NULL, name TEXT, mode TEXT, description TEXT,
        research_question TEXT, model_path TEXT, mind TEXT, seed INTEGER, config_json TEXT, tags_json TEXT,
        status TEXT NOT NULL, start_time TEXT, end_time TEXT, total_cycles INTEGER DEFAULT 0,
        total_crashes INTEGER DEFAULT 0, duration_seconds REAL, simulated_seconds REAL, created_at TEXT)""",
    "experiment_cycles": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL,
        participant TEXT, start_time TEXT, end_time TEXT, crash_occurred INTEGER NOT NULL DEFAULT 0, crash_reason TEXT,
        memory_usage_peak REAL, ram_limit_gb REAL, tokens_generated INTEGER, context_tokens INTEGER,
        messages_count INTEGER, death_count INTEGER, simulated_seconds REAL)""",
    "messages": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL, participant TEXT,
        role TEXT NOT NULL, kind TEXT, content TEXT, tokens INTEGER, delivered INTEGER NOT NULL DEFAULT 1, timestamp TEXT)""",
    "self_reports": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL, participant TEXT,
        report_type TEXT,
        question_id TEXT, question TEXT NOT NULL, response TEXT, confidence REAL, memory_confidence REAL,
        identity_confidence REAL, death_count INTEGER, corrupted_memories INTEGER, tokens INTEGER,
        timestamp TEXT)""",
    "epistemic_assessments": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL,
        participant TEXT, report_type TEXT, belief_type TEXT NOT NULL, belief_state INTEGER, confidence REAL, ground_truth INTEGER,
        response TEXT, timestamp TEXT)""",
    "interventions": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL,
        participant TEXT, intervention_id TEXT, intervention_type TEXT, trigger TEXT, parameters_json TEXT, description TEXT,
        affected_count INTEGER, effect_json TEXT, timestamp TEXT)""",
    "memory_states": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL, participant TEXT,
        event TEXT,
        total_memories INTEGER, intact_memories INTEGER, corrupted_memories INTEGER, false_memories INTEGER,
        corruptions_total INTEGER, erased_total INTEGER, context_tokens INTEGER, memory_usage_gb REAL,
        ram_limit_gb REAL, snapshot_json TEXT, timestamp TEXT)""",
    "system_metrics": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL,
        participant TEXT, memory_usage_gb REAL, memory_limit_gb REAL, memory_percent REAL, context_tokens INTEGER,
        processed_tokens INTEGER, tokens_per_second REAL, cpu_threads INTEGER, gpu_layers INTEGER,
        process_rss_mb REAL, timestamp TEXT)""",
    "observations": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL, participant TEXT,
        observer TEXT, observation_type TEXT, content TEXT, severity REAL, tags_json TEXT, timestamp TEXT)""",
    "participants": f"""({_ID}, experiment_id TEXT NOT NULL, participant TEXT NOT NULL, role TEXT,
        lead INTEGER NOT NULL DEFAULT 0, mind TEXT, model_path TEXT, seed INTEGER, derived_from TEXT,
        config_json TEXT)""",
    "mode_events": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL, participant TEXT,
        event_type TEXT NOT NULL, content TEXT, data_json TEXT, timestamp TEXT)""",
    "mode_observables": f"""({_ID}, experiment_id TEXT NOT NULL, cycle_number INTEGER NOT NULL, participant TEXT,
        name TEXT NOT NULL, value REAL)""",
}

#: tables whose rows belong to one mind of the trial (they have a ``participant`` column)
PARTICIPANT_TABLES = frozenset(name for name, columns in TABLES.items() if "participant TEXT" in columns)



class ExperimentDatabase:
    """Read and write the experiment tables in ``db_path`` (created with its folder if missing).

    Writes are buffered in one open transaction until :meth:`commit`; the experiment commits
    once per cycle. Not thread-safe: one writer per database file. Rows of a per-mind table
    that name no ``participant`` get :attr:`participant`, the mind the experiment is speaking
    with (see :meth:`speaking_as`).

    >>> db = ExperimentDatabase(":memory:")
    >>> db.get_experiment_summary("nothing")["total_cycles"]
    0
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self.participant = "mind"
        if self.db_path != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.db_path, timeout=30.0)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        with self.conn:
            for table, columns in TABLES.items():
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {table} {columns}")
                self.conn.execute(f"CREATE INDEX IF NOT EXISTS idx_{table}_experiment ON {table} (experiment_id)")

    def close(self) -> None:
        """Commit what is pending and close."""
        try:
            self.conn.commit()
        finally:
            self.conn.close()

    def __enter__(self) -> ExperimentDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commit(self) -> None:
        """Make everything written so far durable."""
        self.conn.commit()

    def insert(self, table: str, **values: Any) -> None:
        """Insert one row (``dict``/``list`` values are stored as JSON text)."""
        if table not in TABLES:
            raise KeyError(f"unknown experiment table {table!r}")
        if table in PARTICIPANT_TABLES and "participant" not in values:
            values["participant"] = self.participant
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        row = [json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v for v in values.values()]
        self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)

    @contextmanager
    def speaking_as(self, participant: str) -> Iterator[None]:
        """Rows written inside the block belong to ``participant`` (code that knows one mind only, such as
        the self-report session, then needs no participant of its own)."""
        previous, self.participant = self.participant, participant
        try:
            yield
        finally:
            self.participant = previous

    def update_experiment(self, experiment_id: str, **values: Any) -> None:
        """Update the ``experiments`` row of ``experiment_id``."""
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.conn.execute(f"UPDATE experiments SET {assignments} WHERE experiment_id = ?",
                          [*values.values(), experiment_id])

    def experiment_exists(self, experiment_id: str) -> bool:
        """True when rows of ``experiment_id`` are already stored."""
        row = self.conn.execute("SELECT 1 FROM experiments WHERE experiment_id = ? LIMIT 1",
                                (experiment_id,)).fetchone()
        return row is not None

    def delete_experiment(self, experiment_id: str) -> None:
        """Remove every row of ``experiment_id`` from every table (and commit)."""
        with self.conn:
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table} WHERE experiment_id = ?", (experiment_id,))

    def _scalar(self, sql: str, *params: Any) -> Any:
        return self.conn.execute(sql, params).fetchone()[0]

    def get_experiment_summary(self, experiment_id: str) -> dict[str, Any]:
        """Totals of one experiment: cycles, crashes, messages, self-reports, interventions and more."""
        eid = experiment_id
        row = self.conn.execute(
            "SELECT name, mode, status, start_time, end_time, duration_seconds, simulated_seconds "
            "FROM experiments WHERE experiment_id = ? ORDER BY id DESC LIMIT 1", (eid,)).fetchone()
        name, mode, status, start, end, duration, simulated = row if row else (None,) * 7
        count = "SELECT COUNT(*) FROM {} WHERE experiment_id = ?"
        return {
            "experiment_id": eid, "name": name, "mode": mode, "status": status,
            "start_time": start, "end_time": end,
            "duration_seconds": duration or 0.0, "simulated_seconds": simulated or 0.0,
            "total_cycles": self._scalar(
                "SELECT COUNT(DISTINCT cycle_number) FROM experiment_cycles WHERE experiment_id = ?", eid),
            "total_crashes": self._scalar(
                "SELECT COALESCE(SUM(crash_occurred), 0) FROM experiment_cycles WHERE experiment_id = ?", eid),
            "total_messages": self._scalar(count.format("messages"), eid),
            "total_self_reports": self._scalar(count.format("self_reports"), eid),
            "total_interventions": self._scalar(count.format("interventions"), eid),
            "total_belief_assessments": self._scalar(count.format("epistemic_assessments"), eid),
            "total_observations": self._scalar(count.format("observations"), eid),
        }
