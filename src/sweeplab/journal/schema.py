"""The journal's tables, shared by the writer (:mod:`sweeplab.journal.writer`) and every reader.

All live in the sweep's ``db_path`` (by default ``logs/experiments.db``) beside the
experiment tables a runner merges in. Times are UTC ISO 8601 strings; JSON columns hold
canonical JSON (sorted keys).

``sweeps``    one row per sweep: its validated spec and base config as run.
``trials``    one row per trial that was ever started: current status, attempt count,
              the metrics of its completed attempt. Trials never started have no row;
              trials a resume with ``--allow-drift`` left out of the plan are ``dropped``.
``attempts``  one row per attempt: its own status, times, exit code, error tail, host,
              process group and folder.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id         TEXT PRIMARY KEY,
    description      TEXT NOT NULL DEFAULT '',
    tags_json        TEXT NOT NULL DEFAULT '[]',
    spec_json        TEXT NOT NULL,
    base_config_json TEXT NOT NULL,
    base_hash        TEXT NOT NULL,
    sweep_dir        TEXT NOT NULL,
    total_trials     INTEGER NOT NULL,
    status           TEXT NOT NULL,          -- running | completed | incomplete | interrupted
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    sweep_id      TEXT NOT NULL,
    key           TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    experiment_id TEXT NOT NULL,
    params_json   TEXT NOT NULL,              -- {"dot.path": value, ...}
    repeat        INTEGER NOT NULL DEFAULT 0,
    label         TEXT,
    seed          INTEGER NOT NULL,
    status        TEXT NOT NULL,              -- running completed failed timeout crashed cancelled dropped
    attempts      INTEGER NOT NULL DEFAULT 0,
    metrics_json  TEXT NOT NULL DEFAULT '{}', -- numbers reported by the completed (or last) attempt
    start_time    TEXT,
    end_time      TEXT,
    duration      REAL,
    error_message TEXT,
    PRIMARY KEY (sweep_id, key)
);
CREATE INDEX IF NOT EXISTS trials_by_status ON trials (sweep_id, status);
CREATE TABLE IF NOT EXISTS attempts (
    sweep_id     TEXT NOT NULL,
    key          TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    start_time   TEXT NOT NULL,
    end_time     TEXT,
    duration     REAL,
    exit_code    INTEGER,
    error_tail   TEXT,
    host         TEXT,
    pid          INTEGER,
    pgid         INTEGER,
    attempt_dir  TEXT,
    metrics_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (sweep_id, key, attempt)
);
"""
