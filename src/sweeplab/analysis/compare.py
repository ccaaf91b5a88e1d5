"""Meta-analysis: do several sweeps give the same metrics over the parameters they share?

For each metric that every sweep reported, trials are grouped by the values of the shared
parameters (a *grid point*); at each grid point present in every sweep the sweeps are
compared — two sweeps with a two-sided Mann-Whitney U test (effect size Cliff's delta of the
second over the first), more with Kruskal-Wallis — and once more over all trials. The
p-values of one metric form one family and are Holm-corrected. Parameters that are not
shared are pooled over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UserError
from .analyzer import SweepAnalyzer
from .names import level_text, short_name
from .report import Block, Heading, Paragraph, Table, fmt_num, fmt_p
from .stats import holm, omnibus_test, two_sample_test

__all__ = ["ComparisonRow", "SweepComparison", "compare_sweeps", "comparison_blocks"]


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


def compare_sweeps(analyzers: Sequence[SweepAnalyzer], metrics: Sequence[str] | None = None) -> SweepComparison:
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


def comparison_blocks(result: SweepComparison) -> list[Block]:
    """The comparison as report blocks."""
    blocks: list[Block] = [Heading("Sweep comparison: " + " vs ".join(result.sweep_ids), 1)]
    lines = [f"{sid}: status {status}" for sid, status in zip(result.sweep_ids, result.statuses)]
    lines.append("Shared parameters: " + (", ".join(result.shared_parameters) or
                                          "none (only all trials are compared)"))
    lines.append("Metrics compared: " + ", ".join(result.shared_metrics))
    blocks.append(Paragraph("\n".join(lines)))
    effect_name = "Cliff's d" if len(result.sweep_ids) == 2 else "epsilon^2"
    for metric in result.shared_metrics:
        table_rows = []
        for r in (r for r in result.rows if r.metric == metric):
            where = "all trials" if r.grid_point is None else ", ".join(
                f"{short_name(p)}={level_text(v)}" for p, v in r.grid_point.items())
            table_rows.append([where, *(f"{fmt_num(m)} (n={n})" for m, n in zip(r.means, r.counts)), r.test,
                               fmt_num(r.effect), fmt_p(r.p_value), fmt_p(r.p_holm),
                               "yes" if r.p_holm is not None and r.p_holm < 0.05 else "no"])
        blocks.append(Table(["grid point", *(f"mean {s}" for s in result.sweep_ids), "test", effect_name, "p",
                             "p (Holm)", "differs"], table_rows, caption=f"{metric}"))
    blocks.append(Paragraph("Tests are two-sided; Holm correction over the rows of each metric; alpha=0.05. "
                            "Parameters that are not shared are pooled over."))
    return blocks
