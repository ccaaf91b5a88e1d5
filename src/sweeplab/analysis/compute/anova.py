"""Type-II ANOVA of a linear model built from coded factors, with NumPy least squares.

The same table statsmodels' ``anova_lm(fit, typ=2)`` gives (a test checks it against
statsmodels), without building a formula and a DataFrame per fit — the report fits one model
per metric and the validity simulations thousands. A term's type-II sum of squares is the drop
in residual sum of squares when it is added to the model holding every other term that does
not contain it (for ``a``: all terms but ``a`` and ``a × b``; for ``a × b``: all others).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["AnovaRow", "AnovaTable", "dummies", "interaction", "type2_anova"]


@dataclass(frozen=True)
class AnovaRow:
    """One term: degrees of freedom, type-II sum of squares, F and p (None without residual df)."""

    term: str
    df: int
    sum_sq: float
    f: float | None
    p_value: float | None


@dataclass(frozen=True)
class AnovaTable:
    """The terms' rows and the full model's residual."""

    rows: list[AnovaRow]
    residual_ss: float
    residual_df: int


def dummies(codes: np.ndarray, levels: int) -> np.ndarray:
    """Treatment-coded columns of a factor (level 0 is the baseline): n × (levels - 1)."""
    return (codes[:, None] == np.arange(1, levels)[None, :]).astype(float)


def interaction(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Columns of an interaction: every product of a column of ``first`` with one of ``second``."""
    return (first[:, :, None] * second[:, None, :]).reshape(len(first), -1)


def _fit(y: np.ndarray, x: np.ndarray) -> tuple[float, int]:
    """Residual sum of squares and rank of the least-squares fit of ``y`` on ``x``."""
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    return float(residual @ residual), int(rank)


def type2_anova(y: np.ndarray, terms: Mapping[str, np.ndarray], contains: Mapping[str, Sequence[str]]) -> AnovaTable:
    """Type-II ANOVA of ``y`` on an intercept plus ``terms`` (name -> columns).

    ``contains[name]`` lists the terms that contain ``name`` (its interactions), which stay out
    of the reference model when ``name`` is tested.
    """
    from scipy import stats

    n = len(y)
    ones = np.ones((n, 1))
    names = list(terms)

    def design(chosen: Sequence[str]) -> np.ndarray:
        return np.hstack([ones, *(terms[t] for t in chosen)]) if chosen else ones

    residual_ss, rank = _fit(y, design(names))
    residual_df = n - rank
    scale = residual_ss / residual_df if residual_df > 0 else float("nan")
    rows = []
    for name in names:
        held = [t for t in names if t != name and t not in set(contains.get(name, ()))]
        sse_without, rank_without = _fit(y, design(held))
        sse_with, rank_with = _fit(y, design([*held, name]))
        df = rank_with - rank_without
        ss = max(sse_without - sse_with, 0.0)
        if df <= 0 or residual_df <= 0 or not scale > 0:
            rows.append(AnovaRow(name, df, ss, None, None))
            continue
        f = ss / df / scale
        rows.append(AnovaRow(name, df, ss, float(f), float(stats.f.sf(f, df, residual_df))))
    return AnovaTable(rows, residual_ss, residual_df)
