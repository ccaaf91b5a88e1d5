"""What one parameter does to one metric, and how one parameter combination scores.

:func:`measure_effect` gathers every statistic of a metric over a parameter's levels into a
:class:`ParameterEffect`; :func:`configuration_result` summarises one combination's replicates
as a :class:`ConfigurationResult`. Both work on arrays already grouped by
:class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .names import is_numeric_level
from .stats import (
    AdjacentComparison,
    LevelSummary,
    OmnibusResult,
    adjacent_comparisons,
    bootstrap_mean_draws,
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
                   n_boot: int) -> ParameterEffect:
    """Level statistics with bootstrap CIs, omnibus test, adjacent tests and (numeric levels) change point.

    ``groups`` holds the metric's values per level, in the order of ``levels``; ``rng`` draws the
    level bootstraps and ``change_point_rng`` the change point's refits.
    """
    draws = [bootstrap_mean_draws(g, rng, n_boot) for g in groups]
    summaries = [describe_level(lvl, g, rng, n_boot, d) for lvl, g, d in zip(levels, groups, draws)]
    omnibus = omnibus_test(groups)
    adjacent = adjacent_comparisons(levels, groups)
    change = None
    if levels and all(is_numeric_level(lvl) for lvl in levels):
        change = estimate_change_point(levels, groups, change_point_rng, n_boot, omnibus.significant)
    return ParameterEffect(parameter, metric, levels, summaries, omnibus, adjacent, change)


def configuration_result(parameters: dict[str, Any], values: np.ndarray, rng: np.random.Generator,
                         n_boot: int) -> ConfigurationResult:
    """The spread and bootstrap CI of the mean of one combination's metric values."""
    summary = describe_level(None, values, rng, n_boot)
    return ConfigurationResult(parameters, summary.count, summary.mean, summary.std, summary.min,
                               summary.max, summary.ci_low, summary.ci_high)
