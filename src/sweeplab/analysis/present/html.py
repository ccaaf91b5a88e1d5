"""A compact HTML summary of a sweep's analysis, for Jupyter (``SweepAnalyzer._repr_html_``).

It shows what a notebook reader looks for first: how far the sweep got, the objective and why,
the best configuration with its interval, and what each parameter does to the objective. The
full report stays :meth:`~sweeplab.analysis.analyzer.SweepAnalyzer.generate_summary_report`.
Every value is HTML-escaped: parameter values and metric names come from user code.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from ..compute.names import short_name
from .document import fmt_interval, fmt_num, fmt_p, level_text
from .design_section import fmt_share
from .metric_lines import shape_cell

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["analyzer_html"]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def analyzer_html(a: SweepStatistics) -> str:
    """The HTML summary of ``a`` (see the module notes)."""
    from .objective import choose_objective, goal, has_results, phrase

    counts = a.status_counts
    state = f"{counts.get('completed', 0)} of {a.total_planned} trials completed; status {a.status}"
    parts = [f"<h4>Sweep {escape(a.sweep_id)}</h4>",
             f"<p>{escape(state)}" + (" <b>(partial results)</b>" if a.is_partial else "") + "</p>"]
    if not has_results(a):
        parts.append("<p>No completed trial has reported metrics yet.</p>")
        return "<div class=\"sweeplab-analysis\">" + "".join(parts) + "</div>"
    objective = choose_objective(a)
    parts.append(f"<p><b>Objective:</b> {escape(phrase(objective))} <i>({escape(objective.reason)})</i></p>")
    best = a.rank_configurations(objective.metric, minimize=objective.minimize, top=1)[0]
    rows = [[short_name(p), level_text(best.parameters[p])] for p in a.parameters]
    parts.append(f"<p><b>Best configuration</b> ({escape(goal(objective))} mean): mean "
                 f"{escape(fmt_num(best.mean))}, 95% CI {escape(fmt_interval(best.ci_low, best.ci_high))}, "
                 f"n={best.count}</p>")
    if rows:
        parts.append(_table(["parameter", "value"], rows))
    effect_rows = []
    design = a.design_analysis(objective.metric) if a.parameters else None
    family = a.test_family() if design is not None else None
    for path in a.parameters:
        effect = a.parameter_effect(path, objective.metric)
        term = next((t for t in design.terms if t.kind == "main" and path in t.factors), None) if design else None
        if term is not None and family is not None:
            q = family.q_value(objective.metric, term.term)
            test = f"q={fmt_p(q)}" if q is not None else f"p={fmt_p(term.p_value)}"
            share = fmt_share(term.share)
        else:
            om = effect.omnibus
            test = f"p={fmt_p(om.p_value)}" if om.tested else f"no test ({om.note})"
            share = "-"
        effect_rows.append([short_name(path), str(len(effect.levels)), share, test, shape_cell(effect) or "-"])
    if effect_rows:
        parts.append(f"<p><b>Effects on {escape(objective.metric)}</b> (others held fixed; share of the variance, "
                     "FDR q)</p>")
        parts.append(_table(["parameter", "levels", "share", "test", "shape"], effect_rows))
    if design is not None and design.warnings:
        parts.append("<p><b>Warnings:</b> " + escape("; ".join(design.warnings)) + "</p>")
    others = len(a.metrics) - 1
    if others:
        parts.append(f"<p>{others} other metric(s); the full report: "
                     "<code>generate_summary_report()</code>.</p>")
    return "<div class=\"sweeplab-analysis\">" + "".join(parts) + "</div>"
