"""Rank tests whose p-values hold at the small n of a sweep: exact or permuted, never a tiny-n approximation.

Mann-Whitney's normal approximation with ties gives p = 0.047 for (0, 0, 0) against
(0.4, 0.4, 0.4), whose exact permutation p-value is 0.1: with three values per side there are
only 20 ways to split six values. Here a two-sample test enumerates every split when there are
at most :data:`EXACT_SPLITS` of them (ties included: it permutes the mid-ranks), uses SciPy's
exact null distribution when there are no ties, a rank permutation with ties, and the
tie-corrected normal approximation only above :data:`LARGE_SAMPLE` values per side. Kruskal-Wallis
is permuted when some level has fewer than :data:`PERMUTATION_BELOW` values. Permutations use a
fixed seed, so the same data always give the same p-value.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXACT_SPLITS", "PERMUTATIONS", "PERMUTATION_BELOW", "LARGE_SAMPLE",
    "TwoSampleResult", "two_sample_result", "kruskal_result", "KruskalResult", "same_values",
]

EXACT_SPLITS = 20_000
PERMUTATIONS = 20_000
PERMUTATION_BELOW = 5
#: above this many values Kruskal-Wallis keeps its chi-squared approximation even with small levels
PERMUTATION_LIMIT = 2000
_CHUNK = 2000
#: above this many observations per sample, Mann-Whitney uses the normal approximation directly
LARGE_SAMPLE = 50
_SEED = 20261130


@dataclass(frozen=True)
class TwoSampleResult:
    """Mann-Whitney U of ``b`` against ``a``: p-value (None when degenerate), Cliff's delta and how."""

    p_value: float | None
    cliffs_delta: float
    method: str
    status: str = "tested"  # tested | degenerate
    note: str = ""


@dataclass(frozen=True)
class KruskalResult:
    """Kruskal-Wallis H with its p-value and how it was computed."""

    statistic: float
    p_value: float
    method: str


def same_values(groups: list[np.ndarray]) -> bool:
    """True when every group holds the same multiset of values (nothing can differ between them)."""
    first = np.sort(groups[0])
    return all(len(g) == len(first) and np.array_equal(np.sort(g), first) for g in groups[1:])


def _rank_sum_p(ranks: np.ndarray, n1: int, observed: float) -> tuple[float, str]:
    """Two-sided p of the rank sum of the first ``n1`` of ``ranks``, by enumeration or permutation."""
    n = len(ranks)
    centre = n1 * (n + 1) / 2
    distance = abs(observed - centre) - 1e-9 * n  # the observed split counts as at least as extreme
    splits = math.comb(n, n1)
    if splits <= EXACT_SPLITS:
        picks = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), n1)),
                            dtype=np.intp, count=splits * n1).reshape(splits, n1)
        sums = ranks[picks].sum(axis=1)
        return float(np.mean(np.abs(sums - centre) >= distance)), f"exact permutation ({splits} splits)"
    hits = _count_permuted(ranks, lambda perms: np.abs(perms[:, :n1].sum(axis=1) - centre) >= distance)
    return (hits + 1) / (PERMUTATIONS + 1), f"permutation ({PERMUTATIONS} resamples)"


def _count_permuted(ranks: np.ndarray, extreme: Callable[[np.ndarray], np.ndarray]) -> int:
    """How many of :data:`PERMUTATIONS` random orders of ``ranks`` are ``extreme`` (fixed seed, in chunks
    of :data:`_CHUNK` orders so that memory stays small whatever the sample size)."""
    rng = np.random.default_rng(_SEED)
    hits = 0
    for start in range(0, PERMUTATIONS, _CHUNK):
        rows = min(_CHUNK, PERMUTATIONS - start)
        hits += int(np.sum(extreme(rng.permuted(np.broadcast_to(ranks, (rows, len(ranks))), axis=1))))
    return hits


def two_sample_result(a: np.ndarray, b: np.ndarray) -> TwoSampleResult:
    """Two-sided Mann-Whitney U of ``b`` against ``a`` with a p-value valid at small n."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pooled = np.concatenate([b, a])
    if np.ptp(pooled) == 0:
        return TwoSampleResult(None, 0.0, "", "degenerate", "no variation: every value is the same")
    if same_values([a, b]):
        return TwoSampleResult(None, 0.0, "", "degenerate", "both levels hold the same values")
    ranks = stats.rankdata(pooled)
    n1, n2 = len(b), len(a)
    u = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    delta = 2.0 * u / (n1 * n2) - 1.0
    ties = len(np.unique(pooled)) < len(pooled)
    if min(n1, n2) > LARGE_SAMPLE:
        return TwoSampleResult(_normal_p(u, n1, n2, pooled), delta, "normal approximation (tie-corrected)")
    if math.comb(n1 + n2, n1) <= EXACT_SPLITS or ties:
        p, method = _rank_sum_p(ranks, n1, float(ranks[:n1].sum()))
        return TwoSampleResult(min(1.0, p), delta, method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.mannwhitneyu(b, a, alternative="two-sided", method="exact").pvalue)
    return TwoSampleResult(p, delta, "exact (no ties)")


def _normal_p(u: float, n1: int, n2: int, pooled: np.ndarray) -> float:
    """Tie-corrected normal approximation with continuity correction (SciPy's ``asymptotic``)."""
    n = n1 + n2
    _, counts = np.unique(pooled, return_counts=True)
    variance = n1 * n2 / 12 * ((n + 1) - float((counts ** 3 - counts).sum()) / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


def kruskal_result(groups: list[np.ndarray]) -> KruskalResult:
    """Kruskal-Wallis over ``groups`` (at least two, not all values equal), permuted at small n."""
    from scipy import stats

    pooled = np.concatenate(groups)
    n = len(pooled)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h, p = stats.kruskal(*groups)
    h = max(float(h), 0.0)
    if h < 1e-9:  # rounding of equal rank sums (1.5e-14 is no statistic)
        h = 0.0
    if min(len(g) for g in groups) >= PERMUTATION_BELOW:
        return KruskalResult(h, float(p) if h > 0 else 1.0, "chi-squared approximation")
    if n > PERMUTATION_LIMIT:  # a few small levels among thousands of values: the approximation holds
        return KruskalResult(h, float(p) if h > 0 else 1.0, "chi-squared approximation (large n)")
    ranks = stats.rankdata(pooled)
    sizes = np.array([len(g) for g in groups])
    bounds = np.concatenate([[0], np.cumsum(sizes)])

    def spread(r: np.ndarray) -> np.ndarray:
        # sum of S_j^2 / n_j: H is an increasing function of it for fixed n and ties
        sums = np.add.reduceat(r, bounds[:-1], axis=-1)
        return (sums ** 2 / sizes).sum(axis=-1)

    observed = float(spread(ranks)) - 1e-9 * n * n
    hits = _count_permuted(ranks, lambda perms: spread(perms) >= observed)
    return KruskalResult(h, (hits + 1) / (PERMUTATIONS + 1), f"permutation ({PERMUTATIONS} resamples)")
