"""Which sweeps the dashboard may show, and the only files of theirs it may read.

A sweep is known when its folder ``<sweep_dir>/<sweep_id>/sweep_config.json`` exists, or when the
dashboard's database has a row for it. A sweep id from a URL is first checked against the spec's
rule for sweep ids (letters, digits, ``-``, ``_``, ``.``; no ``..``), then looked up; a trial key
must be hexadecimal. Files are read only below the sweep's own folder (resolved, symbolic links
refused), so no URL reaches any other part of the file system.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..planning.spec import check_sweep_id

__all__ = ["Catalog", "SweepEntry", "valid_sweep_id", "valid_trial_key", "read_tail", "coordinator_gone",
           "TAIL_BYTES"]

log = logging.getLogger(__name__)

#: the end of a trial's stdout or stderr the trial page shows
TAIL_BYTES = 8192
_TRIAL_KEY = re.compile(r"[0-9a-f]{1,64}")


def valid_sweep_id(sweep_id: str) -> bool:
    """Whether ``sweep_id`` is a sweep id a sweep could have (so a safe folder name)."""
    try:
        check_sweep_id(sweep_id)
    except SpecError:
        return False
    return True


def valid_trial_key(key: str) -> bool:
    """Whether ``key`` has the form of a trial key (hexadecimal)."""
    return bool(_TRIAL_KEY.fullmatch(key))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(4_000_000))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def read_tail(folder: Path, name: str, root: Path, limit: int = TAIL_BYTES) -> str | None:
    """The last ``limit`` bytes of ``folder/name`` as text, if that file lies below ``root``.

    None when the file is missing, is not a regular file, is reached through a symbolic link or
    lies outside ``root`` (the sweep's folder).
    """
    try:
        target = (folder / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root.resolve()):
        log.warning("refused to read '%s': outside the sweep folder '%s'", target, root)
        return None
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ELOOP):
            log.warning("cannot read '%s': %s", target, exc)
        return None
    with os.fdopen(fd, "rb") as handle:
        if not os.path.isfile(target):
            return None
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - limit))
        data = handle.read(limit)
    text = data.decode("utf-8", errors="replace")
    return ("…" + text) if size > limit else text


def coordinator_gone(folder: Path | None) -> bool:
    """True when the sweep folder's lock names a coordinator on this host that no longer runs."""
    from ..engine.folder import coordinator_gone as gone  # imported here: it brings pydantic

    return gone(folder)


@dataclass(frozen=True)
class SweepEntry:
    """A sweep the dashboard knows: its id, its folder (None if it has none here) and its database."""

    sweep_id: str
    folder: Path | None
    db_path: Path
    config: dict[str, Any]

    @property
    def spec(self) -> dict[str, Any]:
        """The stored spec (the ``spec`` of ``sweep_config.json``), empty when unknown."""
        spec = self.config.get("spec")
        return spec if isinstance(spec, dict) else {}


class Catalog:
    """The sweeps under ``sweep_dir`` and in the database ``db_path`` (either may not exist yet)."""

    def __init__(self, sweep_dir: Path, db_path: Path) -> None:
        self.sweep_dir = Path(sweep_dir).resolve()
        self.db_path = Path(db_path).resolve()
        # sweep id -> (size and mtime of its sweep_config.json, the entry read from it): the watcher asks
        # for every sweep's database twice a second, and the file rarely changes
        self._entries: dict[str, tuple[tuple[int, int], SweepEntry]] = {}

    def folders(self) -> dict[str, Path]:
        """sweep id → folder, for every folder of ``sweep_dir`` holding a ``sweep_config.json``."""
        try:
            names = os.listdir(self.sweep_dir)
        except OSError:
            return {}
        return {name: self.sweep_dir / name for name in sorted(names)
                if valid_sweep_id(name) and os.path.isfile(self.sweep_dir / name / "sweep_config.json")}

    def entry(self, sweep_id: str) -> SweepEntry | None:
        """The sweep ``sweep_id`` (None when the id is not valid or the sweep has no folder here).

        A sweep known only from the database (its folder elsewhere) is shown from the database
        alone: its files are not read.
        """
        if not valid_sweep_id(sweep_id):
            return None
        folder = self.sweep_dir / sweep_id
        try:
            info = os.stat(folder / "sweep_config.json")
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            return SweepEntry(sweep_id, None, self.db_path, {})
        stamp = (info.st_size, info.st_mtime_ns)
        cached = self._entries.get(sweep_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        config = _read_json(folder / "sweep_config.json")
        db = config.get("db_path_resolved") or config.get("db_path")
        db_path = Path(db) if isinstance(db, str) and db else self.db_path
        if not db_path.is_absolute():  # the run's paths are relative to where it ran: assume here
            db_path = db_path.resolve()
        entry = SweepEntry(sweep_id, folder, db_path, config)
        self._entries[sweep_id] = (stamp, entry)
        return entry

    def databases(self) -> set[Path]:
        """Every database a sweep of the catalog writes (the dashboard's own included)."""
        found = {self.db_path}
        for sweep_id in self.folders():
            entry = self.entry(sweep_id)
            if entry is not None:
                found.add(entry.db_path)
        return found
