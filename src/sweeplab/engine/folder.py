"""The sweep folder ``{output_dir}/{sweep_id}/``: ownership lock, stored spec, events (the views
are :mod:`sweeplab.journal.views`).

The JSON files here are views of the journal, rewritten atomically (temp file + rename) and
never read back as the source of truth — except ``sweep_config.json``'s stored spec, which
``sweeplab resume`` uses so that no YAML is needed.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JournalError, SpecError, SweepLockedError, SweepNotFoundError
from ..journal.storage import StorageError, check_can_create, check_database
from ..planning.spec import SweepSpec, spec_from_mapping
from ..trial import utc_now

if TYPE_CHECKING:
    from ..planning.resolve import ResolvedSweep

__all__ = ["OwnerLock", "SweepLock", "JournalLock", "journal_lock_path", "open_in_sweep_folder", "EventLog", "load_stored_spec", "lock_fields", "check_sweep_storage", "FOLDER_FILES", "config_file_name", "stored_sweep_config", "LOCK_NAME"]

LOCK_NAME = ".coordinator.lock"

log = logging.getLogger(__name__)


def config_file_name(sweep_id: str, experiment_id: str) -> str:
    """The original layout's per-trial file: ``exp0001_<params>_config.json``."""
    short = experiment_id[len(sweep_id) + 1:] if experiment_id.startswith(sweep_id + "_") else experiment_id
    return f"{short}_config.json"


def open_in_sweep_folder(path: Path, flags: int, what: str) -> int:
    """``os.open`` of a file sweeplab keeps (a lock, ``events.jsonl``) that refuses a symbolic link
    or anything but a regular file there: writing through it would change a file elsewhere."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StorageError(f"{what} '{path}' is a symbolic link (to '{os.readlink(path)}'): sweeplab writes "
                               "it and will not write through a link. Remove the link and run again") from None
        if exc.errno in (errno.EISDIR, errno.ENOTDIR):
            raise StorageError(f"{what} '{path}' cannot be a file here ({exc.strerror}): remove or rename what "
                               "is in its place and run again") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StorageError(f"{what} '{path}' is not a regular file: remove it and run again")
    return fd


class OwnerLock:
    """One coordinator at a time: an exclusive ``flock`` on a file holding its pid and host.

    The kernel drops the lock when the owner dies (even by kill -9), so a dead coordinator
    never blocks a resume; a live one refuses a second. ``what`` names what is owned, for the
    refusal; ``note`` is written after pid and host (where the owner writes).
    """

    def __init__(self, path: Path, what: str, note: str = "") -> None:
        self.path = path
        self.what = what
        self.note = note
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_in_sweep_folder(self.path, os.O_RDWR | os.O_CREAT, "the lock file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SweepLockedError(
                f"{self.what} is owned by a running coordinator ({holder}; lock file '{self.path}'): wait for it "
                "to finish, or stop it (Ctrl-C) and resume") from None
        os.ftruncate(fd, 0)
        note = f" {self.note}" if self.note else ""
        os.write(fd, f"pid={os.getpid()} host={socket.gethostname()} since={time.strftime('%Y-%m-%dT%H:%M:%S')}"
                 f"{note}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OwnerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SweepLock(OwnerLock):
    """The sweep folder's lock (``.coordinator.lock``): one coordinator writes a sweep folder. It names
    the database too, so that a resume finds the sweep's stored spec should ``sweep_config.json`` be lost."""

    def __init__(self, sweep_dir: Path, db_path: Path | None = None) -> None:
        super().__init__(sweep_dir / LOCK_NAME, f"sweep folder '{sweep_dir}'",
                         note=f"db={db_path.resolve()}" if db_path is not None else "")


def journal_lock_path(db_path: Path, sweep_id: str) -> Path:
    """The lock of a sweep in a journal, beside the database: ``.experiments.db.<sweep_id>.lock``."""
    return db_path.parent / f".{db_path.name}.{sweep_id}.lock"


class JournalLock(OwnerLock):
    """One coordinator per (journal, sweep id), whatever sweep folder it writes to: the lock lives
    beside the database, named after the sweep id."""

    def __init__(self, db_path: Path, sweep_id: str, sweep_dir: Path) -> None:
        super().__init__(journal_lock_path(db_path, sweep_id), f"sweep '{sweep_id}' of the database '{db_path}'",
                         note=f"folder={sweep_dir.resolve()}")


