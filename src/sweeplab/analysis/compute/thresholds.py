"""Where does behaviour change? Two answers, from the simple to the trustworthy.

1. :func:`relative_change_thresholds` is the original rule: consecutive levels whose means
   differ by at least ``threshold_change`` relative to the earlier mean. A zero baseline
   has no relative scale: a jump from 0.0 to any non-zero mean counts as an infinite
   (signed) change, and so is always a threshold, while 0.0 -> 0.0 is no change.
2. :func:`estimate_change_point` fits a single step (one mean left of a boundary, one right
   of it) to all observations over the ordered levels and picks the boundary that explains
   the most variance. Resampling observations within each level (bootstrap) and refitting
   gives the distribution of the boundary, hence a 95 % interval for where the tipping point
   lies. A step is only called *supported* when the omnibus test rejects "no effect" — the
   best boundary of pure noise is still some boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .stats import CONFIDENCE, bootstrap_mean_draws

__all__ = ["ChangePoint", "RelativeChange", "relative_change", "relative_change_thresholds",
           "relative_change_interval", "estimate_change_point"]


def relative_change(before: float, after: float) -> float:
    """(after - before) / |before|; from a zero baseline: ±inf for a jump, 0 for none."""
    if before == 0:
        if after == 0:
            return 0.0
        return math.copysign(math.inf, after)
    return (after - before) / abs(before)


def relative_change_thresholds(levels: Sequence[Any], means: Sequence[float],
                               threshold_change: float = 0.5) -> list[tuple[Any, Any, float]]:
    """Pairs of consecutive levels whose means change by at least ``threshold_change`` (0.5 = 50 %).

    Levels without data (nan mean) are skipped, so the pair spans the gap.
    """
    present = [(lvl, m) for lvl, m in zip(levels, means) if not math.isnan(m)]
    found = []
    for (before, m0), (after, m1) in zip(present, present[1:]):
        change = relative_change(m0, m1)
        if abs(change) >= threshold_change:
            found.append((before, after, change))
    return found


@dataclass(frozen=True)
class RelativeChange:
    """The relative change of the mean from one level to the next, with its 95 % interval.

    The interval is the delta-method interval of (mean_after - mean_before) / |mean_before| with
    Welch's degrees of freedom; ``clear`` is True when the whole interval lies beyond the
    threshold on one side (the change is at least that large with 95 % confidence). Without a
    usable baseline (zero mean, n < 2) the interval is nan and ``clear`` False.
    """

    before: Any
    after: Any
    change: float
    ci_low: float
    ci_high: float
    clear: bool


def relative_change_interval(before: Any, after: Any, a: np.ndarray, b: np.ndarray,
                             threshold_change: float = 0.5) -> RelativeChange:
    """The relative change from ``a`` (level ``before``) to ``b`` (level ``after``) with its interval."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ma, mb = float(a.mean()), float(b.mean())
    change = relative_change(ma, mb)
    if len(a) < 2 or len(b) < 2 or ma == 0:
        return RelativeChange(before, after, change, math.nan, math.nan, False)
    va, vb = float(a.var(ddof=1)) / len(a), float(b.var(ddof=1)) / len(b)
    # d r / d mb = 1/|ma|; d r / d ma = -mb / (ma |ma|)
    se = math.sqrt(vb / ma ** 2 + va * mb ** 2 / ma ** 4)
    denominator = (vb ** 2 / (len(b) - 1) + va ** 2 / (len(a) - 1))
    dof = (va + vb) ** 2 / denominator if denominator > 0 else len(a) + len(b) - 2
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, max(dof, 1.0))) * se
    low, high = change - half, change + half
    clear = low >= threshold_change or high <= -threshold_change
    return RelativeChange(before, after, change, low, high, bool(clear))


@dataclass(frozen=True)
class ChangePoint:
    """The most likely single step between two consecutive levels, with its uncertainty.

    The tipping point lies between ``before`` and ``after``; with 95 % bootstrap confidence it
    lies between ``interval_low`` and ``interval_high`` (both are levels of the parameter).
    ``support`` is the fraction of bootstrap refits that chose the same boundary;
    ``step_share`` the fraction of the variance between level means that the one step
    explains (1.0: a clean step; a straight-line trend gives about 0.75).
    """

    before: Any
    after: Any
    interval_low: Any
    interval_high: Any
    mean_before: float
    mean_after: float
    support: float
    step_share: float
    supported: bool
    note: str = ""


def _best_boundaries(level_means: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best step boundary per row of ``level_means`` (rows: draws, columns: levels).

    Boundary k (1..L-1) splits levels [0, k) from [k, L). Returns (k per row, the explained
    between-split sum of squares per row).
    """
    sums = level_means * counts
    left_n = np.cumsum(counts)[:-1]
    total_n = counts.sum()
    left_s = np.cumsum(sums, axis=1)[:, :-1]
    total_s = sums.sum(axis=1, keepdims=True)
    right_n = total_n - left_n
    # Within-split SSE = sum(x^2) - S_L^2/n_L - S_R^2/n_R; only the last two terms depend on k.
    score = left_s ** 2 / left_n + (total_s - left_s) ** 2 / right_n - total_s ** 2 / total_n
    best = np.argmax(score, axis=1)
    return best + 1, score[np.arange(len(best)), best]


def estimate_change_point(levels: Sequence[Any], groups: Sequence[np.ndarray], rng: np.random.Generator,
                          n_boot: int = 1000, omnibus_significant: bool = False) -> ChangePoint | None:
    """Estimate where a single step in the metric lies over the ordered ``levels``.

    Returns None when fewer than two levels have data. Levels without data are ignored.
    """
    kept = [(lvl, np.asarray(g, dtype=float)) for lvl, g in zip(levels, groups) if len(g) > 0]
    if len(kept) < 2:
        return None
    names = [lvl for lvl, _ in kept]
    values = [g for _, g in kept]
    counts = np.array([len(g) for g in values], dtype=float)
    means = np.array([g.mean() for g in values])
    k_hat_arr, explained = _best_boundaries(means[None, :], counts)
    k_hat = int(k_hat_arr[0])
    grand = float((means * counts).sum() / counts.sum())
    between = float((counts * (means - grand) ** 2).sum())
    # A between-level spread at rounding level (identical groups) is no spread: a share of it
    # came out as 6e17 % before.
    if between <= 1e-12 * float((counts * means ** 2).sum() + 1e-300):
        between = 0.0
    step_share = min(1.0, float(explained[0] / between)) if between > 0 else 0.0
    draws = np.column_stack([bootstrap_mean_draws(g, rng, n_boot) for g in values])
    k_boot, _ = _best_boundaries(draws, counts)
    tail = (1 - CONFIDENCE) / 2 * 100
    k_low, k_high = np.percentile(k_boot, [tail, 100 - tail], method="nearest")
    note = ""
    if len(kept) == 2:
        note = "only two levels: the step can only lie between them"
    elif max(len(g) for g in values) < 2:
        note = "n=1 per level: the interval reflects no replication"
    left = slice(0, k_hat)
    right = slice(k_hat, None)
    return ChangePoint(
        before=names[k_hat - 1], after=names[k_hat],
        interval_low=names[int(k_low) - 1], interval_high=names[int(k_high)],
        mean_before=float(np.concatenate(values[left]).mean()),
        mean_after=float(np.concatenate(values[right]).mean()),
        support=float(np.mean(k_boot == k_hat)), step_share=step_share,
        supported=bool(omnibus_significant and between > 0), note=note,
    )
