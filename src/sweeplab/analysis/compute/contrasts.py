"""Levels of one parameter compared with the others held fixed: against a reference, or all pairs.

Nominal parameters (text, booleans, ``None``) have no order, so "adjacent" levels in spec
order mean nothing; their levels are compared against a reference level (default: the first in
order) or all pairs. The differences come from the additive model — every parameter as a
categorical factor plus the replicate block, fitted by least squares — so another parameter's
large effect does not drown them. Intervals are t-based 95 %; p-values are Holm-adjusted within
the parameter's comparisons.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .design import MAX_CATEGORICAL_LEVELS
from .names import is_numeric_level, level_index, order_levels
from .stats import ALPHA, CONFIDENCE, holm

__all__ = ["LevelContrast", "level_contrasts"]


@dataclass(frozen=True)
class LevelContrast:
    """``level`` minus ``reference`` of one parameter, the other parameters held fixed."""

    parameter: str
    level: Any
    reference: Any
    difference: float
    ci_low: float
    ci_high: float
    p_value: float | None
    p_holm: float | None
    method: str

    @property
    def significant(self) -> bool:
        """True when the Holm-adjusted p-value is below :data:`ALPHA`."""
        return self.p_holm is not None and self.p_holm < ALPHA


def level_contrasts(frame: pd.DataFrame, parameter: str, metric: str, parameters: Sequence[str], *,
                    reference: Any = None, all_pairs: bool = False, block: str | None = "repeat",
                    level_orders: Mapping[str, Sequence[Any]] | None = None,
                    linear: Collection[str] = ()) -> list[LevelContrast]:
    """Each level of ``parameter`` against ``reference`` (or every pair) from the additive model.

    ``linear`` names numeric parameters held as one linear term whatever their number of values
    (sampled ones), as the design model holds them.
    """
    import statsmodels.api as sm

    data = frame[np.isfinite(frame[metric].to_numpy(dtype=float))]
    orders = level_orders or {}
    levels = order_levels(data[parameter].tolist(), orders.get(parameter))
    if len(levels) < 2:
        return []
    columns: list[np.ndarray] = [np.ones(len(data))]
    own: list[int] = []  # column of level i (level 0 is the baseline of the coding)
    for p in [parameter, *(q for q in parameters if q != parameter)]:
        p_levels = levels if p == parameter else order_levels(data[p].tolist(), orders.get(p))
        if p != parameter and (len(p_levels) > MAX_CATEGORICAL_LEVELS or p in linear) \
                and all(map(is_numeric_level, p_levels)):
            values = data[p].to_numpy(dtype=float)  # as in the design model: one linear term
            columns.append(values - values.mean())
            continue
        codes = np.array(level_index(data[p].tolist(), p_levels))
        for i in range(1, len(p_levels)):
            if p == parameter:
                own.append(len(columns))
            columns.append((codes == i).astype(float))
    if block and block in data.columns and data[block].nunique() > 1:
        reps = data[block].to_numpy()
        for r in sorted(set(reps.tolist()))[1:]:
            columns.append((reps == r).astype(float))
    x = np.column_stack(columns)
    y = data[metric].to_numpy(dtype=float)
    if len(y) - np.linalg.matrix_rank(x) < 1:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, x).fit()
    ref_index = 0 if reference is None else level_index([reference], levels)[0]
    pairs = (list(itertools.combinations(range(len(levels)), 2)) if all_pairs
             else [(ref_index, i) for i in range(len(levels)) if i != ref_index])
    raw = []
    for base, other in pairs:
        vector = np.zeros(x.shape[1])
        if other > 0:
            vector[own[other - 1]] += 1.0
        if base > 0:
            vector[own[base - 1]] -= 1.0
        test = fit.t_test(vector)
        diff = float(np.squeeze(test.effect))
        low, high = (float(v) for v in np.squeeze(test.conf_int(alpha=1 - CONFIDENCE)))
        p = float(np.squeeze(test.pvalue))
        raw.append((levels[other], levels[base], diff, low, high, None if math.isnan(p) else p))
    tested = [r[5] for r in raw if r[5] is not None]
    adjusted = iter(holm(tested))
    method = ("all pairs" if all_pairs else f"against {levels[ref_index]!r}") + \
        ", additive model (other parameters and replicate held fixed), Holm-adjusted"
    return [LevelContrast(parameter, lvl, ref, d, lo, hi, p, next(adjusted) if p is not None else None, method)
            for lvl, ref, d, lo, hi, p in raw]
