"""Write synthetic sweeps to disk exactly as the engine stores them, for the analysis tests.

A sweep is a folder ``{sweep_dir}/{sweep_id}/sweep_config.json`` plus the journal tables of
:data:`sweeplab.journal.schema.DDL` (and optionally a ``self_reports`` table) in a SQLite
database that may be shared by several sweeps.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sweeplab.journal.schema import DDL
from sweeplab.trial import split_reported

#: what a trial reports: finite numbers, and anything else a trial may return (nan, inf, text, lists)
MetricFn = Callable[[dict[str, Any], int, np.random.Generator], dict[str, Any]]
StatusFn = Callable[[int, dict[str, Any], int], str | None]
ReportFn = Callable[[dict[str, Any], int, np.random.Generator], list[tuple[int, str, str]]]

SELF_REPORTS_DDL = """
CREATE TABLE IF NOT EXISTS self_reports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id TEXT NOT NULL,
    cycle_number  INTEGER NOT NULL,
    question      TEXT NOT NULL,
    response      TEXT,
    timestamp     TEXT
);
"""


def _short(params: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]


def write_sweep(
    sweep_dir: Path,
    sweep_id: str,
    grid: dict[str, list[Any]],
    metric_fn: MetricFn,
    *,
    repeats: int = 1,
    seed: int = 0,
    status: str = "completed",
    db_path: Path | None = None,
    runner: str = "phenomenology",
    status_fn: StatusFn | None = None,
    report_fn: ReportFn | None = None,
    self_reports_table: bool | None = None,
    description: str = "synthetic sweep",
) -> Path:
    """Create the sweep and return its folder.

    ``metric_fn(params, repeat, rng)`` gives what a completed trial reported (split into
    ``metrics_json`` and ``extra_json`` as the journal does; ``__duration__`` sets its duration); ``status_fn(index,
    params, repeat)`` its status (``None``: never started, no row; default: completed);
    ``report_fn(params, repeat, rng)`` its self-reports as (cycle, question, response).
    """
    sweep_dir = Path(sweep_dir)
    folder = sweep_dir / sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    db_path = Path(db_path) if db_path is not None else sweep_dir.parent / "experiments.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    names = list(grid)
    combos = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]
    total = len(combos) * repeats
    config = {
        "sweep_id": sweep_id, "description": description, "base_config": "experiments/base.json",
        "sweep_params": grid, "zip": [], "repeats": repeats, "seed": seed, "runner": runner,
        "parallel_jobs": 1, "timeout_seconds": None, "db_path": str(db_path),
        "db_path_resolved": str(db_path.resolve()), "output_dir": str(sweep_dir), "max_retries": 2,
        "tags": ["test"], "total_experiments": total, "created_at": "2025-01-01T00:00:00Z",
    }
    (folder / "sweep_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    rng = np.random.default_rng(seed)
    with_reports = report_fn is not None if self_reports_table is None else self_reports_table
    conn = sqlite3.connect(db_path)
    try:
        conn.executescript(DDL)
        if with_reports:
            conn.executescript(SELF_REPORTS_DDL)
        conn.execute(
            "INSERT INTO sweeps (sweep_id, description, tags_json, spec_json, base_config_json, base_hash,"
            " sweep_dir, total_trials, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (sweep_id, description, '["test"]', json.dumps(config), "{}", "0" * 16, str(folder), total, status,
             "2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"),
        )
        trial_rows, attempt_rows, report_rows = [], [], []
        index = 0
        for repeat in range(repeats):
            for params in combos:
                trial_status = status_fn(index, params, repeat) if status_fn else "completed"
                if trial_status is None:
                    index += 1
                    continue
                experiment_id = f"{sweep_id}_exp{index:04d}_{_short(params)}"
                key = hashlib.sha1(f"{sweep_id}{index}".encode()).hexdigest()[:16]
                reported = metric_fn(params, repeat, rng) if trial_status == "completed" else {}
                duration = float(reported.pop("__duration__", 1.0 + index % 7))
                # As the journal keeps them: finite numbers in metrics_json, the rest in extra_json.
                metrics, extra = split_reported(reported)
                trial_rows.append((
                    sweep_id, key, index, experiment_id, json.dumps(params, sort_keys=True), repeat, None,
                    seed + index, trial_status, 1, json.dumps(metrics, sort_keys=True), json.dumps(extra, sort_keys=True),
                    "2025-01-01T00:00:00Z", "2025-01-01T00:00:01Z", duration,
                    None if trial_status == "completed" else "boom",
                ))
                attempt_rows.append((sweep_id, key, 1, trial_status, "2025-01-01T00:00:00Z", duration))
                if report_fn is not None and trial_status == "completed":
                    for cycle, question, response in report_fn(params, repeat, rng):
                        report_rows.append((experiment_id, cycle, question, response))
                index += 1
        conn.executemany(
            "INSERT INTO trials (sweep_id, key, idx, experiment_id, params_json, repeat, label, seed, status,"
            " attempts, metrics_json, extra_json, start_time, end_time, duration, error_message)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", trial_rows)
        conn.executemany(
            "INSERT INTO attempts (sweep_id, key, attempt, status, start_time, duration) VALUES (?,?,?,?,?,?)",
            attempt_rows)
        if report_rows:
            conn.executemany(
                "INSERT INTO self_reports (experiment_id, cycle_number, question, response) VALUES (?,?,?,?)",
                report_rows)
        conn.commit()
    finally:
        conn.close()
    return folder


def step_metrics(parameter: str, step_at: float, low: float, high: float, noise: float) -> MetricFn:
    """Metrics with a planted step: ``score`` is ``low`` below ``step_at`` and ``high`` from it on."""

    def metric_fn(params: dict[str, Any], repeat: int, rng: np.random.Generator) -> dict[str, float]:
        base = high if params[parameter] >= step_at else low
        return {"score": float(base + rng.normal(0.0, noise)), "noise_only": float(rng.normal(0.0, 1.0))}

    return metric_fn
