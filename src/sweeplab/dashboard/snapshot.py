"""What the dashboard's pages show, read from the journal in one short read-only visit.

Each function opens the database read-only, asks its few questions and closes it again, so the
coordinator (the journal's only writer) never waits for the dashboard and no snapshot of the
database is held between updates. The results are plain JSON-ready dicts; the browser renders
them as text (never as HTML), so an error tail holding ``<script>`` shows as those characters.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import JournalError
from ..journal.live import LiveReader
from .catalog import Catalog, SweepEntry, coordinator_gone, read_tail
from .figures import figure_data

__all__ = ["index_snapshot", "sweep_snapshot", "sweep_fingerprint", "trial_snapshot", "objective_of", "FINISHED"]

log = logging.getLogger(__name__)

#: trial statuses that end a trial (a failed one may still be retried: it is counted when it stays so)
FINISHED = ("completed", "failed", "timeout", "crashed", "cancelled")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def objective_of(spec: dict[str, Any]) -> dict[str, str] | None:
    """The spec's (first) objective as {metric, direction}, or None."""
    objective = spec.get("objective")
    if isinstance(objective, list):
        objective = objective[0] if objective else None
    if isinstance(objective, dict) and isinstance(objective.get("metric"), str):
        return {"metric": objective["metric"], "direction": str(objective.get("direction", "maximize"))}
    return None


def _open(db_path: os.PathLike[str] | str) -> LiveReader | None:
    if not os.path.isfile(db_path):
        return None
    try:
        return LiveReader.open(db_path)
    except JournalError as exc:
        log.warning("cannot open '%s': %s", db_path, exc)
        return None


def _spec_of(entry: SweepEntry, reader: LiveReader | None) -> dict[str, Any]:
    if entry.spec or reader is None:
        return entry.spec
    text = reader.spec_json(entry.sweep_id)
    try:
        spec = json.loads(text) if text else {}
    except ValueError:
        return {}
    return spec if isinstance(spec, dict) else {}


#: keys of a distribution a sampled or searched design draws from (shown as written, not as the draws)
DISTRIBUTIONS = frozenset({"uniform", "loguniform", "int", "choice"})


def _swept(entry: SweepEntry, spec: dict[str, Any]) -> dict[str, Any]:
    """The swept parameters and their levels: as ``sweep_config.json`` expanded them (ranges), but a
    distribution as the spec wrote it."""
    written = spec.get("sweep") if isinstance(spec.get("sweep"), dict) else {}
    expanded = entry.config.get("sweep_params")
    expanded = expanded if isinstance(expanded, dict) else {}
    return {path: value if isinstance(value, dict) and set(value) <= DISTRIBUTIONS else expanded.get(path, value)
            for path, value in (written or expanded).items()}


def _plan(sweep: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"parameters": [{"path": path, "levels": levels} for path, levels in sweep.items()],
            "zip": spec.get("zip") or [], "repeats": spec.get("repeats", 1),
            "strategy": spec.get("strategy") or "grid", "n_trials": spec.get("n_trials"),
            "runner": spec.get("runner"), "parallel": spec.get("parallel")}


def _spec_levels(sweep: dict[str, Any]) -> dict[str, list[Any]]:
    return {path: levels for path, levels in sweep.items() if isinstance(levels, list)}


def sweep_fingerprint(catalog: Catalog, sweep_id: str) -> Any:
    """A value that changes whenever :func:`sweep_snapshot` would show something new (None: no such sweep)."""
    entry = catalog.entry(sweep_id)
    reader = _open(entry.db_path) if entry is not None else None
    if reader is None:
        return None
    with reader:
        return reader.fingerprint(sweep_id) if reader.has_journal() else None


def index_snapshot(catalog: Catalog) -> dict[str, Any]:
    """Every sweep of the catalog: status, progress, the objective's best, started and last update."""
    rows: dict[str, dict[str, Any]] = {}
    folders = catalog.folders()
    by_db: dict[Any, list[SweepEntry]] = {}
    for sweep_id in folders:
        entry = catalog.entry(sweep_id)
        if entry is not None:
            by_db.setdefault(entry.db_path, []).append(entry)
    by_db.setdefault(catalog.db_path, [])
    for db_path, entries in by_db.items():
        reader = _open(db_path)
        if reader is None:
            continue
        with reader:
            known = {row["sweep_id"]: row for row in reader.sweeps()}
            wanted = {e.sweep_id: e for e in entries}
            if db_path == catalog.db_path:  # the dashboard's own database: all its sweeps
                for sweep_id in known:
                    wanted.setdefault(sweep_id, catalog.entry(sweep_id) or SweepEntry(sweep_id, None, db_path, {}))
            for sweep_id, entry in wanted.items():
                row = known.get(sweep_id)
                if row is None:
                    continue
                objective = objective_of(_spec_of(entry, reader))
                maximize = objective is None or objective["direction"] == "maximize"
                metric, best = reader.best(sweep_id, objective["metric"] if objective else None, maximize=maximize)
                counts = row["counts"]
                rows[sweep_id] = {
                    "sweep_id": sweep_id, "status": _status(row["status"], entry), "total": row["total_trials"],
                    "completed": counts.get("completed", 0),
                    "finished": sum(counts.get(s, 0) for s in FINISHED),
                    "running": counts.get("running", 0), "counts": counts,
                    "objective": objective, "metric": metric, "best": best,
                    "started": row["created_at"],
                    "finished_at": row["updated_at"] if row["status"] != "running" else None,
                    "description": row["description"],
                }
    return {"sweeps": sorted(rows.values(), key=lambda r: r["started"] or "", reverse=True),
            "now": _now().isoformat()}


