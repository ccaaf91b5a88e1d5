"""Meta-analysis: do several sweeps give the same metrics over the parameters they share?

For each metric that every sweep reported, trials are grouped by the values of the shared
parameters (a *grid point*); at each grid point present in every sweep the sweeps are
compared — two sweeps with a two-sided Mann-Whitney U test (effect size Cliff's delta of the
second over the first), more with Kruskal-Wallis — and once more over all trials. The
p-values of one metric form one family and are Holm-corrected. Parameters that are not
shared are pooled over. :mod:`sweeplab.analysis.present.compare` writes the result as a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import UserError
from .stats import holm, omnibus_test, two_sample_test

if TYPE_CHECKING:
    from .sweep_statistics import SweepStatistics

__all__ = ["ComparisonRow", "SweepComparison", "compare_sweeps"]


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


def _test(groups: list[np.ndarray]) -> tuple[str, float | None, float | None]:
    if min(len(g) for g in groups) < 2:
        return "n<2 in a sweep: no test", None, None
    if len(groups) == 2:
        p, delta = two_sample_test(groups[0], groups[1])
        return "Mann-Whitney U", p, delta
    result = omnibus_test(groups)
    return "Kruskal-Wallis", result.p_value, result.epsilon_squared


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
    frames = [a.to_dataframe().query("status == 'completed'") for a in analyzers]
    rows: list[ComparisonRow] = []
    for metric in shared_metrics:
        family: list[ComparisonRow] = []
        groups = [f[metric].dropna().to_numpy(dtype=float) for f in frames]
        family.append(ComparisonRow(metric, None, [len(g) for g in groups],
                                    [float(g.mean()) if len(g) else float("nan") for g in groups], *_test(groups)))
        if shared_params:
            grouped = [{k if isinstance(k, tuple) else (k,): g.to_numpy(dtype=float)
                        for k, g in f.dropna(subset=[metric]).groupby(shared_params, sort=False, dropna=False)[metric]}
                       for f in frames]
            points = [k for k in grouped[0] if all(k in g for g in grouped[1:])]
            first = analyzers[0]
            points.sort(key=lambda k: [first.levels(p).index(v) if v in first.levels(p) else 0
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
    return SweepComparison(ids, [a.status for a in analyzers], shared_params, shared_metrics, rows)
