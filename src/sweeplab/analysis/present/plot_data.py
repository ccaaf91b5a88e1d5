"""The plot data JSON (``plot_data.json``): everything the figures show, in plain JSON.

It opens with the Season 3 lab's own keys, so the lab's plotting scripts read it as they read the
files of its sweep tool: ``sweep_id``, ``parameters`` (the swept dot paths, a list), ``metrics`` (metric
names) and ``data`` (one row per completed trial: ``experiment_id``, ``parameters`` {dot path: value},
each metric by name, and for the lab's experiment ``crash_rate`` = crashes / cycles and
``messages_per_cycle``, plus ``duration_seconds``). sweeplab's own keys follow (``format``
``sweeplab-plot-data/2``)::

    {
      "sweep_id": ..., "parameters": [dot paths], "metrics": [names], "data": [rows],
      "format": "sweeplab-plot-data/2", "status": ..., "partial": bool,
      "completed_trials": int, "total_planned": int,
      "parameter_info": {dot path: {"label": last segment, "values": [levels], "numeric": bool}},
      "by_parameter": {dot path: {metric: {
          "values": [levels], "counts": [...], "means": [...], "stds": [...], "medians": [...],
          "mins": [...], "maxs": [...], "ci_low": [...], "ci_high": [...],
          "omnibus_p": float | null, "omnibus_test": "Kruskal-Wallis" | reason, "interval_label": text,
          "shape": null | {"shape": step|gradual|flat|untestable, "model", "p_value", "slope", "slope_ci",
                           "midpoint", "midpoint_ci", "reason"},
          "thresholds": [{"before": level, "after": level, "change": float | null, "from_zero": bool}],
          "change_point": null | {"before", "after", "interval_low", "interval_high",
                                  "support", "step_share", "supported"}}}},
      "interactions": [{"rows": dot path, "columns": dot path, "metric": name,
                        "row_values": [...], "column_values": [...],
                        "means": [[float | null]], "counts": [[int]]}],
      "optimal": {metric: {"minimize": {"parameters": {...}, "value": float},
                           "maximize": {...}}},
      "objective": null | {"metric", "direction", "source", "reason"}
    }

``by_parameter``, ``interactions`` and ``optimal`` hold the metrics that are drawn: the
objective's for ``sweeplab analyze --plot``, every metric with ``--all``.

Not-a-number and infinite values become ``null`` (JSON has neither).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..compute.names import short_name
from ..compute.thresholds import relative_change_thresholds
from .objective import as_dict

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics
    from ..compute.objective import ObjectiveChoice

__all__ = ["PLOT_DATA_FORMAT", "MAX_HEATMAP_PARAMETERS", "build_plot_data", "write_plot_data", "clean_json",
           "interaction_data"]

PLOT_DATA_FORMAT = "sweeplab-plot-data/2"
#: heatmaps are made for every pair of parameters when there are at most this many
MAX_HEATMAP_PARAMETERS = 4


def clean_json(value: Any) -> Any:
    """Turn NumPy scalars into Python ones, missing values and non-finite floats into None, recursively."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:  # a typed frame's missing value (a parameter a trial lacks)
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _metric_entry(sweep: SweepStatistics, path: str, metric: str) -> dict[str, Any]:
    effect = sweep.parameter_effect(path, metric)
    s = effect.summaries
    means = [x.mean for x in s]
    cp = effect.change_point
    om = effect.omnibus
    return {
        "values": effect.levels, "counts": [x.count for x in s], "means": means, "stds": [x.std for x in s],
        "medians": [x.median for x in s], "mins": [x.min for x in s], "maxs": [x.max for x in s],
        "ci_low": [x.ci_low for x in s], "ci_high": [x.ci_high for x in s],
        "omnibus_p": om.p_value, "omnibus_test": "Kruskal-Wallis" if om.tested else om.note,
        "interval_label": "95% t interval",
        "shape": None if effect.shape is None else {
            "shape": effect.shape.shape, "model": effect.shape.best_model, "p_value": effect.shape.p_value,
            "slope": effect.shape.slope, "slope_ci": effect.shape.slope_ci, "midpoint": effect.shape.midpoint,
            "midpoint_ci": effect.shape.midpoint_ci, "reason": effect.shape.reason},
        "thresholds": [{"before": b, "after": a, "change": c, "from_zero": math.isinf(c)}
                       for b, a, c in relative_change_thresholds(effect.levels, means, 0.5)],
        "change_point": None if cp is None else {
            "before": cp.before, "after": cp.after, "interval_low": cp.interval_low,
            "interval_high": cp.interval_high, "support": cp.support, "step_share": cp.step_share,
            "supported": cp.supported},
    }