def _status(status: str, entry: SweepEntry) -> str:
    """The journal's status, except that a 'running' sweep whose coordinator died is 'stopped'."""
    return "stopped" if status == "running" and coordinator_gone(entry.folder) else status


def _eta(total: int, finished: int, first_start: str | None, status: str) -> float | None:
    start = _parse_time(first_start)
    if status != "running" or start is None or finished == 0 or finished >= total:
        return None
    elapsed = (_now() - start).total_seconds()
    return elapsed / finished * (total - finished)


def sweep_snapshot(catalog: Catalog, sweep_id: str, metric: str | None = None) -> dict[str, Any]:
    """Everything a sweep page shows; ``{"found": False}`` while the journal has no such sweep."""
    entry = catalog.entry(sweep_id)
    reader = _open(entry.db_path) if entry is not None else None
    if entry is None or reader is None:
        return {"found": False, "sweep_id": sweep_id, "now": _now().isoformat()}
    with reader:
        row = reader.sweep(sweep_id)
        if row is None:
            return {"found": False, "sweep_id": sweep_id, "now": _now().isoformat()}
        spec = _spec_of(entry, reader)
        counts = {k: v for k, v in reader.counts(sweep_id).items() if k != "dropped"}
        records = reader.trial_records(sweep_id)
        running = reader.running(sweep_id)
        failures = reader.failures(sweep_id)
        first_start = reader.duration_summary(sweep_id).first_start
    status = _status(row["status"], entry)
    objective = objective_of(spec)
    swept = _swept(entry, spec)
    chosen = metric or (objective["metric"] if objective else None)
    maximize = objective is None or objective["direction"] == "maximize"
    finished = sum(counts.get(s, 0) for s in FINISHED)
    starts = [r.start_time for r in records if r.start_time]
    for attempt in running:
        attempt["params"] = json.loads(attempt.pop("params_json") or "{}")
    return {
        "found": True, "sweep_id": sweep_id, "status": status, "description": row["description"],
        "total": row["total_trials"], "counts": counts, "finished": finished,
        "completed": counts.get("completed", 0), "started": row["created_at"], "updated": row["updated_at"],
        "eta_seconds": _eta(row["total_trials"], finished, first_start or min(starts, default=None), status),
        "running": running, "failures": failures, "plan": _plan(swept, spec), "objective": objective,
        "figures": figure_data(records, chosen, maximize=maximize, spec_levels=_spec_levels(swept),
                               sweep_id=sweep_id),
        "now": _now().isoformat(),
    }


def trial_snapshot(catalog: Catalog, sweep_id: str, key: str) -> dict[str, Any] | None:
    """A trial's page: config, metrics, attempts with their output tails, the experiment's own rows."""
    entry = catalog.entry(sweep_id)
    reader = _open(entry.db_path) if entry is not None else None
    if entry is None or reader is None:
        return None
    with reader:
        trial = reader.trial(sweep_id, key)
        if trial is None:
            return None
        attempts = reader.attempts(sweep_id, key)
        experiment = reader.experiment_rows(trial["experiment_id"])
    for name in ("params_json", "metrics_json", "extra_json"):
        if name in trial:
            try:
                trial[name.removesuffix("_json")] = json.loads(trial.pop(name) or "{}")
            except ValueError:
                trial[name.removesuffix("_json")] = {}
    config = None
    if entry.folder is not None:
        # only files below the sweep's folder are read (the attempt folder the journal names included)
        # the trial's folder is its attempts' parent (named by key in older versions, else readably)
        folders = [Path(a["attempt_dir"]).parent for a in attempts if a.get("attempt_dir")]
        config = read_tail(folders[-1] if folders else entry.folder / "trials" / key, "config.json", entry.folder,
                           limit=200_000)
        for attempt in attempts:
            folder = attempt.get("attempt_dir")
            for stream in ("stdout", "stderr"):
                attempt[f"{stream}_tail"] = read_tail(Path(folder), f"{stream}.txt", entry.folder) if folder else None
    return {"sweep_id": sweep_id, "trial": trial, "attempts": attempts, "config": config,
            "experiment_tables": experiment, "now": _now().isoformat()}
