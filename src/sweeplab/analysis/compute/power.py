"""What a design can detect: the smallest attainable p-value and the minimal detectable effect.

Interface:

* :func:`smallest_p_two_sample` ``(n1, n2)`` -> the smallest two-sided p an exact
  Mann-Whitney / permutation test can give: ``2 / C(n1+n2, n1)``.
* :func:`smallest_p_kruskal` ``(counts)`` -> the smallest p a permutation Kruskal-Wallis test can give.
* :func:`minimal_detectable_effect` ``(levels, replicates, alpha=0.05, power=0.8, *,
  blocks=False)`` -> the smallest difference between two level means, in units of the noise
  σ, that a two-sided t-test on the design's residual degrees of freedom detects with that
  power (noncentral t).
* :func:`replicates_needed` ``(effect_sigma, levels, alpha=0.05, power=0.8)`` -> the number of
  replicates per level for that effect (None when above :data:`MAX_REPLICATES`).
* :class:`PowerNote` and :func:`power_note` ``(levels, replicates, alpha, comparisons)`` ->
  both numbers plus the smallest attainable Holm-adjusted p, and a ``unattainable`` flag with a
  sentence when no comparison can reach significance at this n (what ``--dry-run`` and the report print).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["MAX_REPLICATES", "PowerNote", "smallest_p_two_sample", "smallest_p_kruskal",
           "minimal_detectable_effect", "replicates_needed", "power_note", "plan_power_notes"]

#: replicates_needed gives up above this many replicates per level
MAX_REPLICATES = 10_000


def smallest_p_two_sample(n1: int, n2: int) -> float:
    """The smallest two-sided p an exact rank test of n1 against n2 values can give.

    >>> smallest_p_two_sample(3, 3)
    0.1
    """
    if n1 < 1 or n2 < 1:
        return 1.0
    try:
        return min(1.0, 2.0 / math.comb(n1 + n2, n1))
    except OverflowError:  # C(n1+n2, n1) beyond a float (about 500 values per side): the floor is 0
        return 0.0


def smallest_p_kruskal(counts: list[int]) -> float:
    """The smallest p a permutation Kruskal-Wallis over groups of these sizes can give.

    Only the one assignment (up to swapping equal-sized groups) with the groups in rank order
    is as extreme as the most extreme, so the floor is that number over the multinomial count.
    """
    counts = [c for c in counts if c > 0]
    if len(counts) < 2:
        return 1.0
    total = math.factorial(sum(counts))
    for c in counts:
        total //= math.factorial(c)
    same_size = 1
    for size in set(counts):
        same_size *= math.factorial(counts.count(size))
    return min(1.0, same_size / total)


def _power_two_sided(effect: float, n: int, dof: int, alpha: float) -> float:
    """Power of a two-sided t test of two level means (n values each) for ``effect`` σ.

    P(|Z + δ| > c·sqrt(V/ν)) with V ~ chi²(ν), averaged over 2,000 quantiles of V (SciPy's
    noncentral t returns nan at some small ν and large δ).
    """
    import numpy as np
    from scipy import stats

    if dof < 1 or n < 1:
        return 0.0
    noncentrality = effect * math.sqrt(n / 2)
    critical = float(stats.t.ppf(1 - alpha / 2, dof))
    grid = (np.arange(2000) + 0.5) / 2000
    scale = critical * np.sqrt(stats.chi2.ppf(grid, dof) / dof)
    return float(np.mean(stats.norm.sf(scale - noncentrality) + stats.norm.cdf(-scale - noncentrality)))


def _residual_dof(levels: int, replicates: int, blocks: bool, per_level: int | None = None) -> int:
    n = replicates if per_level is None else per_level
    return levels * n - levels - ((replicates - 1) if blocks else 0)


def minimal_detectable_effect(levels: int, replicates: int, alpha: float = 0.05, power: float = 0.8, *,
                              blocks: bool = False, per_level: int | None = None) -> float | None:
    """The smallest difference of two level means (in σ of the noise) detected with ``power``.

    A two-sided t test at ``alpha`` on the design's residual degrees of freedom (one mean per
    level, and a replicate block when ``blocks``). ``per_level`` is the number of values in a
    level when it is more than ``replicates`` (a level of one parameter of a grid holds the
    replicates of every combination of the others). None when there are no residual degrees of freedom.

    >>> round(minimal_detectable_effect(2, 10), 2)
    1.32
    """
    from scipy.optimize import brentq

    n = replicates if per_level is None else per_level
    dof = _residual_dof(levels, replicates, blocks, per_level)
    if dof < 1 or n < 1:
        return None
    return float(brentq(lambda d: _power_two_sided(d, n, dof, alpha) - power, 1e-6, 40.0))


def replicates_needed(effect_sigma: float, levels: int, alpha: float = 0.05, power: float = 0.8, *,
                      blocks: bool = False) -> int | None:
    """Replicates per level for a two-level difference of ``effect_sigma`` σ (None above :data:`MAX_REPLICATES`).

    >>> replicates_needed(1.0, 2)
    17
    """
    if effect_sigma <= 0:
        return None
    low, high = 2, 2
    while _power_two_sided(effect_sigma, high, _residual_dof(levels, high, blocks), alpha) < power:
        low, high = high, high * 2
        if high > MAX_REPLICATES:
            return None
    while low < high:  # the first replicate count that reaches the power
        mid = (low + high) // 2
        if _power_two_sided(effect_sigma, mid, _residual_dof(levels, mid, blocks), alpha) >= power:
            high = mid
        else:
            low = mid + 1
    return high


@dataclass(frozen=True)
class PowerNote:
    """What a design with ``levels`` × ``replicates`` can detect, for the report and ``--dry-run``."""

    levels: int
    replicates: int  # values per level
    alpha: float
    comparisons: int
    smallest_p: float
    smallest_adjusted_p: float
    mde_sigma: float | None
    unattainable: bool

    def sentence(self) -> str:
        """One line: the smallest p and, when replicated, the MDE."""
        parts = [f"{self.replicates} value(s) per level: the smallest p a rank test of two levels can "
                 f"give is {self.smallest_p:.2g}"]
        if self.comparisons > 1:
            parts.append(f"{self.smallest_adjusted_p:.2g} after Holm over {self.comparisons} comparisons")
        if self.unattainable:
            parts.append(f"no comparison can reach p < {self.alpha:g}")
        if self.mde_sigma is not None:
            parts.append(f"a difference of {self.mde_sigma:.2g} σ between two levels is detected with 80 % power")
        return "; ".join(parts)


def power_note(levels: int, replicates: int, alpha: float = 0.05, comparisons: int | None = None, *,
               blocks: bool = False, per_level: int | None = None) -> PowerNote:
    """The smallest attainable p (raw and Holm-adjusted over ``comparisons``, default adjacent pairs) and the MDE.

    ``per_level``: values per level when a level pools other parameters' grid points (default ``replicates``).

    >>> power_note(8, 5).unattainable
    True
    """
    comparisons = max(1, levels - 1) if comparisons is None else max(1, comparisons)
    n = replicates if per_level is None else per_level
    smallest = smallest_p_two_sample(n, n)
    adjusted = min(1.0, smallest * comparisons)
    mde = minimal_detectable_effect(levels, replicates, alpha, blocks=blocks, per_level=per_level) if n > 1 else None
    return PowerNote(levels, n, alpha, comparisons, smallest, adjusted, mde, adjusted >= alpha)


def plan_power_notes(levels: Mapping[str, int], replicates: int, alpha: float = 0.05) -> dict[str, PowerNote]:
    """Power notes of a planned full-factorial grid, one per parameter (for ``--dry-run``).

    ``levels`` maps each swept parameter to its number of values; a level of one parameter holds
    ``replicates`` × the product of the others' level counts. Replicates are blocks when more than one.

    >>> notes = plan_power_notes({"lr": 4, "depth": 3}, replicates=2)
    >>> notes["lr"].replicates, notes["lr"].unattainable
    (6, False)
    """
    total = replicates * math.prod(max(1, n) for n in levels.values())
    return {name: power_note(max(2, n), replicates, alpha, blocks=replicates > 1, per_level=max(1, total // max(1, n)))
            for name, n in levels.items()}
