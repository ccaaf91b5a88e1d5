"""Where sweep state is stored, and what goes wrong with it: the errors of storage, and the checks
of a database path made before anything is written.

::

    SweepError
    ├── UserError
    │   └── StorageError     a database or sweep-folder path is unusable: exit 2, nothing written
    └── StorageFailure       the storage failed while a sweep ran: exit 1, resumable
        └── DiskFullError    a file system filled up

All carry a message meant for the user as it is (what, where, how to fix).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from pathlib import Path

from ..errors import SweepError, UserError
from .schema import readonly_uri

__all__ = ["StorageError", "StorageFailure", "DiskFullError", "check_can_create", "check_database", "nearest_existing"]


class StorageError(UserError):
    """A database or sweep-folder path sweeplab must use is unusable (a folder where a file belongs,
    not an SQLite database, corrupt, a symbolic link): nothing was written."""


class StorageFailure(SweepError):
    """A file or the database failed while the sweep ran. The journal holds everything up to the
    failed write (each write is one transaction); the sweep resumes once the cause is fixed."""

    exit_code = 1


class DiskFullError(StorageFailure):
    """A file system filled up while the sweep ran (ENOSPC, EDQUOT, SQLite's "database or disk is
    full"): free space and resume."""


_SQLITE_MAGIC = b"SQLite format 3\x00"


def nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (what a first write would create things in)."""
    path = Path(os.path.abspath(path))
    return next(parent for parent in (path, *path.parents) if os.path.lexists(parent))


def check_can_create(path: Path, what: str, fix: str) -> None:
    """Refuse ``path`` (a file or folder sweeplab will create, or a folder it writes in) when that cannot
    be done; writes nothing.

    The nearest existing ancestor must be a folder in which a file can really be made: a
    probe file is created there and removed at once (permissions, read-only and pseudo file
    systems such as /proc all answer truthfully that way, which ``os.access`` does not).
    """
    ancestor = nearest_existing(path)
    if not ancestor.is_dir():
        raise StorageError(f"{what} '{path}' cannot be created: '{ancestor}' is a file, not a folder. {fix}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".sweeplab-probe-", dir=ancestor)
    except OSError as exc:
        raise StorageError(f"{what} '{path}' cannot be written: nothing can be created in '{ancestor}' "
                           f"({exc.strerror or exc}). {fix}") from None
    os.close(fd)
    os.unlink(probe)


def check_database(db_path: Path) -> None:
    """Refuse a database path that cannot hold a journal, before anything is written.

    An existing path must be a regular SQLite file, whole (not truncated) and readable, with its
    journal tables intact (``PRAGMA quick_check`` of those tables; the experiment tables are
    left alone, they may be large); an empty file is an empty database. A missing one must be
    creatable (see :func:`check_can_create`).
    """
    fix = "Give another --db (db_path), e.g. logs/experiments.db"
    if not os.path.lexists(db_path):
        check_can_create(db_path, "the database", fix)
        return
    try:
        info = os.stat(db_path)
    except OSError as exc:
        raise StorageError(f"the database '{db_path}' cannot be used ({exc.strerror or exc}). {fix}") from None
    if stat.S_ISDIR(info.st_mode):
        raise StorageError(f"the database '{db_path}' is a folder: give the path of a database file, e.g. --db "
                           f"{Path(db_path) / 'experiments.db'}")
    if not stat.S_ISREG(info.st_mode):
        raise StorageError(f"the database '{db_path}' is not a regular file (a device, pipe or socket): give the "
                           "path of an SQLite database file (it is created if missing)")
    damaged = f"Restore it from a backup, or give another --db (db_path); 'sqlite3 {db_path} .recover' saves what is " \
              "still readable"
    try:
        with open(db_path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise StorageError(f"the database '{db_path}' cannot be read ({exc.strerror or exc}). {fix}") from None
    if not header:
        return  # an empty file is an empty database
    if not header.startswith(_SQLITE_MAGIC):
        raise StorageError(f"'{db_path}' is not an SQLite database (it starts with {header[:16]!r}). {fix}, or move "
                           "that file away")
    if len(header) < 100:
        raise StorageError(f"the database '{db_path}' is truncated ({info.st_size} bytes, less than its header). "
                           + damaged)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # with a write-ahead log, pages may live there (a checkpoint cut short by a full disk leaves the
    # header counting pages the file does not hold yet): SQLite reads them from the log
    wal = f"{db_path}-wal"
    has_wal = os.path.exists(wal) and os.path.getsize(wal) > 0
    if not has_wal and header[24:28] == header[92:96] and pages and info.st_size < pages * page_size:
        raise StorageError(f"the database '{db_path}' is truncated: its header counts {pages} pages of {page_size} "
                           f"bytes, the file holds {info.st_size} bytes. " + damaged)
    problem = _journal_damage(db_path)
    if problem:
        raise StorageError(f"the database '{db_path}' is damaged ({problem}). " + damaged)
    for path, kind in ((db_path, "the database"), (Path(db_path).parent, "the database's folder")):
        if not os.access(path, os.W_OK):
            raise StorageError(f"{kind} '{path}' is not writable (read-only file system, or no permission). {fix}")


def _journal_damage(db_path: Path) -> str | None:
    """What a read of the schema and a quick check of the journal's tables find wrong, or None."""
    try:
        conn = sqlite3.connect(readonly_uri(Path(db_path)), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in ("sweeps", "trials", "attempts"):
            if table in names:
                found = [row[0] for row in conn.execute(f"PRAGMA quick_check({table})")]
                if found != ["ok"]:
                    return "; ".join(" ".join(line.split()) for line in found[:3])
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None