#: what sweeplab keeps in a sweep folder that must be a regular file (never a link: it is written)
FOLDER_FILES = (LOCK_NAME, "events.jsonl", "sweep_config.json", "sweep_results.json", "completed_experiments.json")


def _check_file(path: Path, what: str) -> None:
    if os.path.islink(path):
        raise StorageError(f"{what} '{path}' is a symbolic link (to '{os.readlink(path)}'): sweeplab writes it and "
                           "will not write through a link. Remove the link and run again")
    if os.path.lexists(path) and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise StorageError(f"{what} '{path}' is {kind}: sweeplab writes a file there. Remove or rename it and run "
                           "again")


def check_sweep_storage(sweep: ResolvedSweep) -> None:
    """Refuse a run whose database or sweep folder cannot be used, before anything is written.

    The database must be a usable SQLite file or creatable (:func:`~sweeplab.journal.storage.check_database`);
    the sweep folder a folder, or creatable; the files sweeplab keeps in it (:data:`FOLDER_FILES`, the
    journal's lock beside the database) regular files and not symbolic links; ``trials`` a folder.
    """
    check_database(sweep.db_path)
    _check_file(journal_lock_path(sweep.db_path, sweep.sweep_id), "the journal's lock file")
    folder = sweep.sweep_dir
    fix = "Give another --output (output_dir) or --sweep-id"
    if not os.path.lexists(folder):
        check_can_create(folder, "the sweep folder", fix)
        return
    if not folder.is_dir():
        raise StorageError(f"the sweep folder '{folder}' is a file, not a folder. {fix}")
    for name in FOLDER_FILES:
        _check_file(folder / name, "the sweep folder's file")
    trials = folder / "trials"
    if os.path.lexists(trials) and not trials.is_dir():
        raise StorageError(f"'{trials}' is not a folder: sweeplab keeps the trials' attempts there. Remove or "
                           "rename it and run again")
    check_can_create(folder, "the sweep folder", fix)


_EVENT_ENCODER = json.JSONEncoder(default=str)  # one instance: json.dumps(default=...) builds one per call


