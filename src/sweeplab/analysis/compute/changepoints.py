"""Honest change points: is the change over an ordered numeric parameter a step, gradual, or none?

Interface:

* :func:`classify_shape` ``(levels, groups, rng=None, n_boot=1000)`` -> :class:`ShapeFit`.
  Four models are fitted by least squares to every observation (not to level means):
  ``constant`` (1 parameter), ``linear`` (2), ``logistic`` (4: low, high, midpoint, scale)
  and ``step`` (3: a mean on each side and the boundary between two adjacent levels). The
  stated criterion is the Gaussian BIC, ``n log(SSE/n) + k log n``. The shape is

  - ``step`` when the step has the lowest BIC **and** it beats the constant by an F test at
    α = 0.05 (a logistic can become as sharp as a step, so a step only wins when nothing
    smooth fits as well with fewer or equal parameters);
  - ``gradual`` when linear or logistic has the lowest BIC and beats the constant (F test);
    the result carries the slope with its t-based 95 % interval and, for a logistic, the
    midpoint with its 95 % interval (delta method from the fit's covariance);
  - ``flat`` when the constant has the lowest BIC, or no model beats it, or the level means do
    not differ by a one-way F test at α = 0.05 (required first, so that picking the best of four
    models does not inflate the rate of shapes found in noise);
  - ``untestable`` (with ``reason``) for fewer than 3 levels with data or no replication.
* :class:`ShapeFit` fields: ``shape``, ``criterion`` (text), ``bic`` (model -> BIC),
  ``best_model``, ``p_value`` (the chosen model against the constant), ``step`` (a
  :class:`StepFit` when a step is fitted: ``before``, ``after``, ``mean_before``,
  ``mean_after``, ``difference`` and its 95 % interval, ``interval_low``/``interval_high``:
  the bootstrap 95 % range of the boundary), ``slope``/``slope_ci``, ``midpoint``/``midpoint_ci``,
  ``reason``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .stats import ALPHA, CONFIDENCE, bootstrap_mean_draws

__all__ = ["ShapeFit", "StepFit", "classify_shape", "CRITERION", "MODEL_PARAMETERS"]

#: parameters each model spends (the step's boundary counts as one)
MODEL_PARAMETERS = {"constant": 1, "linear": 2, "step": 3, "logistic": 4}
#: a logistic counts as smooth when its 10-90 % rise spans at least this many (smallest) level gaps;
#: a sharper one is a step seen through the noise of a neighbouring level, not a smooth alternative
SMOOTH_WIDTH_GAPS = 2.0
_WIDTH_PER_SCALE = 2 * math.log(9)  # the 10-90 % width of a logistic in units of its scale
CRITERION = ("lowest BIC (n·log(SSE/n) + k·log n over all observations; k: constant 1, linear 2, step 3 "
             "incl. its boundary, logistic 4), and an F test against the constant at α = 0.05")


@dataclass(frozen=True)
class StepFit:
    """The best single step between two adjacent levels, with its uncertainty."""

    before: Any
    after: Any
    mean_before: float
    mean_after: float
    difference: float
    difference_ci: tuple[float, float]
    interval_low: Any  # the bootstrap 95 % range of the boundary: from the gap after this level ...
    interval_high: Any  # ... to the gap before this one
    support: float  # share of bootstrap refits that chose the same boundary


@dataclass(frozen=True)
class ShapeFit:
    """Step, gradual, flat, or untestable — and by which numbers."""

    shape: str
    best_model: str | None = None
    p_value: float | None = None
    bic: dict[str, float] = field(default_factory=dict)
    step: StepFit | None = None
    slope: float | None = None
    slope_ci: tuple[float, float] | None = None
    midpoint: float | None = None
    midpoint_ci: tuple[float, float] | None = None
    reason: str = ""
    criterion: str = CRITERION
    p_levels: float | None = None  # one-way F test: do the level means differ at all?

    @property
    def is_step(self) -> bool:
        """True when the data call for a step rather than a smooth change."""
        return self.shape == "step"


def _bic(sse: float, n: int, k: int) -> float:
    # A perfect fit has SSE 0; a floor keeps the logarithm finite and the order of the models.
    return n * math.log(max(sse, 1e-300) / n) + k * math.log(n)


def _step_scores(level_means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Between-split sums of squares for every boundary (columns) of each row of level means."""
    sums = level_means * counts
    left_n = np.cumsum(counts)[:-1]
    total_n = counts.sum()
    left_s = np.cumsum(sums, axis=1)[:, :-1]
    total_s = sums.sum(axis=1, keepdims=True)
    return left_s ** 2 / left_n + (total_s - left_s) ** 2 / (total_n - left_n) - total_s ** 2 / total_n


