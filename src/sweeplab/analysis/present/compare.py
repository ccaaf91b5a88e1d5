"""The comparison of several sweeps (:func:`~sweeplab.analysis.compute.compare.compare_sweeps`) as report blocks.

Sweeps are numbered [1], [2], ... so the tables stay narrow. The overall row compares the sweeps
only over the grid points every sweep ran (a sweep term in a model with the grid point), and the
report says which levels of the shared parameters fell outside that region and how many trials
that left out, per sweep. With a direction (``minimize=`` / ``--minimize``, ``--maximize``) each
row that differs also names the better sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..compute.names import short_name
from ..compute.stats import ALPHA
from .document import Block, Heading, Paragraph, Table, fmt_num, fmt_p, level_text

if TYPE_CHECKING:
    from ..compute.compare import ComparisonRow, SweepComparison

__all__ = ["comparison_blocks", "outside_levels"]


def outside_levels(result: SweepComparison, levels: Sequence[dict[str, list[Any]]]) -> list[list[str]]:
    """Per sweep, ``name=level, level`` for the levels of shared parameters another sweep lacks.

    ``levels`` holds each sweep's levels of the shared parameters, in the order of ``result.sweep_ids``.
    """
    out = []
    for own in levels:
        parts = []
        for path in result.shared_parameters:
            missing = [v for v in own.get(path, []) if any(v not in other.get(path, []) for other in levels)]
            if missing:
                shown = ", ".join(level_text(v) for v in missing[:8]) + (
                    f", ... ({len(missing)} levels)" if len(missing) > 8 else "")
                parts.append(f"{short_name(path)}={shown}")
        out.append(parts)
    return out


def _better(row: ComparisonRow, minimize: bool | None) -> str:
    if minimize is None or row.p_holm is None or row.p_holm >= ALPHA:
        return "-"
    best = (min if minimize else max)(range(len(row.means)), key=lambda i: row.means[i])
    return f"[{best + 1}]"


def comparison_blocks(result: SweepComparison, levels: Sequence[dict[str, list[Any]]] | None = None,
                      minimize: bool | None = None) -> list[Block]:
    """The comparison as report blocks (``levels``: see :func:`outside_levels`)."""
    blocks: list[Block] = [Heading("Sweep comparison: " + " vs ".join(result.sweep_ids), 1)]
    lines = [f"[{i}] {sid}: status {status}"
             for i, (sid, status) in enumerate(zip(result.sweep_ids, result.statuses), 1)]
    lines.append("Shared parameters: " + (", ".join(result.shared_parameters) or
                                          "none (only all trials are compared)"))
    lines.append("Metrics compared: " + ", ".join(result.shared_metrics))
    if result.binned:
        lines.append("Binned for the comparison (sampled values): " + ", ".join(
            f"{short_name(p)} ({len(labels)} quantile bins of the pooled values)" for p, labels in result.binned.items())
            + "; a grid point is one bin of each.")
    if result.outside_shared is not None:
        outside = outside_levels(result, levels) if levels is not None else [[] for _ in result.sweep_ids]
        for i, (count, parts) in enumerate(zip(result.outside_shared, outside), 1):
            if count or parts:
                where = f" ({'; '.join(parts)})" if parts else ""
                lines.append(f"Left out of [{i}]: {count} trial(s) outside the grid points every sweep ran{where}.")
        if not any(result.outside_shared):
            lines.append("Every sweep ran the same grid points: nothing is left out.")
    if minimize is not None:
        lines.append(f"Better: the sweep with the {'lower' if minimize else 'higher'} mean, where the sweeps differ.")
    blocks.append(Paragraph("\n".join(lines)))
    effect_name = "Cliff's d" if len(result.sweep_ids) == 2 else "epsilon^2"
    for metric in result.shared_metrics:
        table_rows = []
        tests = []
        for r in (r for r in result.rows if r.metric == metric):
            if r.grid_point is None:
                where = "shared region" if result.shared_parameters else "all trials"
            else:
                where = ", ".join(f"{short_name(p)}={level_text(v)}" for p, v in r.grid_point.items())
            if r.grid_point is not None or not result.shared_parameters:
                tests.append(r.test)
            differs = "yes" if r.p_holm is not None and r.p_holm < ALPHA else "no"
            row = [where, *(f"{fmt_num(m)} (n={n})" for m, n in zip(r.means, r.counts)),
                   fmt_num(r.effect), fmt_p(r.p_value), fmt_p(r.p_holm), differs]
            if minimize is not None:
                row.append(_better(r, minimize))
            table_rows.append(row)
        headers = ["grid point", *(f"[{i}] mean" for i in range(1, len(result.sweep_ids) + 1)),
                   effect_name, "p", "p (Holm)", "differs"] + (["better"] if minimize is not None else [])
        used = ", ".join(dict.fromkeys(tests)) or "-"
        blocks.append(Table(headers, table_rows, caption=f"{metric} (per grid point: {used})"))
        overall = next((r for r in result.rows if r.metric == metric and r.grid_point is None), None)
        if overall is not None and result.shared_parameters:
            blocks.append(Paragraph(f"Shared region: {overall.test}; its effect column is the sweep's share of "
                                    "the variance."))
    blocks.append(Paragraph("Tests are two-sided; Holm correction over the rows of each metric; alpha=0.05. "
                            "Parameters that are not shared are pooled over."))
    return blocks
