"""Find a sweep on disk and read its journal into memory, one query per table.

The analysis never writes: the database is opened read-only, so a sweep that is still
running can be analysed while its coordinator keeps writing (SQLite WAL allows it).

Reading costs one query for the ``sweeps`` row, one for all of the sweep's ``trials`` and,
when the experiment tables exist, one for all of their ``self_reports``; never one query
per trial.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import JournalError, SweepNotFoundError
from ...journal.reader import JournalReader
from ..exceptions import AnalysisInputError

__all__ = [
    "SweepData",
    "TRIAL_COLUMNS",
    "locate_sweep",
    "list_sweeps",
    "read_sweep_config",
    "resolve_db_path",
    "load_sweep",
    "load_self_reports",
    "hashable_value",
    "ABSENT", "FINITE", "NAN", "INFINITE", "NON_NUMERIC",
]

log = logging.getLogger(__name__)

#: columns every trial row has, besides its parameters and metrics
TRIAL_COLUMNS = (
    "experiment_id", "key", "index", "repeat", "label", "status", "attempts",
    "duration", "start_time", "end_time", "error_message",
)

#: the self-report columns the analysis relies on
SELF_REPORT_COLUMNS = ("experiment_id", "cycle_number", "question", "response")


@dataclass
class SweepData:
    """Everything read from disk about one sweep.

    ``trials`` has one row per started trial: the columns of :data:`TRIAL_COLUMNS`, one
    column per parameter (named by its dot path) and one per reported metric. A metric
    whose name collides with a parameter or a trial column is stored as ``metric:<name>``.
    """

    sweep_id: str
    folder: Path
    config: dict[str, Any]
    db_path: Path
    status: str
    total_planned: int
    trials: pd.DataFrame
    parameters: list[str]
    metrics: list[str]
    has_self_reports: bool
    #: parameter path -> its values in the order the sweep spec lists them
    spec_values: dict[str, list[Any]] = field(default_factory=dict)
    #: per trial (same index as ``trials``) and reported name: ABSENT, FINITE, NAN, INFINITE or
    #: NON_NUMERIC — what the trial returned, so that no value vanishes without a count
    value_kinds: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: reported names that no completed trial gave as a finite number (text, lists, only nan/inf)
    non_numeric_metrics: list[str] = field(default_factory=list)
    #: completed trials that reported nothing at all
    no_metric_trials: int = 0


def hashable_value(value: Any) -> Any:
    """Return a parameter value usable as a group key: lists and mappings become canonical JSON."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def list_sweeps(sweep_dir: Path) -> list[str]:
    """The ids of the sweeps under ``sweep_dir`` (folders holding a ``sweep_config.json``)."""
    if not sweep_dir.is_dir():
        return []
    return sorted(p.name for p in sweep_dir.iterdir() if (p / "sweep_config.json").is_file())


def locate_sweep(sweep_id: str, sweep_dir: str | Path) -> Path:
    """Return the folder of ``sweep_id`` or raise a :class:`SweepNotFoundError` that lists the others."""
    root = Path(sweep_dir)
    folder = root / sweep_id
    if (folder / "sweep_config.json").is_file():
        return folder
    existing = list_sweeps(root)
    where = f"in {root.resolve()}" if root.is_dir() else f"({root.resolve()} does not exist)"
    if existing:
        shown = ", ".join(existing[:30]) + (f", ... ({len(existing)} in all)" if len(existing) > 30 else "")
        hint = f"sweeps that exist there: {shown}"
    else:
        hint = "no sweeps exist there"  # each front end says how to look elsewhere, in its own terms
    raise SweepNotFoundError(f"sweep {sweep_id!r} not found {where}: {hint}")


def read_sweep_config(folder: Path) -> dict[str, Any]:
    """Read and check ``sweep_config.json``."""
    path = folder / "sweep_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AnalysisInputError(f"cannot read {path}: {exc}") from exc
    if not isinstance(config, dict):
        raise AnalysisInputError(f"{path} does not hold a JSON object")
    return config