def interaction_data(sweep: SweepStatistics, rows: str, columns: str, metric: str) -> dict[str, Any]:
    """One heatmap's entry of ``interactions``: the metric's mean and count per pair of levels."""
    means = sweep.interaction_table(rows, columns, metric)
    counts = sweep.interaction_table(rows, columns, metric, statistic="count")
    return clean_json({
        "rows": rows, "columns": columns, "metric": metric,
        "row_values": list(means.index), "column_values": list(means.columns),
        "means": means.to_numpy(dtype=float).tolist(),
        "counts": np.nan_to_num(counts.to_numpy(dtype=float)).astype(int).tolist(),
    })


def _lab_rows(sweep: SweepStatistics) -> tuple[list[str], list[dict[str, Any]]]:
    """The lab's ``data`` rows (completed trials, plan order) and the metric names they carry."""
    trials = sweep.to_dataframe()
    trials = trials[trials["status"] == "completed"]
    metrics = [m for m in sweep.metrics if m != "duration"]
    lab_extra = [name for name in ("crash_rate", "messages_per_cycle")
                 if name not in metrics and "total_cycles" in metrics]
    rows = []
    for _, trial in trials.iterrows():
        row: dict[str, Any] = {"experiment_id": trial["experiment_id"],
                               "parameters": {path: trial[path] for path in sweep.parameters}}
        row.update({metric: trial[metric] for metric in metrics})
        if lab_extra:
            cycles = trial["total_cycles"]
            per_cycle = (lambda count: count / cycles if cycles and cycles == cycles else None)  # noqa: E731
            if "crash_rate" in lab_extra:
                row["crash_rate"] = per_cycle(trial.get("total_crashes", float("nan")))
            if "messages_per_cycle" in lab_extra:
                row["messages_per_cycle"] = per_cycle(trial.get("total_messages", float("nan")))
        row["duration_seconds"] = trial["duration"]
        rows.append(row)
    return metrics + lab_extra, rows


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def build_plot_data(sweep: SweepStatistics, metrics: Sequence[str] | None = None,
                    objective: ObjectiveChoice | None = None) -> dict[str, Any]:
    """Everything the figures need, computed from the sweep's statistics.

    ``metrics`` limits the per-parameter entries, heatmaps and optima to those metrics (all by
    default): the statistics of a metric that is not drawn are not computed. ``objective`` is
    recorded under ``"objective"``.
    """
    drawn = [sweep.metric(m) for m in metrics] if metrics is not None else sweep.metrics
    counts = sweep.status_counts
    row_metrics, rows = _lab_rows(sweep)
    data: dict[str, Any] = {
        "sweep_id": sweep.sweep_id, "parameters": list(sweep.parameters), "metrics": row_metrics, "data": rows,
        "format": PLOT_DATA_FORMAT, "status": sweep.status,
        "partial": sweep.is_partial, "completed_trials": counts.get("completed", 0),
        "total_planned": sweep.total_planned,
        "parameter_info": {}, "by_parameter": {}, "interactions": [], "optimal": {},
        "objective": as_dict(objective) if objective is not None else None,
    }
    for path in sweep.parameters:
        levels = sweep.levels(path)
        data["parameter_info"][path] = {
            "label": short_name(path), "values": levels,
            # numeric: every level is a number or null (a NaN level is a null pandas read as NaN)
            "numeric": any(_is_number(v) for v in levels)
            and all(_is_number(v) or v is None or (isinstance(v, float) and math.isnan(v)) for v in levels),
        }
        bins = sweep.binned_parameters().get(path)
        if bins:  # the values are quantile bins (labels by range), each placed at the mean of its values
            data["parameter_info"][path].update(binned=True, bins=bins, bin_positions=sweep.bin_positions(path))
        data["by_parameter"][path] = {m: _metric_entry(sweep, path, m) for m in drawn}
    if 2 <= len(sweep.parameters) <= MAX_HEATMAP_PARAMETERS:
        for rows, columns in itertools.combinations(sweep.parameters, 2):
            data["interactions"] += [interaction_data(sweep, rows, columns, m) for m in drawn]
    for metric in drawn:
        entry = {}
        for goal, minimize in (("minimize", True), ("maximize", False)):
            best = sweep.rank_configurations(metric, minimize=minimize, top=1)[0]
            entry[goal] = {"parameters": best.parameters, "value": best.mean, "std": best.std, "count": best.count}
        data["optimal"][metric] = entry
    data["sampling"] = {"strategy": sweep.sampling.strategy, "adaptive": sweep.sampling.adaptive,
                        "search": sweep.search_result()}
    return clean_json(data)


def write_plot_data(data: dict[str, Any], path: Path) -> None:
    """Write the JSON atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plot_data.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
