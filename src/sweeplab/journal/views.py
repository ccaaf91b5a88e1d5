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

For Python, :func:`trial_rows` reads every trial of a sweep as a typed record and
:func:`trials_frame` turns them into a pandas DataFrame with typed columns (numbers, booleans,
UTC datetimes), one row per trial in plan order and its columns in sweep order.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from ..errors import JournalError
from ..trial import utc_now
from .reader import DROPPED, JournalReader

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FRAME_HEAD",
    "FRAME_TAIL",
    "TrialRow",
    "atomic_file",
    "current_umask",
    "sweep_results",
    "trial_rows",
    "trials_frame",
    "write_json_atomic",
    "write_views",
]

#: the columns a trials frame starts with, before the parameters
FRAME_HEAD = ("experiment_id", "index", "replicate", "label", "seed", "status")
#: the columns it ends with, after the parameters, the metrics and the other reported values
FRAME_TAIL = ("attempts", "duration", "start_time", "end_time", "error_message", "key")
#: how a non-finite number is kept among a trial's other reported values (the journal's extra_json)
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class TrialRow(NamedTuple):
    """One trial of a sweep as Python reads it: its place in the plan, parameters and reported values.

    ``metrics`` holds the finite numbers the trial reported; ``extra`` the other values (text,
    booleans, lists; non-finite numbers as ``"nan"``, ``"inf"``, ``"-inf"``). Times are the
    journal's UTC ISO 8601 text.
    """

    experiment_id: str
    key: str
    index: int
    replicate: int
    label: str | None
    seed: int
    status: str
    attempts: int
    parameters: dict[str, Any]
    metrics: dict[str, float]
    extra: dict[str, Any]
    start_time: str | None
    end_time: str | None
    duration: float | None
    error_message: str | None


def sweep_results(reader: JournalReader, sweep_id: str, db_path: str) -> list[dict[str, Any]]:
    """The original ``sweep_results.json`` records (plus metrics and attempts), from the journal."""
    return [json.loads(line) for line in reader.result_lines(sweep_id, db_path)]


def trial_rows(reader: JournalReader, sweep_id: str) -> list[TrialRow]:
    """Every trial of the sweep's plan that has started (not the dropped ones), in plan order."""
    columns = reader.table_columns("trials")
    # a journal written before extra_json existed has no such column: its trials reported numbers only
    extra = "extra_json" if "extra_json" in columns else "'{}'"
    try:
        rows = reader.conn.execute(
            "SELECT experiment_id, key, idx, repeat, label, seed, status, attempts, params_json, metrics_json, "
            f"{extra}, start_time, end_time, duration, error_message FROM trials "
            "WHERE sweep_id = ? AND status != ? ORDER BY idx", (sweep_id, DROPPED)).fetchall()
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read the sweep journal: {exc}") from exc
    return [TrialRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8] or "{}"),
                     json.loads(row[9] or "{}"), json.loads(row[10] or "{}"), *row[11:]) for row in rows]


def trials_frame(rows: Sequence[TrialRow], parameters: Sequence[str] = ()) -> pd.DataFrame:
    """The trials as a typed DataFrame, one row per trial in plan order.

    Columns: :data:`FRAME_HEAD`, the parameters (``parameters`` gives their order, the sweep's;
    others follow as first seen), the metrics (float, as first reported), the other reported
    values (``nan``/``inf`` markers become float; flags a boolean column; text stays text, and lists,
    mappings and mixed values become JSON text), then
    :data:`FRAME_TAIL`. A parameter column is bool, int64 or float64 when every value is one
    (nullable ``boolean``/``Int64`` when some trial lacks it); lists and mappings are canonical
    JSON text. ``start_time``/``end_time`` are datetime64 in UTC. A metric or value named
    like an earlier column is prefixed ``metric:`` (or ``extra:``).
    """
    import pandas as pd

    order: dict[str, None] = dict.fromkeys(parameters)
    metric_names: dict[str, None] = {}
    extra_names: dict[str, None] = {}
    for row in rows:
        order.update(dict.fromkeys(p for p in row.parameters if p not in order))
        metric_names.update(dict.fromkeys(m for m in row.metrics if m not in metric_names))
        extra_names.update(dict.fromkeys(e for e in row.extra if e not in extra_names))
    # a name reported as a number by one trial and "nan" by another is one float column
    numeric_extras = [e for e in extra_names if all(_float_or_missing(r.extra.get(e)) for r in rows)]
    metric_names.update(dict.fromkeys(e for e in numeric_extras if e not in metric_names))
    other_extras = [e for e in extra_names if e not in numeric_extras]
    taken = set(FRAME_HEAD) | set(FRAME_TAIL) | set(order)
    data: dict[str, Any] = {
        "experiment_id": pd.Series([r.experiment_id for r in rows], dtype=object),
        "index": pd.Series([r.index for r in rows], dtype="int64"),
        "replicate": pd.Series([r.replicate for r in rows], dtype="int64"),
        "label": pd.Series([r.label for r in rows], dtype=object),
        "seed": pd.Series([r.seed for r in rows], dtype="int64"),
        "status": pd.Series([r.status for r in rows], dtype=object),
    }
    for path in order:
        data[path] = _typed([r.parameters.get(path, _MISSING) for r in rows])
    for name in metric_names:
        values = [r.metrics[name] if name in r.metrics else _non_finite(r.extra.get(name)) for r in rows]
        data[f"metric:{name}" if name in taken else name] = pd.Series(values, dtype="float64")
    taken |= set(data)
    for name in other_extras:
        data[f"extra:{name}" if name in taken else name] = _reported([r.extra.get(name) for r in rows])
    data["attempts"] = pd.Series([r.attempts for r in rows], dtype="int64")
    data["duration"] = pd.Series([math.nan if r.duration is None else r.duration for r in rows], dtype="float64")
    for column in ("start_time", "end_time"):
        data[column] = pd.to_datetime(pd.Series([getattr(r, column) for r in rows], dtype=object),
                                      utc=True, format="ISO8601")
    data["error_message"] = pd.Series([r.error_message for r in rows], dtype=object)
    data["key"] = pd.Series([r.key for r in rows], dtype=object)
    return pd.DataFrame(data)


_MISSING = object()


def _float_or_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value in _NON_FINITE)


def _non_finite(value: Any) -> float:
    """A non-finite number kept as text, as a float; anything else (absent, text) is NaN in a float column."""
    return _NON_FINITE.get(value, math.nan) if isinstance(value, str) else math.nan


def _reported(values: list[Any]) -> pd.Series:
    """A reported value that is not a number: flags as a (nullable) boolean column, anything else as text,
    lists and mappings as canonical JSON, so that every export format (CSV, JSON, Parquet) can hold it."""
    import pandas as pd

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    return pd.Series([v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values],
                     dtype=object)


def _typed(values: list[Any]) -> pd.Series:
    """One parameter's values as the narrowest column that holds them all exactly."""
    import pandas as pd

    present = [v for v in values if v is not _MISSING and v is not None]
    holes = len(present) < len(values)
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series([None if v is _MISSING else v for v in values], dtype="boolean" if holes else "bool")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series([None if v is _MISSING else v for v in values], dtype="Int64" if holes else "int64")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([math.nan if v is _MISSING or v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is _MISSING else (json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v)
                      for v in values], dtype=object)


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
