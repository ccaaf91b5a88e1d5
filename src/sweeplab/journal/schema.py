"""The journal's tables, shared by the writer (:mod:`sweeplab.journal.writer`) and every reader.

All live in the sweep's ``db_path`` (by default ``logs/experiments.db``) beside the
experiment tables a runner merges in. Times are UTC ISO 8601 strings; JSON columns hold
canonical JSON (sorted keys).

``sweeps``    one row per sweep: its validated spec and base config as run.
``trials``    one row per trial that was ever started: current status, attempt count,
              the metrics of its completed attempt (``metrics_json``: its finite numbers;
              ``extra_json``: every other value it reported, non-finite numbers as "nan",
              "inf", "-inf"). A completed trial with both empty reported nothing: "no metrics". Trials never started have no row;
              trials a resume with ``--allow-drift`` left out of the plan are ``dropped``.
``attempts``  one row per attempt: its own status, times, exit code, error tail, host,
              process group and folder.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import JournalError

__all__ = ["DDL", "SCHEMA_VERSION", "MIGRATIONS", "migrate", "connect", "readonly_uri", "is_storage_failure", "is_disk_full"]

SCHEMA_VERSION = 2

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
    extra_json    TEXT NOT NULL DEFAULT '{}', -- its other reported values (text, lists, "nan", "inf")
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
    extra_json   TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (sweep_id, key, attempt)
);
"""

#: columns added since the first schema: (table, column, definition). A database made by an older
#: version gets them on its first open for writing (:func:`migrate`); readers of an older database
#: treat a missing column as its default.
MIGRATIONS: tuple[tuple[str, str, str], ...] = (
    ("trials", "extra_json", "TEXT NOT NULL DEFAULT '{}'"),
    ("attempts", "extra_json", "TEXT NOT NULL DEFAULT '{}'"),
)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Add the columns of :data:`MIGRATIONS` a database lacks (inside the caller's transaction);
    returns the ``table.column`` names added. Existing rows get the column's default."""
    added = []
    for table, column, definition in MIGRATIONS:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if columns and column not in columns:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            added.append(f"{table}.{column}")
    return added


# SQLite's primary result codes that mean the database file or its disk failed, not the SQL
_STORAGE_CODES = frozenset({
    5,   # SQLITE_BUSY
    6,   # SQLITE_LOCKED
    7,   # SQLITE_NOMEM
    8,   # SQLITE_READONLY
    10,  # SQLITE_IOERR
    11,  # SQLITE_CORRUPT
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
    26,  # SQLITE_NOTADB
})
_SQLITE_FULL = 13


def _primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_storage_failure(exc: BaseException) -> bool:
    """Whether a driver error means the database file or its disk failed (rather than the statement)."""
    return _primary_code(exc) in _STORAGE_CODES


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is SQLite's "database or disk is full" or ENOSPC/EDQUOT."""
    import errno

    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:  # the error, what it wraps, and what it happened while handling
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if _primary_code(error) == _SQLITE_FULL:
            return True
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        pending += [e for e in (error.__cause__, error.__context__) if e is not None]
    return False


def readonly_uri(db_path: Path) -> str:
    """The URI that opens ``db_path`` for reading without creating anything beside it.

    A read-only open of a WAL database makes SQLite create ``-wal`` and ``-shm`` files when
    they are missing; with no ``-wal`` file no writer is active and everything is in the main
    file, so the database can be opened as immutable, which touches nothing.
    """
    path = Path(db_path).resolve()
    uri = path.as_uri() + "?mode=ro"
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return uri


def connect(db_path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the database with the settings every sweeplab connection uses."""
    try:
        if readonly:
            conn = sqlite3.connect(readonly_uri(db_path), uri=True, timeout=30, isolation_level=None)
        else:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the database '{db_path}': {exc}") from exc
    conn.row_factory = sqlite3.Row
    return conn