def _logistic(x: np.ndarray, low: float, high: float, mid: float, scale: float) -> np.ndarray:
    z = np.clip((x - mid) / scale, -500, 500)
    return low + (high - low) / (1.0 + np.exp(-z))


def _fit_logistic(x: np.ndarray, y: np.ndarray, starts: list[tuple[float, float, float, float]],
                  min_scale: float) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Least-squares logistic from several starts: (SSE, parameters, covariance)."""
    from scipy.optimize import least_squares

    best: tuple[float, Any, Any] = (math.inf, None, None)
    lo_x, hi_x = float(x.min()), float(x.max())
    for start in starts:
        p0 = np.array([start[0], start[1], min(max(start[2], lo_x), hi_x), max(start[3], min_scale * 2)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = least_squares(lambda p: _logistic(x, *p) - y, p0,
                                bounds=([-np.inf, -np.inf, lo_x, min_scale], [np.inf, np.inf, hi_x, np.inf]))
        sse = float((fit.fun ** 2).sum())
        if sse < best[0]:
            cov = None
            dof = len(y) - 4
            if dof > 0:
                jtj = fit.jac.T @ fit.jac
                cov = np.linalg.pinv(jtj) * sse / dof
            best = (sse, fit.x, cov)
    return best


def _f_test(sse_null: float, sse_model: float, df_extra: int, df_resid: int) -> float | None:
    from scipy import stats

    if df_resid <= 0 or df_extra <= 0:
        return None
    if sse_model <= 0:
        return 0.0 if sse_null > 0 else None
    f = max(sse_null - sse_model, 0.0) / df_extra / (sse_model / df_resid)
    return float(stats.f.sf(f, df_extra, df_resid))


def classify_shape(levels: Sequence[Any], groups: Sequence[np.ndarray], rng: np.random.Generator | None = None,
                   n_boot: int = 1000) -> ShapeFit:
    """Say whether the metric steps, changes gradually or stays flat over numeric ``levels``.

    ``groups`` holds the metric's values per level (same order); empty levels are ignored.
    ``rng`` draws the bootstrap of the step's boundary (fixed seed by default).
    """
    from scipy import stats

    kept = [(float(lvl), np.asarray(g, dtype=float)) for lvl, g in zip(levels, groups) if len(g) > 0]
    if len(kept) < 3:
        return ShapeFit("untestable", reason="fewer than 3 levels with data: no shape can be told apart")
    kept.sort(key=lambda item: item[0])
    xs = np.array([lvl for lvl, _ in kept])
    values = [g for _, g in kept]
    counts = np.array([len(g) for g in values], dtype=float)
    x = np.repeat(xs, counts.astype(int))
    y = np.concatenate(values)
    n = len(y)
    if n - len(kept) < 2:
        return ShapeFit("untestable", reason="too little replication: fewer than 2 residual degrees of freedom "
                                             "within levels")
    sst = float(((y - y.mean()) ** 2).sum())
    if sst <= 1e-12 * max(1.0, float((y ** 2).sum())):
        return ShapeFit("flat", reason="all values identical")
    # linear
    slope_fit = stats.linregress(x, y)
    sse_lin = float(((y - slope_fit.intercept - slope_fit.slope * x) ** 2).sum())
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 2))
    slope_ci = (float(slope_fit.slope - t * slope_fit.stderr), float(slope_fit.slope + t * slope_fit.stderr))
    # step
    means = np.array([g.mean() for g in values])
    scores = _step_scores(means[None, :], counts)[0]
    k_hat = int(np.argmax(scores)) + 1
    sse_step = max(sst - float(scores[k_hat - 1]), 0.0)
    # logistic: started from the linear trend and from the step, so it finds the sharp fit when there is one
    gaps = np.diff(xs)
    span = float(xs[-1] - xs[0])
    left_mean, right_mean = float(y[x < xs[k_hat]].mean()), float(y[x >= xs[k_hat]].mean())
    starts = [(left_mean, right_mean, (xs[k_hat - 1] + xs[k_hat]) / 2, float(gaps[k_hat - 1])),
              (float(means[0]), float(means[-1]), float(np.median(xs)), span / 4)]
    min_scale = SMOOTH_WIDTH_GAPS * float(gaps.min()) / _WIDTH_PER_SCALE
    sse_log, params, cov = _fit_logistic(x, y, starts, min_scale=min_scale)
    sse = {"constant": sst, "linear": sse_lin, "step": sse_step, "logistic": sse_log}
    bic = {m: _bic(s, n, MODEL_PARAMETERS[m]) for m, s in sse.items()}
    best = min(bic, key=lambda m: (bic[m], MODEL_PARAMETERS[m]))
    p_value = None if best == "constant" else _f_test(sst, sse[best], MODEL_PARAMETERS[best] - 1,
                                                       n - MODEL_PARAMETERS[best])
    step = _step_fit(xs, values, counts, k_hat, rng or np.random.default_rng(0), n_boot)
    result = dict(bic=bic, best_model=best, p_value=p_value, step=step, slope=float(slope_fit.slope),
                  slope_ci=slope_ci)
    if best == "logistic" and params is not None:
        result["midpoint"] = float(params[2])
        if cov is not None and np.isfinite(cov[2, 2]) and cov[2, 2] >= 0:
            half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 4)) * math.sqrt(float(cov[2, 2]))
            result["midpoint_ci"] = (float(params[2]) - half, float(params[2]) + half)
    # The levels must differ at all (one-way F test of the level means, exact level under the null)
    # before a shape is named: choosing the best of four models would otherwise inflate its own F test.
    sse_cells = float(sum(((g - g.mean()) ** 2).sum() for g in values))
    p_levels = _f_test(sst, sse_cells, len(kept) - 1, n - len(kept))
    result["p_levels"] = p_levels
    if best == "constant" or p_value is None or p_value >= ALPHA or p_levels is None or p_levels >= ALPHA:
        if best == "constant":
            reason = "no model beats a constant by BIC"
        elif p_levels is None or p_levels >= ALPHA:
            reason = f"the levels do not differ (one-way F test p={_fmt(p_levels)})"
        else:
            reason = f"the best model ({best}) does not beat a constant (F test p={_fmt(p_value)})"
        return ShapeFit("flat", reason=reason, **result)
    if best == "step":
        return ShapeFit("step", reason="a single step fits better than a line or a logistic curve by BIC", **result)
    return ShapeFit("gradual", reason=f"a {best} change fits better than a single step by BIC", **result)


def _step_fit(xs: np.ndarray, values: list[np.ndarray], counts: np.ndarray, k_hat: int,
              rng: np.random.Generator, n_boot: int) -> StepFit:
    """The step at boundary ``k_hat`` with a t-based interval of its size and a bootstrap range of its place."""
    from scipy import stats

    left, right = np.concatenate(values[:k_hat]), np.concatenate(values[k_hat:])
    diff = float(right.mean() - left.mean())
    # Welch interval of the difference of the two sides' means
    va = left.var(ddof=1) / len(left) if len(left) > 1 else math.nan
    vb = right.var(ddof=1) / len(right) if len(right) > 1 else math.nan
    se = math.sqrt(va + vb) if not math.isnan(va + vb) else math.nan
    if se and not math.isnan(se):
        dof = (va + vb) ** 2 / ((va ** 2 / (len(left) - 1)) + (vb ** 2 / (len(right) - 1))) if va + vb > 0 else 1.0
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, max(dof, 1.0))) * se
        ci = (diff - half, diff + half)
    else:
        ci = (math.nan, math.nan)
    draws = np.column_stack([bootstrap_mean_draws(g, rng, n_boot) for g in values])
    k_boot = np.argmax(_step_scores(draws, counts), axis=1) + 1
    tail = (1 - CONFIDENCE) / 2 * 100
    k_low, k_high = np.percentile(k_boot, [tail, 100 - tail], method="nearest")
    return StepFit(before=_level(xs[k_hat - 1]), after=_level(xs[k_hat]), mean_before=float(left.mean()),
                   mean_after=float(right.mean()), difference=diff, difference_ci=ci,
                   interval_low=_level(xs[int(k_low) - 1]), interval_high=_level(xs[int(k_high)]),
                   support=float(np.mean(k_boot == k_hat)))


def _fmt(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3g}"


def _level(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)
