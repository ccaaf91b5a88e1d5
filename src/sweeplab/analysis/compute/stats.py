"""Statistics of one metric across the levels of one parameter.

Everything here works on plain NumPy arrays (one array of observations per level) and knows
nothing about sweeps, so it can be checked against simulated data.

Choices, and why:

* The omnibus test is Kruskal–Wallis: sweep metrics are often counts, rates or skewed
  durations, where a rank test keeps its nominal error rate. One-way ANOVA is reported as
  well, but only where its assumptions can be checked and hold (every level n >= 3,
  Shapiro–Wilk normality not rejected after Holm correction, Brown–Forsythe/Levene equal
  variances not rejected); otherwise the report says why it was not used.
* Adjacent levels are compared with two-sided Mann–Whitney U tests, Holm-corrected within the
  family of one parameter and metric; the effect size is Cliff's delta
  (P(after > before) - P(after < before)).
* Confidence intervals of level means are 95 % percentile bootstrap intervals. For levels
  with more than :data:`EXACT_BOOTSTRAP_LIMIT` observations the bootstrap distribution of the
  mean is drawn from its normal approximation (mean, sd/sqrt(n)), which it matches at that
  size and which keeps a 10,000-trial sweep fast.
* With one observation per level there is nothing to test; the result says
  ``n=1 per level: no test`` instead of a p-value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ALPHA",
    "EXACT_BOOTSTRAP_LIMIT",
    "LevelSummary",
    "OmnibusResult",
    "AdjacentComparison",
    "describe_level",
    "bootstrap_mean_draws",
    "holm",
    "omnibus_test",
    "adjacent_comparisons",
    "two_sample_test",
    "LARGE_SAMPLE",
]

ALPHA = 0.05
EXACT_BOOTSTRAP_LIMIT = 200
CONFIDENCE = 0.95


@dataclass(frozen=True)
class LevelSummary:
    """Descriptive statistics of one level; ``std`` is the sample standard deviation (nan if n < 2)."""

    level: Any
    count: int
    mean: float
    std: float
    min: float
    max: float
    median: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float | int]:
        """The six statistics of the original API."""
        return {"mean": self.mean, "std": self.std, "min": self.min, "max": self.max,
                "median": self.median, "count": self.count}


@dataclass(frozen=True)
class OmnibusResult:
    """Does the metric differ between any levels of the parameter?"""

    levels: int
    total: int
    statistic: float | None = None  # Kruskal-Wallis H
    p_value: float | None = None
    epsilon_squared: float | None = None  # rank effect size, H / (n - 1)
    anova_f: float | None = None
    anova_p: float | None = None
    eta_squared: float | None = None
    anova_note: str = ""
    note: str = ""  # why there is no test, or a caveat

    @property
    def tested(self) -> bool:
        """True when a p-value exists."""
        return self.p_value is not None

    @property
    def significant(self) -> bool:
        """True when the Kruskal-Wallis test rejects at :data:`ALPHA`."""
        return self.p_value is not None and self.p_value < ALPHA


@dataclass(frozen=True)
class AdjacentComparison:
    """Mann-Whitney comparison of two neighbouring levels."""

    before: Any
    after: Any
    n_before: int
    n_after: int
    mean_difference: float  # mean(after) - mean(before)
    cliffs_delta: float | None = None
    p_value: float | None = None
    p_holm: float | None = None
    note: str = ""

    @property
    def significant(self) -> bool:
        """True when the Holm-adjusted p-value is below :data:`ALPHA`."""
        return self.p_holm is not None and self.p_holm < ALPHA


def bootstrap_mean_draws(values: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """``n_boot`` bootstrap replicates of the mean of ``values`` (see the module notes)."""
    n = len(values)
    if n == 0:
        return np.full(n_boot, math.nan)
    if n == 1:
        return np.full(n_boot, float(values[0]))
    if n > EXACT_BOOTSTRAP_LIMIT:
        sd = float(np.std(values, ddof=1))
        return rng.normal(float(np.mean(values)), sd / math.sqrt(n), size=n_boot)
    picks = rng.integers(0, n, size=(n_boot, n))
    return values[picks].mean(axis=1)


def _percentile_interval(draws: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def describe_level(level: Any, values: np.ndarray, rng: np.random.Generator, n_boot: int,
                   draws: np.ndarray | None = None) -> LevelSummary:
    """Summarise one level; ``draws`` may pass bootstrap means already drawn for it."""
    n = len(values)
    if n == 0:
        nan = math.nan
        return LevelSummary(level, 0, nan, nan, nan, nan, nan, nan, nan)
    if draws is None:
        draws = bootstrap_mean_draws(values, rng, n_boot)
    ci_low, ci_high = _percentile_interval(draws) if n >= 2 else (math.nan, math.nan)
    return LevelSummary(
        level=level, count=n, mean=float(np.mean(values)),
        std=float(np.std(values, ddof=1)) if n >= 2 else math.nan,
        min=float(np.min(values)), max=float(np.max(values)), median=float(np.median(values)),
        ci_low=ci_low, ci_high=ci_high,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: adjusted p-values in the input order, capped at 1.

    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _anova(groups: list[np.ndarray]) -> tuple[float | None, float | None, float | None, str]:
    """One-way ANOVA where its assumptions hold; else (None, None, None, reason)."""
    from scipy import stats

    if min(len(g) for g in groups) < 3:
        return None, None, None, "not used: fewer than 3 observations in some level, assumptions cannot be checked"
    if all(np.ptp(g) == 0 for g in groups):
        return None, None, None, "not used: no variation within levels"
    normal_p = []
    for g in groups:
        if len(g) > 5000 or np.ptp(g) == 0:
            continue  # Shapiro-Wilk is not defined for constant data; large levels rely on the CLT
        normal_p.append(float(stats.shapiro(g).pvalue))
    if normal_p and min(holm(normal_p)) < ALPHA:
        return None, None, None, "not used: normality rejected (Shapiro-Wilk, Holm-corrected)"
    if any(np.ptp(g) == 0 for g in groups):
        return None, None, None, "not used: some levels have no variation, variances cannot be compared"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        levene_p = float(stats.levene(*groups, center="median").pvalue)
    if math.isnan(levene_p):
        return None, None, None, "not used: variances cannot be compared"
    if levene_p < ALPHA:
        return None, None, None, f"not used: unequal variances (Brown-Forsythe p={levene_p:.3g})"
    result = stats.f_oneway(*groups)
    pooled = np.concatenate(groups)
    grand = pooled.mean()
    between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
    total = float(((pooled - grand) ** 2).sum())
    eta = between / total if total > 0 else math.nan
    return float(result.statistic), float(result.pvalue), float(eta), ""


def omnibus_test(groups: Sequence[np.ndarray]) -> OmnibusResult:
    """Kruskal-Wallis (and ANOVA where valid) over the non-empty ``groups``."""
    from scipy import stats

    present = [np.asarray(g, dtype=float) for g in groups if len(g) > 0]
    total = sum(len(g) for g in present)
    if len(present) < 2:
        return OmnibusResult(len(present), total, note="fewer than 2 levels with data: no test")
    if max(len(g) for g in present) < 2:
        return OmnibusResult(len(present), total, note="n=1 per level: no test")
    pooled = np.concatenate(present)
    if np.ptp(pooled) == 0:
        return OmnibusResult(len(present), total, statistic=0.0, p_value=1.0, epsilon_squared=0.0,
                             anova_note="not used: all values identical", note="all values identical")
    h, p = stats.kruskal(*present)
    epsilon = float(h) / (total - 1) if total > 1 else math.nan
    note = "some levels have n=1" if min(len(g) for g in present) < 2 else ""
    anova_f, anova_p, eta, anova_note = _anova(present)
    return OmnibusResult(len(present), total, float(h), float(p), epsilon, anova_f, anova_p, eta, anova_note, note)


#: above this many observations per sample, Mann-Whitney uses the normal approximation directly
LARGE_SAMPLE = 50


def _mann_whitney_normal(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """U of ``b`` and its two-sided p-value from the tie-corrected normal approximation with
    continuity correction (what SciPy's ``method="asymptotic"`` computes, without its per-call overhead)."""
    from scipy.stats import rankdata

    n1, n2 = len(b), len(a)
    pooled = np.concatenate([b, a])
    ranks = rankdata(pooled)
    u = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    n = n1 + n2
    _, ties = np.unique(pooled, return_counts=True)
    variance = n1 * n2 / 12 * ((n + 1) - float((ties ** 3 - ties).sum()) / (n * (n - 1)))
    if variance <= 0:
        return u, 1.0
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    return u, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


def two_sample_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sided Mann-Whitney U of ``b`` against ``a``: (p-value, Cliff's delta of b over a).

    Small samples use SciPy (exact where it applies); large ones the normal approximation.
    """
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0, 0.0
    if min(len(a), len(b)) > LARGE_SAMPLE:
        u, p = _mann_whitney_normal(a, b)
    else:
        from scipy import stats

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.mannwhitneyu(b, a, alternative="two-sided")
        u, p = float(result.statistic), float(result.pvalue)
    return p, 2.0 * u / (len(a) * len(b)) - 1.0


def adjacent_comparisons(levels: Sequence[Any], groups: Sequence[np.ndarray]) -> list[AdjacentComparison]:
    """Compare each level with the next one; Holm-correct over the comparisons that were tested."""
    raw: list[AdjacentComparison] = []
    for (before, a), (after, b) in zip(zip(levels, groups), zip(levels[1:], groups[1:])):
        diff = float(np.mean(b) - np.mean(a)) if len(a) and len(b) else math.nan
        if min(len(a), len(b)) < 2:
            raw.append(AdjacentComparison(before, after, len(a), len(b), diff,
                                          note="n<2 in a level: no test"))
            continue
        p, delta = two_sample_test(np.asarray(a, float), np.asarray(b, float))
        # The smallest two-sided p an exact Mann-Whitney test can give: 2 / C(n1 + n2, n1).
        floor = 2.0 / math.comb(len(a) + len(b), len(a)) if len(a) + len(b) <= 60 else 0.0
        note = f"too few replicates: p cannot go below {floor:.2g}" if floor >= ALPHA else ""
        raw.append(AdjacentComparison(before, after, len(a), len(b), diff, delta, p, note=note))
    tested = [i for i, c in enumerate(raw) if c.p_value is not None]
    adjusted = holm([raw[i].p_value for i in tested])  # type: ignore[misc]
    out = list(raw)
    for i, p_adj in zip(tested, adjusted):
        c = raw[i]
        out[i] = AdjacentComparison(c.before, c.after, c.n_before, c.n_after, c.mean_difference,
                                    c.cliffs_delta, c.p_value, p_adj, c.note)
    return out
