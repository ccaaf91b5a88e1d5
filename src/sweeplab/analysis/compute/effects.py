"""What one parameter does to one metric, and how one parameter combination scores.

:func:`measure_effect` gathers every statistic of a metric over a parameter's levels into a
:class:`ParameterEffect`; :func:`configuration_result` summarises one combination's replicates
as a :class:`ConfigurationResult`. Both work on arrays already grouped by
:class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .changepoints import ShapeFit, classify_shape
from .names import is_numeric_level
from .stats import (
    AdjacentComparison,
    LevelSummary,
    OmnibusResult,
    adjacent_comparisons,
    describe_level,
    omnibus_test,
)
from .thresholds import ChangePoint, estimate_change_point

__all__ = ["ParameterEffect", "ConfigurationResult", "measure_effect", "configuration_result"]


@dataclass(frozen=True)
class ParameterEffect:
    """Everything known about one metric across the levels of one parameter."""

    parameter: str
    metric: str
    levels: list[Any]
    summaries: list[LevelSummary]
    omnibus: OmnibusResult
    adjacent: list[AdjacentComparison]
    change_point: ChangePoint | None
    #: step, gradual, flat or untestable over the numeric levels (None: no two numeric levels)
    shape: ShapeFit | None = None
    #: whether the levels are ordered numbers (adjacent tests and shapes make sense) or nominal
    ordered: bool = True
    #: levels with completed trials but no finite value of the metric (left out above)
    missing_levels: list[Any] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class ConfigurationResult:
    """One parameter combination and the spread of the metric over its replicates."""

    parameters: dict[str, Any]
    count: int
    mean: float
    std: float
    min: float
    max: float
    ci_low: float
    ci_high: float


def measure_effect(parameter: str, metric: str, levels: list[Any], groups: Sequence[np.ndarray],
                   rng: np.random.Generator, change_point_rng: np.random.Generator,
                   n_boot: int, all_levels: Sequence[Any] | None = None,
                   positions: Sequence[float | None] | None = None) -> ParameterEffect:
    """Level statistics with t intervals, omnibus test, adjacent tests and (numeric levels) shape.

    ``groups`` holds the metric's values per level, in the order of ``levels``; ``change_point_rng``
    draws the step's bootstrap refits (``rng`` is kept for callers). The change point and the shape
    use the numeric levels only: a ``None`` or text level has no place on the axis (it is still
    summarised and tested). A change point is *supported* only when the shape is a step at
    the same boundary: a step must beat smooth changes (see :mod:`.changepoints`).
    ``all_levels`` (every level with completed trials) names the levels where the metric has no
    finite value: they are listed in ``missing_levels`` and a comparison that spans one says so.
    ``positions`` (binned levels) gives each level's place on the numeric axis (None: not on it);
    the change point and the shape then use those places, and report boundaries in them.
    """
    summaries = [describe_level(lvl, g) for lvl, g in zip(levels, groups)]
    omnibus = omnibus_test(groups)
    adjacent = adjacent_comparisons(levels, groups)
    kept = {repr(lvl) for lvl in levels}
    missing = [lvl for lvl in (all_levels or []) if repr(lvl) not in kept]
    if missing:
        position = {repr(lvl): i for i, lvl in enumerate(all_levels or [])}
        adjacent = [_span_note(c, [m for m in missing
                                   if position[repr(c.before)] < position[repr(m)] < position[repr(c.after)]])
                    for c in adjacent]
    if positions is not None:
        numeric = [(x, g) for x, g in zip(positions, groups) if x is not None]
    else:
        numeric = [(lvl, g) for lvl, g in zip(levels, groups) if is_numeric_level(lvl)]
    ordered = bool(levels) and len(numeric) == len(levels)
    change, shape = None, None
    if len(numeric) >= 2:
        nlevels, ngroups = [lvl for lvl, _ in numeric], [g for _, g in numeric]
        change = estimate_change_point(nlevels, ngroups, change_point_rng, n_boot, omnibus.significant)
        shape = classify_shape(nlevels, ngroups, change_point_rng, n_boot)
        if change is not None:
            at_step = shape.step is not None and shape.is_step and shape.step.after == change.after
            note = change.note
            if not ordered:
                note = "; ".join(filter(None, [note, "non-numeric levels left out of the change point"]))
            change = dataclasses.replace(change, supported=bool(change.supported and at_step), note=note)
    return ParameterEffect(parameter, metric, levels, summaries, omnibus, adjacent, change, shape, ordered, missing)


def _span_note(comparison: AdjacentComparison, gap: list[Any]) -> AdjacentComparison:
    if not gap:
        return comparison
    text = f"spans {', '.join(map(repr, gap))} (no finite value there)"
    return dataclasses.replace(comparison, note="; ".join(filter(None, [comparison.note, text])))


def configuration_result(parameters: dict[str, Any], values: np.ndarray, rng: np.random.Generator,
                         n_boot: int) -> ConfigurationResult:
    """The spread and t interval of the mean of one combination's metric values (the levels' interval)."""
    summary = describe_level(None, values)
    return ConfigurationResult(parameters, summary.count, summary.mean, summary.std, summary.min,
                               summary.max, summary.ci_low, summary.ci_high)