class EventLog:
    """``events.jsonl``: one JSON line per event, for ``tail -f``.

    Lines are queued and written by :meth:`flush`, which the coordinator calls right after it
    journals what they report: one write per journal commit instead of one per event, and a
    line never announces what the journal does not hold yet.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = open_in_sweep_folder(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "the event log")
        self._lines: list[str] = []

    def write(self, event: str, **fields: Any) -> None:
        """Queue one event; it reaches the file with the next :meth:`flush`."""
        self._lines.append(_EVENT_ENCODER.encode({"time": utc_now(), "event": event, **fields}) + "\n")

    def flush(self) -> None:
        """Append the queued lines in one write (whole lines only, so ``tail -f`` never sees half of one)."""
        if self._lines:
            data = "".join(self._lines).encode("utf-8")
            self._lines.clear()
            try:
                while data:
                    data = data[os.write(self._fd, data):]
            except OSError as exc:
                exc.filename = exc.filename or str(self.path)
                raise

    def close(self) -> None:
        self.flush()
        os.close(self._fd)


def lock_fields(sweep_dir: Path) -> dict[str, str]:
    """What the sweep folder's lock file says of its last owner (pid, host, since, db); empty if unreadable."""
    try:
        fd = os.open(sweep_dir / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return {}
    try:
        text = os.read(fd, 8192).decode(errors="replace")
    except OSError:
        return {}
    finally:
        os.close(fd)
    text, _, db = text.strip().partition(" db=")  # the database comes last: its path may hold spaces
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    return dict(fields, db=db) if db else fields


def coordinator_gone(sweep_dir: Path | None) -> bool:
    """True when the sweep folder's lock names a coordinator on this host that no longer runs.

    The lock file is only read: taking the lock, even briefly, could make a starting resume fail.
    A lock of another host, or of a process of another user, is taken as alive.
    """
    if sweep_dir is None:
        return False
    fields = lock_fields(sweep_dir)
    try:
        pid = int(fields["pid"])
    except (KeyError, ValueError):
        return False
    if fields.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def _spec_in_journal(sweep_id: str, sweep_dir: Path) -> tuple[dict[str, Any], Path] | None:
    """The spec a sweep was run with, from a journal that holds it with this folder: the database its
    folder's lock names, else the default database. None when neither does."""
    from ..journal.reader import JournalReader  # only when sweep_config.json is gone

    candidates = [Path(path) for path in (lock_fields(sweep_dir).get("db"), SweepSpec.model_fields["db_path"].default)
                  if path]
    for db in dict.fromkeys(candidates):
        if not db.is_file():
            continue
        try:
            with JournalReader.open(db) as reader:
                row = reader.sweep(sweep_id)
        except (JournalError, StorageError) as exc:
            log.debug("no stored spec in '%s': %s", db, exc)
            continue
        if row is None or Path(row["sweep_dir"]).resolve() != sweep_dir.resolve():
            continue
        try:
            spec = json.loads(row["spec_json"])
        except ValueError:
            continue
        spec.pop("_resolved_params", None)
        return spec, db
    return None


def load_stored_spec(sweep_id: str, sweep_root: Path) -> tuple[SweepSpec, Path | None]:
    """The spec a sweep was started with: from its ``sweep_config.json``, or when that file is gone or
    unreadable, from the journal that holds the sweep (see :func:`_spec_in_journal`)."""
    folder = sweep_root / sweep_id
    config = folder / "sweep_config.json"
    problem = None
    if config.exists() and not config.is_file():
        raise StorageError(f"'{config}' is not a regular file: sweeplab keeps the sweep's stored spec there. Remove "
                           "what is in its place; 'sweeplab resume' then finds the spec in the sweep's database")
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))["spec"]
            if not isinstance(data, dict):
                raise TypeError(f"'spec' is a {type(data).__name__}")
            return spec_from_mapping(data, where=f"the spec stored in '{config}'"), None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            problem = f"'{config}' does not hold a readable stored sweep spec ({exc})"
    found = _spec_in_journal(sweep_id, folder) if folder.is_dir() else None
    if found is not None:
        data, db = found
        log.warning("%s: resuming with the spec stored in the database '%s'", problem or f"'{config}' is missing", db)
        return spec_from_mapping(data, where=f"the spec of sweep '{sweep_id}' stored in '{db}'"), None
    if problem is not None:
        raise SpecError(f"{problem}, and no database holding sweep '{sweep_id}' was found; "
                        "resume with 'sweeplab run CONFIG.yaml --resume' instead")
    existing = sorted(p.name for p in sweep_root.iterdir() if (p / "sweep_config.json").is_file()) \
        if sweep_root.is_dir() else []
    listing = ", ".join(existing) if existing else "none"
    raise SweepNotFoundError(f"sweep '{sweep_id}' not found in '{sweep_root}' (sweeps there: {listing}); "
                             "give --sweep-dir if it lives elsewhere")


def stored_sweep_config(sweep: ResolvedSweep, total: int) -> dict[str, Any]:
    """The ``sweep_config.json`` record: the original fields plus the spec needed to resume."""
    spec = sweep.spec.model_dump(mode="json")
    spec.update(sweep_id=sweep.sweep_id, base_config=str(sweep.base_path),
                db_path=str(sweep.db_path.resolve()), output_dir=str(sweep.sweep_dir.parent.resolve()),
                resume=True)
    return {
        "sweep_id": sweep.sweep_id,
        "description": sweep.spec.description,
        "base_config": sweep.spec.base_config,
        "base_config_path": str(sweep.base_path),
        "base_config_hash": sweep.base_hash,
        "sweep_params": sweep.sweep_params(),
        "zip": [list(axis.paths) for axis in sweep.axes if axis.zipped],
        "replicates": [label for label in sweep.labels],
        "repeats": sweep.replicates,
        "seed": sweep.spec.seed,
        "runner": sweep.runner_name,
        "parallel_jobs": sweep.spec.parallel,
        "jetson_optimized": sweep.spec.jetson_optimized,
        "timeout_seconds": sweep.spec.timeout,
        "max_retries": sweep.spec.max_retries,
        "db_path": sweep.spec.db_path,
        "db_path_resolved": str(sweep.db_path.resolve()),
        "output_dir": sweep.spec.output_dir,
        "tags": list(sweep.spec.tags),
        "total_experiments": total,
        "spec": spec,
    }