def resolve_db_path(config: dict[str, Any], folder: Path) -> Path:
    """The journal database of a sweep: ``db_path_resolved``, else ``db_path`` relative to the cwd."""
    tried: list[str] = []
    for key in ("db_path_resolved", "db_path"):
        value = config.get(key)
        if not value:
            continue
        candidate = Path(value)
        tried.append(str(candidate.resolve()))
        if candidate.is_file():
            return candidate.resolve()
    if not tried:
        raise AnalysisInputError(f"{folder / 'sweep_config.json'} names no database (db_path_resolved or db_path)")
    raise AnalysisInputError(
        f"the database of sweep {folder.name!r} was not found (looked at {' and '.join(dict.fromkeys(tried))}); "
        "run the analysis from the folder the sweep was started in, or move the database back"
    )


#: codes of :attr:`SweepData.value_kinds`: what a trial reported for a metric
ABSENT, FINITE, NAN, INFINITE, NON_NUMERIC = 0, 1, 2, 3, 4
_EXTRA_KINDS = {"nan": NAN, "inf": INFINITE, "-inf": INFINITE}


def _classify(value: Any) -> tuple[float, int]:
    """A reported value as (the number the statistics use, its kind code).

    Booleans are kept as 0/1 (a success flag is meaningful as a rate); non-finite numbers and
    the strings the journal stores them as count as nan/inf and stay out of means; anything
    else is non-numeric.
    """
    if isinstance(value, bool):
        return float(value), FINITE
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isfinite(number):
            return number, FINITE
        return math.nan, NAN if math.isnan(number) else INFINITE
    if isinstance(value, str) and value in _EXTRA_KINDS:
        return math.nan, _EXTRA_KINDS[value]
    return math.nan, NON_NUMERIC


def _trials_frame(rows: list[Any], extras: dict[str, dict[str, Any]] | None = None,
                  ) -> tuple[pd.DataFrame, list[str], list[str], pd.DataFrame, list[str]]:
    """Turn the trial rows into one frame, expanding the parameter and metric JSON.

    ``extras`` maps an experiment id to its ``extra_json`` values. Returns the frame, the
    parameters, the numeric metric columns, the value kinds (one code per trial and reported
    name, :data:`FINITE` ...) and the reported names that never had a finite value.
    """
    extras = extras or {}
    records: list[dict[str, Any]] = []
    params_seen: dict[str, None] = {}
    param_values: dict[str, list[Any]] = {}
    metric_rows: list[dict[str, float]] = []
    kind_rows: list[dict[str, int]] = []
    numeric_seen: dict[str, None] = {}
    names_seen: dict[str, None] = {}
    for position, row in enumerate(rows):
        params = json.loads(row.params_json or "{}")
        duration = row.duration
        records.append({
            "experiment_id": row.experiment_id, "key": row.key, "index": row.idx, "repeat": row.repeat,
            "label": row.label, "status": row.status, "attempts": row.attempts,
            "duration": float(duration) if duration is not None else math.nan,
            "start_time": row.start_time, "end_time": row.end_time, "error_message": row.error_message,
        })
        for path, value in params.items():
            if path not in params_seen:
                params_seen[path] = None
                param_values[path] = [None] * position
            param_values[path].append(hashable_value(value))
        for path in params_seen:
            if len(param_values[path]) <= position:
                param_values[path].append(None)
        reported = dict(json.loads(row.metrics_json or "{}"))
        reported.update(extras.get(row.experiment_id, {}))
        metrics: dict[str, float] = {}
        kinds: dict[str, int] = {}
        for name, value in reported.items():
            if type(value) is float or type(value) is int:  # the usual case, checked fast
                number, kind = (float(value), FINITE) if math.isfinite(value) else _classify(value)
            else:
                number, kind = _classify(value)
            metrics[name] = number
            kinds[name] = kind
            if row.status == "completed":
                names_seen.setdefault(name, None)
                if kind == FINITE:
                    numeric_seen.setdefault(name, None)
        metric_rows.append(metrics)
        kind_rows.append(kinds)
    parameters = list(params_seen)
    reserved = set(TRIAL_COLUMNS) | set(parameters)
    columns = {name: (f"metric:{name}" if name in reserved else name) for name in names_seen}
    frame = pd.DataFrame.from_records(records, columns=list(TRIAL_COLUMNS))
    # Object columns built from the lists: a null level stays None and 2 stays 2 (a float column
    # would turn them into nan and 2.0).
    for p in parameters:
        frame[p] = pd.Series(param_values[p], index=frame.index, dtype=object)
    numeric = list(numeric_seen)
    metric_frame = pd.DataFrame.from_records(metric_rows, columns=numeric, index=frame.index)
    metric_frame = metric_frame.astype(float).rename(columns=columns)
    frame = pd.concat([frame, metric_frame], axis=1)
    frame["duration"] = frame["duration"].astype(float)
    kinds_frame = pd.DataFrame.from_records(kind_rows, columns=list(names_seen), index=frame.index)
    kinds_frame = kinds_frame.fillna(ABSENT).astype(np.int8).rename(columns=columns)
    others = [columns[n] for n in names_seen if n not in numeric_seen]
    if others:
        log.info("reported values that are never a finite number: %s", ", ".join(others))
    return frame, parameters, [columns[n] for n in numeric], kinds_frame, others


