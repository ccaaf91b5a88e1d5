"""Meta-analysis: do several sweeps give the same metrics over the parameters they share?

For each metric that every sweep reported, trials are grouped by the values of the shared
parameters (a *grid point*); at each grid point present in every sweep the sweeps are
compared — two sweeps with a two-sided Mann-Whitney U test (effect size Cliff's delta of the
second over the first), more with Kruskal-Wallis — and once more overall. The overall test
uses only the grid points every sweep has: pooling levels only one sweep ran would compare
different regions (x 0..4 against 0..29 "differed" in 91 % of pairs of the same process). It is
the sweep term of a two-way least-squares model, metric ~ sweep + grid point, over that shared
region (type-II F test), so differences between grid points do not count as a sweep effect.
The p-values of one metric form one family and are Holm-corrected. Parameters that are not
shared are pooled over. A shared parameter that is binned in a sampled sweep (its values mostly
distinct, see :mod:`.sampled`) is binned the same way in every sweep for the comparison: quantile
bins of the pooled values, fewer the more parameters are binned, so that a grid point (one bin of
each) holds about :data:`MIN_PER_CELL` trials of the smallest sweep (fewer would leave rank tests
that cannot reach 0.05: 3 against 3 gives at best p = 0.1). :mod:`sweeplab.analysis.present.compare` writes the result as a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import UserError
from ...planning.binning import DEFAULT_BINS, bin_edges, bin_label
from .anova import dummies, type2_anova
from .stats import holm, omnibus_test, two_sample_test

if TYPE_CHECKING:
    from .sweep_statistics import SweepStatistics

__all__ = ["ComparisonRow", "SweepComparison", "compare_sweeps", "MIN_PER_CELL"]

#: trials of the smallest sweep a grid point of binned parameters should hold, on average
MIN_PER_CELL = 5


@dataclass(frozen=True)
class ComparisonRow:
    """One test: a metric at one grid point (``None``: all trials) across the sweeps."""

    metric: str
    grid_point: dict[str, Any] | None
    counts: list[int]
    means: list[float]
    test: str
    p_value: float | None
    effect: float | None
    p_holm: float | None = None


@dataclass(frozen=True)
class SweepComparison:
    """The result of :func:`compare_sweeps`."""

    sweep_ids: list[str]
    statuses: list[str]
    shared_parameters: list[str]
    shared_metrics: list[str]
    rows: list[ComparisonRow]
    #: trials left out of the overall test because their grid point is not in every sweep, per sweep
    outside_shared: list[int] | None = None
    #: shared parameters binned for the comparison -> their common bin labels, in order
    binned: dict[str, list[str]] | None = None
    #: per sweep, the bins of each binned parameter that it has trials in
    binned_levels: list[dict[str, list[str]]] | None = None


def _test(groups: list[np.ndarray]) -> tuple[str, float | None, float | None]:
    if min(len(g) for g in groups) < 2:
        return "n<2 in a sweep: no test", None, None
    if len(groups) == 2:
        p, delta = two_sample_test(groups[0], groups[1])
        return "Mann-Whitney U", p, delta
    result = omnibus_test(groups)
    return "Kruskal-Wallis", result.p_value, result.epsilon_squared


def _sweep_term(values: list[np.ndarray], points: list[list[int]]) -> tuple[str, float | None, float | None]:
    """Type-II F test of the sweep in metric ~ sweep + grid point: (test, p, the sweep's share of the SS).

    Degenerate data say so instead of testing rounding: values that do not vary within any grid
    point leave no residual (identical sweeps there: nothing differs; different ones: they differ
    without noise).
    """
    y = np.concatenate(values)
    sweep = np.concatenate([np.full(len(v), i) for i, v in enumerate(values)])
    point = np.unique(np.concatenate([np.asarray(k, dtype=np.intp) for k in points]), return_inverse=True)[1]
    n_points = int(point.max()) + 1
    label = f"sweep term, metric ~ sweep + grid point over {n_points} shared grid point(s)"
    terms = {"sweep": dummies(sweep, len(values))}
    if n_points > 1:
        terms["point"] = dummies(point, n_points)
    sst = float(((y - y.mean()) ** 2).sum())
    if sst <= 1e-12 * max(1.0, float((y ** 2).sum())):
        return "all values identical: no test", None, None
    table = type2_anova(y, terms, {})
    row = table.rows[0]
    if table.residual_df < 1:
        return "sweep term: too few trials for a model", None, None
    if table.residual_ss <= 1e-12 * sst:
        if row.sum_sq <= 1e-12 * sst:
            return "identical values at every shared grid point: no test", None, 0.0
        return "the sweeps differ at shared grid points without any noise: no test needed", None, 1.0
    return label, row.p_value, row.sum_sq / sst


def compare_sweeps(analyzers: Sequence[SweepStatistics], metrics: Sequence[str] | None = None) -> SweepComparison:
    """Compare the sweeps' shared metrics at each shared grid point and overall."""
    if len(analyzers) < 2:
        raise UserError("compare needs at least two sweeps")
    ids = [a.sweep_id for a in analyzers]
    if len(set(ids)) != len(ids):
        raise UserError(f"compare needs different sweeps, got {', '.join(ids)}")
    shared_params = [p for p in analyzers[0].parameters if all(p in a.parameters for a in analyzers[1:])]
    shared_metrics = [m for m in analyzers[0].metrics if all(m in a.metrics for a in analyzers[1:])]
    if metrics:
        shared_metrics = [analyzers[0].metric(m) for m in metrics]
        for a in analyzers[1:]:
            for m in shared_metrics:
                a.metric(m)
    if not shared_metrics:
        raise UserError(f"the sweeps {', '.join(ids)} have no metric in common")
    frames = [a.completed_trials() for a in analyzers]
    binned = _common_bins(analyzers, frames, shared_params)
    rows: list[ComparisonRow] = []
    outside: list[int] | None = None
    for metric in shared_metrics:
        family: list[ComparisonRow] = []
        if not shared_params:
            groups = [f[metric].dropna().to_numpy(dtype=float) for f in frames]
            family.append(ComparisonRow(metric, None, [len(g) for g in groups],
                                        [float(g.mean()) if len(g) else float("nan") for g in groups], *_test(groups)))
        if shared_params:
            grouped = [{_point_key(k): g.to_numpy(dtype=float)
                        for k, g in f.dropna(subset=[metric]).groupby(shared_params, sort=False, dropna=False)[metric]}
                       for f in frames]
            points = [k for k in grouped[0] if all(k in g for g in grouped[1:])]
            outside = [sum(len(v) for k, v in g.items() if k not in points) for g in grouped]
            values = [[g[k] for k in points] for g in grouped]
            pooled = [np.concatenate(v) if v else np.zeros(0) for v in values]
            point_ids = [[i for i, k in enumerate(points) for _ in range(len(g[k]))] for g in grouped]
            if points and min(len(v) for v in pooled) >= 2:
                overall = _sweep_term(pooled, point_ids)  # effect: the sweep's share of the SS
            else:
                overall = ("no grid point is shared by every sweep: no overall test", None, None)
            family.append(ComparisonRow(metric, None, [len(v) for v in pooled],
                                        [float(v.mean()) if len(v) else float("nan") for v in pooled], *overall))
            first = analyzers[0]
            points.sort(key=lambda k: [_position(binned[p] if p in binned else first.levels(p), v)
                                       for p, v in zip(shared_params, k)])
            for point in points:
                gs = [g[point] for g in grouped]
                family.append(ComparisonRow(metric, dict(zip(shared_params, point)), [len(g) for g in gs],
                                            [float(g.mean()) for g in gs], *_test(gs)))
        tested = [i for i, r in enumerate(family) if r.p_value is not None]
        adjusted = holm([family[i].p_value for i in tested])  # type: ignore[misc]
        for i, p_adj in zip(tested, adjusted):
            r = family[i]
            family[i] = ComparisonRow(r.metric, r.grid_point, r.counts, r.means, r.test, r.p_value, r.effect, p_adj)
        rows += family
    present = [{p: [label for label in labels if label in set(f[p])] for p, labels in binned.items()} for f in frames]
    return SweepComparison(ids, [a.status for a in analyzers], shared_params, shared_metrics, rows, outside,
                           binned or None, present if binned else None)


def _common_bins(analyzers: Sequence[SweepStatistics], frames: list[Any], shared: list[str]) -> dict[str, list[str]]:
    """Bin, in every frame alike, the shared parameters some sweep analyses by bins; return their labels."""
    chosen = [p for p in shared if any(p in a.binned_parameters() for a in analyzers)]
    if not chosen:
        return {}
    smallest = min(len(f) for f in frames)
    count = max(2, min(DEFAULT_BINS, int((smallest / MIN_PER_CELL) ** (1 / len(chosen)))))
    labels: dict[str, list[str]] = {}
    for p in chosen:
        pooled = [float(v) for f in frames for v in f[p] if v is not None]
        edges = bin_edges(pooled, count)
        labels[p] = list(dict.fromkeys(bin_label(edges, v) for v in sorted(pooled)))
        for f in frames:
            f[p] = [None if v is None else bin_label(edges, float(v)) for v in f[p]]
    return labels


def _point_key(key: Any) -> tuple[Any, ...]:
    """A grid point as a tuple, with pandas' NaN for a null level turned back into None."""
    values = key if isinstance(key, tuple) else (key,)
    return tuple(None if isinstance(v, float) and v != v else v for v in values)


def _position(levels: list[Any], value: Any) -> int:
    return levels.index(value) if value in levels else len(levels)
