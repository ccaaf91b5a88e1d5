"""Bins for a parameter's values when there are too many distinct ones to be levels.

A grid gives a parameter a few values, each a level with replicates. A sampled or searched sweep
(random, lhs, sobol, bayesian) gives a continuous parameter a new value in almost every trial: per-
parameter statistics (a mean per level, a test across levels) then need the values grouped into
bins. :func:`bin_levels` does that by quantiles, so every bin holds about as many trials, and
leaves a parameter with few distinct values (or any non-numeric one) as it is.

>>> values = [0.05, 0.12, 0.31, 0.33, 0.48, 0.52, 0.67, 0.71, 0.88, 0.97]
>>> needs_bins(values, max_levels=6)
True
>>> edges = bin_edges(values, bins=4)
>>> edges
[0.05, 0.31, 0.48, 0.71, 0.97]
>>> [bin_label(edges, v) for v in (0.05, 0.4, 0.97)]
['[0.05, 0.31)', '[0.31, 0.48)', '[0.71, 0.97]']
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["needs_bins", "bin_edges", "bin_label", "bin_levels", "MAX_LEVELS", "DEFAULT_BINS"]

#: a numeric parameter with more distinct values than this is binned
MAX_LEVELS = 12
#: bins when a parameter is binned (fewer when there are fewer distinct values)
DEFAULT_BINS = 6


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def needs_bins(values: Sequence[Any], max_levels: int = MAX_LEVELS) -> bool:
    """Whether ``values`` are numbers with more distinct values than ``max_levels``."""
    present = [v for v in values if v is not None]
    return bool(present) and all(_number(v) for v in present) and len(set(present)) > max_levels


def bin_edges(values: Sequence[float], bins: int = DEFAULT_BINS) -> list[float]:
    """Quantile edges (first the minimum, last the maximum) of at most ``bins`` bins, without repeats."""
    ordered = sorted(float(v) for v in values if _number(v))
    if not ordered:
        return []
    count = len(ordered)
    edges = [ordered[min(count - 1, round(i * (count - 1) / bins))] for i in range(bins + 1)]
    return sorted(set(edges))


def bin_label(edges: Sequence[float], value: float) -> str:
    """The label of the bin ``value`` falls in: ``[low, high)``, the last one closed ``[low, high]``."""
    if len(edges) < 2:
        return f"{value:g}"
    position = min(max(bisect.bisect_right(edges, value) - 1, 0), len(edges) - 2)
    low, high = edges[position], edges[position + 1]
    closing = "]" if position == len(edges) - 2 else ")"
    return f"[{low:.3g}, {high:.3g}{closing}"


def bin_levels(values: Sequence[Any], bins: int = DEFAULT_BINS, max_levels: int = MAX_LEVELS) -> list[Any]:
    """Each value's level for per-parameter statistics: its bin's label when the parameter needs bins
    (see :func:`needs_bins`), else the value itself. ``None`` stays ``None``."""
    if not needs_bins(values, max_levels):
        return list(values)
    edges = bin_edges(values, bins)
    return [None if v is None else bin_label(edges, float(v)) for v in values]