def load_sweep(sweep_id: str, sweep_dir: str | Path) -> SweepData:
    """Read a sweep's config and all its trials (one query for the sweep, one for the trials)."""
    folder = locate_sweep(sweep_id, sweep_dir)
    config = read_sweep_config(folder)
    db_path = resolve_db_path(config, folder)
    try:
        with JournalReader.open(db_path) as reader:
            tables = reader.tables()
            if "trials" not in tables:
                raise AnalysisInputError(f"{db_path} holds no sweep journal (no 'trials' table)")
            sweep_row = reader.sweep(sweep_id) if "sweeps" in tables else None
            status_row = (sweep_row["status"], sweep_row["total_trials"]) if sweep_row else None
            rows = reader.trial_records(sweep_id)
            extra_rows = reader.trial_extras(sweep_id)
            has_self_reports = ("self_reports" in tables
                                and set(SELF_REPORT_COLUMNS) <= reader.table_columns("self_reports"))
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read the journal in {db_path}: {exc}") from exc
    extras = {e.experiment_id: e.extra for e in extra_rows if e.extra}
    trials, parameters, metrics, kinds, others = _trials_frame(rows, extras)
    spec_values = {p: [hashable_value(v) for v in vs] for p, vs in (config.get("sweep_params") or {}).items()
                   if isinstance(vs, list)}
    # Parameters named in the spec come first, in spec order, even before any trial reported them.
    ordered = [p for p in spec_values if p in parameters] + [p for p in parameters if p not in spec_values]
    if "duration" not in metrics and trials["duration"].notna().any():
        metrics.append("duration")
    total = config.get("total_experiments")
    if status_row is not None and status_row[1] is not None:
        total = status_row[1] if total is None else total
    return SweepData(
        sweep_id=sweep_id, folder=folder, config=config, db_path=db_path,
        status=str(status_row[0]) if status_row else "unknown",
        total_planned=int(total) if total is not None else len(trials),
        trials=trials, parameters=ordered, metrics=metrics,
        has_self_reports=has_self_reports, spec_values=spec_values, value_kinds=kinds,
        non_numeric_metrics=others, no_metric_trials=sum(1 for e in extra_rows if e.no_metrics),
    )


def load_self_reports(db_path: Path, sweep_id: str) -> pd.DataFrame:
    """All self-reports of the sweep's completed trials, in one query.

    Columns: experiment_id, cycle_number, question, response (None becomes "").
    """
    with JournalReader.open(db_path) as reader:
        rows = reader.completed_experiment_rows(sweep_id, "self_reports", SELF_REPORT_COLUMNS)
    frame = pd.DataFrame.from_records(rows, columns=list(SELF_REPORT_COLUMNS))
    frame["question"] = frame["question"].fillna("").astype(str)
    frame["response"] = frame["response"].fillna("").astype(str)
    return frame
