"""Merging a completed attempt's own database (its experiment rows) into the sweep's database.

A trial writes its rows into ``experiment.db`` in its attempt folder; the writer attaches that
file as ``attempt_db`` and copies every table into the main database in the transaction that
marks the trial completed (:meth:`~sweeplab.journal.writer.Journal.record`). The rules:

* a table missing from the main database is created with the attempt's own ``CREATE TABLE``;
  one that exists gets the columns it lacks (``ALTER TABLE … ADD COLUMN``), so a trial writing
  a newer shape of a table loses nothing;
* a leading ``id INTEGER PRIMARY KEY`` column is left out, so the main database gives fresh ids;
  any other key is copied as it is, and two trials writing the same key collide;
* indexes are created when the main database has none of that name.

Whatever in the attempt's database makes this impossible (not SQLite, corrupt, a colliding key,
a table name the journal reserves, a NOT NULL column it does not fill) is the trial's fault:
:func:`attempt_db_problem` finds what can be seen before merging, and a merge that fails for
such a reason raises :class:`RowsRefused`, whose message says what to change in the trial.
Names are quoted as SQL identifiers, so any table or column name works.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .schema import readonly_uri

__all__ = ["RowsRefused", "JOURNAL_TABLES", "attempt_db_problem", "merge_attempt_rows", "quote", "refusal"]

#: the journal's own tables: a trial's database may not use these names
JOURNAL_TABLES = ("sweeps", "trials", "attempts")
_SQLITE_MAGIC = b"SQLite format 3\x00"


class RowsRefused(Exception):
    """A completed attempt's rows cannot be merged, because of what the attempt wrote."""


def quote(name: str) -> str:
    """``name`` as an SQL identifier (``we"ird`` → ``"we""ird"``)."""
    return '"' + name.replace('"', '""') + '"'


def _user_tables(conn: sqlite3.Connection, schema: str) -> list[tuple[str, str]]:
    return conn.execute(
        f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' AND substr(name, 1, 7) != 'sqlite_'"
        " ORDER BY rootpage").fetchall()


def attempt_db_problem(path: Path) -> str | None:
    """What makes the attempt's database at ``path`` unmergeable before anything is tried, or None.

    Reads it through its own read-only connection: not an SQLite file, corrupt (``PRAGMA
    quick_check``), or a table named like one of the journal's.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if head and head != _SQLITE_MAGIC:
        return "it is not an SQLite database. A trial's {db} file must be SQLite (or absent)"
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return f"it cannot be opened ({exc})"
    try:
        check = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        if check != ["ok"]:
            return "it is corrupt (" + "; ".join(" ".join(line.split()) for line in check) + ")"
        reserved = sorted({name for name, _ in _user_tables(conn, "main")} & set(JOURNAL_TABLES))
        if reserved:
            return (f"it has table(s) {', '.join(reserved)}, names the sweep journal uses for itself: "
                    "rename them in the trial")
    except sqlite3.Error as exc:
        return f"it cannot be read ({exc})"
    finally:
        conn.close()
    return None


def refusal(exc: sqlite3.Error) -> str:
    """Why the merge failed, and what to change in the trial."""
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in text.upper():
        return (f"its rows collide with rows already there ({text}): two trials wrote the same key. Give every "
                "trial's rows their own key (put the experiment id in it), or use a first column 'id INTEGER "
                "PRIMARY KEY', which the merge renumbers")
    if isinstance(exc, sqlite3.IntegrityError):
        return (f"its rows break a constraint of the table already there ({text}): the trial writes a table of "
                "the same name with a different shape than earlier trials")
    return text


def merge_attempt_rows(conn: sqlite3.Connection) -> None:
    """Copy every table of the attached ``attempt_db`` into ``main`` (see the module docstring).

    Raises :class:`sqlite3.Error` as the driver does; the caller decides whose fault it is.
    """
    main_tables = {name for name, _ in _user_tables(conn, "main")}
    for name, sql in _user_tables(conn, "attempt_db"):
        table = quote(name)
        if name not in main_tables:
            conn.execute(sql)  # an unqualified CREATE TABLE creates in main
        columns = conn.execute(f"PRAGMA attempt_db.table_info({table})").fetchall()
        main_columns = {row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")}
        for row in columns:
            if row[1] not in main_columns:
                conn.execute(f"ALTER TABLE main.{table} ADD COLUMN {quote(row[1])} {row[2] or ''}".rstrip())
        keep = [row[1] for row in columns
                if not (row[5] == 1 and row[1] == "id" and (row[2] or "").upper() == "INTEGER")]
        if not keep:
            continue
        listed = ", ".join(quote(column) for column in keep)
        conn.execute(f"INSERT INTO main.{table} ({listed}) SELECT {listed} FROM attempt_db.{table}")
    main_indexes = {row[0] for row in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'index'")}
    for name, sql in conn.execute(
            "SELECT name, sql FROM attempt_db.sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall():
        if name not in main_indexes:
            conn.execute(sql)
