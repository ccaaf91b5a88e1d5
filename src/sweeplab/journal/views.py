"""The JSON views of a sweep, regenerated from the journal: ``sweep_results.json`` and
``completed_experiments.json`` in the sweep folder.

``sweep_results.json`` is the Season 3 lab's object, so the lab's scripts read it unchanged::

    {"sweep_id": ..., "timestamp": UTC ISO 8601 of this writing, "total_experiments": trials planned,
     "completed_experiments": trials completed, "results": [one record per trial of the plan]}

Each record has the lab's keys (``experiment_id``, ``parameters`` {dot path: value}, ``status``,
``start_time``, ``end_time``, ``total_cycles``, ``total_crashes``, ``total_messages``,
``error_message``) and sweeplab's (``db_path``, ``metrics``, ``attempts``, ``duration``,
``replicate``). ``status`` is one of sweeplab's trial states, a superset of the lab's
``completed``/``failed``/``timeout``. The lab's tool counted every result as completed; here
``completed_experiments`` counts the completed ones. ``completed_experiments.json`` is the list of
their experiment ids.

Views are written atomically (temp file + rename), one record per line so they stay readable
and ``tail -f``-friendly at any size, and never read back as the source of truth.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ..trial import utc_now
from .reader import JournalReader

__all__ = ["write_views", "sweep_results", "write_json_atomic", "atomic_file", "current_umask"]


def sweep_results(reader: JournalReader, sweep_id: str, db_path: str) -> list[dict[str, Any]]:
    """The original ``sweep_results.json`` records (plus metrics and attempts), from the journal."""
    return [json.loads(line) for line in reader.result_lines(sweep_id, db_path)]


def write_views(reader: JournalReader, sweep_id: str, sweep_dir: Path, db_path: str) -> None:
    """Regenerate ``sweep_results.json`` and ``completed_experiments.json`` from the journal."""
    sweep = reader.sweep(sweep_id) or {}
    head = {"sweep_id": sweep_id, "timestamp": utc_now(), "total_experiments": sweep.get("total_trials"),
            "completed_experiments": reader.completed_count(sweep_id)}
    with atomic_file(sweep_dir / "sweep_results.json") as handle:
        handle.write(json.dumps(head, indent=1)[:-2] + ',\n "results": ')
        _write_json_lines(handle, reader.result_lines(sweep_id, db_path))
        handle.write("}\n")
    _write_json_lines_atomic(sweep_dir / "completed_experiments.json", reader.completed_id_lines(sweep_id))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that readers see the old file or the new one, never a half-written one."""
    with atomic_file(path) as handle:
        handle.write(json.dumps(data, indent=2, default=str) + "\n")


def current_umask() -> int:
    """The process's umask, read without changing it (``/proc/self/status``; else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file that replaces ``path`` only once fully written (temp file + rename).

    Its mode is that of any file the process creates (0644 under umask 022), not the temp
    file's 0600. A symbolic link at ``path`` is replaced, never written through.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())
            yield handle
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError) and exc.filename is None:  # a failed write names no file: name it
            exc.filename = str(path)
        raise


def _write_json_lines_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write a JSON array, one element per line, streamed (a huge sweep is never one string in memory)."""
    with atomic_file(path) as handle:
        _write_json_lines(handle, lines)


def _write_json_lines(handle: TextIO, lines: Iterable[str]) -> None:
    handle.write("[")
    separator = "\n"
    for line in lines:
        handle.write(separator)
        handle.write(line)
        separator = ",\n"
    handle.write("\n]\n" if separator == ",\n" else "]\n")
