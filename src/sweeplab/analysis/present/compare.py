"""The comparison of several sweeps (:func:`~sweeplab.analysis.compute.compare.compare_sweeps`) as report blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..compute.names import short_name
from .document import Block, Heading, Paragraph, Table, fmt_num, fmt_p, level_text

if TYPE_CHECKING:
    from ..compute.compare import SweepComparison

__all__ = ["comparison_blocks"]


def comparison_blocks(result: SweepComparison) -> list[Block]:
    """The comparison as report blocks; sweeps are numbered [1], [2], ... so the tables stay narrow."""
    blocks: list[Block] = [Heading("Sweep comparison: " + " vs ".join(result.sweep_ids), 1)]
    lines = [f"[{i}] {sid}: status {status}"
             for i, (sid, status) in enumerate(zip(result.sweep_ids, result.statuses), 1)]
    lines.append("Shared parameters: " + (", ".join(result.shared_parameters) or
                                          "none (only all trials are compared)"))
    lines.append("Metrics compared: " + ", ".join(result.shared_metrics))
    blocks.append(Paragraph("\n".join(lines)))
    effect_name = "Cliff's d" if len(result.sweep_ids) == 2 else "epsilon^2"
    for metric in result.shared_metrics:
        table_rows = []
        tests = []
        for r in (r for r in result.rows if r.metric == metric):
            where = "all trials" if r.grid_point is None else ", ".join(
                f"{short_name(p)}={level_text(v)}" for p, v in r.grid_point.items())
            tests.append(r.test)
            table_rows.append([where, *(f"{fmt_num(m)} (n={n})" for m, n in zip(r.means, r.counts)),
                               fmt_num(r.effect), fmt_p(r.p_value), fmt_p(r.p_holm),
                               "yes" if r.p_holm is not None and r.p_holm < 0.05 else "no"])
        used = ", ".join(dict.fromkeys(tests))
        blocks.append(Table(["grid point", *(f"[{i}] mean" for i in range(1, len(result.sweep_ids) + 1)),
                             effect_name, "p", "p (Holm)", "differs"], table_rows,
                            caption=f"{metric} ({used})"))
    blocks.append(Paragraph("Tests are two-sided; Holm correction over the rows of each metric; alpha=0.05. "
                            "Parameters that are not shared are pooled over."))
    return blocks
