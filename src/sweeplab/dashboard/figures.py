"""The numbers behind a sweep page's plots: points, per-level means with 95 % t intervals, the
tipping point, a two-parameter heatmap and the best configurations.

Built from the completed trials the journal holds at that moment (so they grow as trials finish);
the tipping point and its test come from :mod:`sweeplab.analysis.compute`, with fewer bootstrap
draws than the report uses (the live view recomputes it after every change; the report is
the reference).
"""

from __future__ import annotations

import json
import math
import statistics
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from ..analysis.compute.names import is_numeric_level, order_levels
from ..analysis.compute.stats import omnibus_test
from ..analysis.compute.thresholds import estimate_change_point
from ..journal.reader import TrialRecord

__all__ = ["figure_data", "numeric_metrics", "LIVE_BOOTSTRAP", "MAX_POINTS", "BEST_ROWS"]

#: bootstrap draws of the live tipping point (the report uses 1000)
LIVE_BOOTSTRAP = 200
#: at most this many trial points per plot are sent (the latest ones); the means use all trials
MAX_POINTS = 5000
#: rows of the best-configurations table
BEST_ROWS = 10


def _metrics(record: TrialRecord) -> dict[str, float]:
    try:
        values = json.loads(record.metrics_json or "{}")
    except ValueError:
        return {}
    return {name: float(v) for name, v in values.items()
            if is_numeric_level(v) and math.isfinite(float(v))} if isinstance(values, dict) else {}


def numeric_metrics(completed: Sequence[tuple[dict[str, Any], dict[str, float], TrialRecord]]) -> list[str]:
    """Names of the numbers the completed trials reported, in order of first appearance."""
    names: dict[str, None] = {}
    for _params, metrics, _record in completed:
        names.update(dict.fromkeys(metrics))
    return list(names)


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _level_summary(level: Any, values: np.ndarray) -> dict[str, Any]:
    count = len(values)
    mean = float(values.mean())
    low = high = None
    if count >= 2:
        sd = float(values.std(ddof=1))
        half = float(scipy_stats.t.ppf(0.975, count - 1)) * sd / math.sqrt(count)
        low, high = mean - half, mean + half
    return {"level": level, "n": count, "mean": mean, "ci_low": low, "ci_high": high}


def _tipping_point(levels: list[Any], groups: list[np.ndarray], seed: str) -> dict[str, Any] | None:
    """The analysis's single-step change point, when the levels are numbers and a test supports it."""
    if len(levels) < 3 or not all(is_numeric_level(v) for v in levels):
        return None
    if not omnibus_test(groups).significant:  # no effect of the parameter: no step to place (and no bootstrap)
        return None
    rng = np.random.default_rng(zlib.crc32(seed.encode("utf-8")))
    point = estimate_change_point(levels, groups, rng, n_boot=LIVE_BOOTSTRAP, omnibus_significant=True)
    if point is None or not point.supported:
        return None
    return {"before": point.before, "after": point.after, "mean_before": point.mean_before,
            "mean_after": point.mean_after, "support": point.support, "note": point.note}


def _by_parameter(parameter: str, rows: list[tuple[Any, float, str, str]], spec_levels: Sequence[Any] | None,
                  seed: str) -> dict[str, Any]:
    grouped: dict[Any, list[float]] = {}
    originals: dict[Any, Any] = {}
    for level, value, _eid, _key in rows:
        key = _hashable(level)
        grouped.setdefault(key, []).append(value)
        originals.setdefault(key, level)
    order = order_levels(list(grouped), [_hashable(v) for v in spec_levels] if spec_levels else None)
    groups = [np.asarray(grouped[key], dtype=float) for key in order]
    levels = [originals[key] for key in order]
    latest = rows[-MAX_POINTS:]
    return {
        "parameter": parameter,
        "x": [_hashable(r[0]) for r in latest], "y": [r[1] for r in latest], "ids": [r[2] for r in latest],
        "keys": [r[3] for r in latest],
        "levels": [_level_summary(level, g) for level, g in zip(levels, groups)],
        "numeric": all(is_numeric_level(v) for v in levels),
        "tipping_point": _tipping_point(levels, groups, seed),
    }


def _heatmap(first: str, second: str, completed: list[tuple[dict[str, Any], float]],
             spec: dict[str, Sequence[Any]]) -> dict[str, Any]:
    cells: dict[tuple[Any, Any], list[float]] = {}
    for params, value in completed:
        cells.setdefault((_hashable(params.get(first)), _hashable(params.get(second))), []).append(value)
    rows = order_levels([k[0] for k in cells], [_hashable(v) for v in spec.get(first) or []])
    columns = order_levels([k[1] for k in cells], [_hashable(v) for v in spec.get(second) or []])
    z = [[math.fsum(cells[(r, c)]) / len(cells[(r, c)]) if (r, c) in cells else None for c in columns] for r in rows]
    return {"rows": first, "columns": second, "y": rows, "x": columns, "z": z}


def _best(parameters: list[str], completed: list[tuple[dict[str, Any], float]], maximize: bool) -> list[dict[str, Any]]:
    groups: dict[str, tuple[dict[str, Any], list[float]]] = {}
    for params, value in completed:
        chosen = {p: params.get(p) for p in parameters}
        groups.setdefault(json.dumps(chosen, sort_keys=True), (chosen, []))[1].append(value)
    table = [{"parameters": chosen, "n": len(values), "mean": math.fsum(values) / len(values),
              "sd": statistics.stdev(values) if len(values) > 1 else None}
             for chosen, values in groups.values()]
    table.sort(key=lambda row: row["mean"], reverse=maximize)
    return table[:BEST_ROWS]


def figure_data(records: Sequence[TrialRecord], metric: str | None, *, maximize: bool,
                spec_levels: dict[str, Sequence[Any]], sweep_id: str) -> dict[str, Any]:
    """Everything the plots of a sweep page draw, for ``metric`` (None: the first metric reported).

    ``spec_levels`` orders categorical levels as the spec lists them.
    """
    completed = []
    for record in records:
        if record.status != "completed":
            continue
        try:
            params = json.loads(record.params_json)
        except ValueError:
            continue
        completed.append((params if isinstance(params, dict) else {}, _metrics(record), record))
    metrics = numeric_metrics(completed)
    chosen = metric if metric in metrics else (metrics[0] if metrics and metric is None else metric)
    seen = dict.fromkeys(p for params, _m, _r in completed for p in params)
    parameters = [p for p in spec_levels if p in seen] + [p for p in seen if p not in spec_levels]  # the plan's order
    values = [(params, m[chosen], r) for params, m, r in completed if chosen in m]
    plots = [_by_parameter(p, [(params.get(p), v, r.experiment_id, r.key) for params, v, r in values],
                           spec_levels.get(p), f"{sweep_id}|{p}|{chosen}") for p in parameters]
    pairs = [(params, v) for params, v, _r in values]
    return {
        "metric": chosen, "metrics": metrics, "maximize": maximize, "parameters": parameters,
        "plots": plots, "n": len(values),
        "heatmap": _heatmap(parameters[0], parameters[1], pairs, spec_levels) if len(parameters) >= 2 and pairs else None,
        "best": _best(parameters, pairs, maximize) if pairs else [],
    }
