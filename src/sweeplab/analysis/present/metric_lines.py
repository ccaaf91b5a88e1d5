"""One summary line per metric that is not the objective.

A sweep may report twenty metrics; detailing each over every parameter made lines of a thousand
columns. Each other metric gets one row: how many trials reported it, each parameter's test,
and where its change lies. ``--metric M`` (or ``metric=`` in Python) gives any of them the
objective's detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..compute.names import short_name
from .design_section import fmt_share, term_label
from .document import Block, Heading, Paragraph, Table, level_text, p_equals
from .sampled_section import adaptive_caveat

if TYPE_CHECKING:
    from ..compute.effects import ParameterEffect
    from ..compute.multiplicity import TestFamily
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["other_metric_blocks", "effect_cell", "shape_cell", "strongest_terms"]


def effect_cell(effect: ParameterEffect) -> str:
    """``name p=0.012`` or the reason there is no test."""
    name = short_name(effect.parameter)
    om = effect.omnibus
    if not om.tested:
        return f"{name}: no test ({om.note})"
    return f"{name} {p_equals(om.p_value)}" + ("*" if om.significant else "")


def shape_cell(effect: ParameterEffect) -> str:
    """How the metric changes along a numeric parameter when it does: a step (with the range of
    its boundary) or a gradual change; empty when flat, untestable or nominal."""
    shape = effect.shape
    name = short_name(effect.parameter)
    if shape is None:
        return ""
    if shape.shape == "step" and shape.step is not None:
        st = shape.step
        return (f"{name}: step {level_text(st.before)}->{level_text(st.after)} "
                f"[{level_text(st.interval_low)}, {level_text(st.interval_high)}]")
    if shape.shape == "gradual":
        return f"{name}: gradual ({shape.best_model})"
    return ""


def strongest_terms(a: SweepStatistics, metric: str, family: TestFamily, top: int = 3) -> str:
    """The ``top`` terms by share of the variance, each with its FDR q-value (``*`` below alpha)."""
    design = a.design_analysis(metric)
    if design.status != "ok" or not design.terms:
        return f"no design analysis ({design.status}: {design.reason})" if design.reason else "-"
    terms = sorted((t for t in design.terms if t.kind != "block"), key=lambda t: -t.share)[:top]
    cells = []
    for t in terms:
        q = family.q_value(metric, t.term)
        star = "*" if q is not None and q < family.alpha and not adaptive_caveat(a) else ""
        test = p_equals(q, "q") + star if q is not None else p_equals(t.p_value)
        cells.append(f"{term_label(t)} {fmt_share(t.share)} {test}")
    return "; ".join(cells)


def other_metric_blocks(a: SweepStatistics, objective_metric: str, family: TestFamily) -> list[Block]:
    """The table of the metrics other than the objective, one row each."""
    others = [m for m in a.metrics if m != objective_metric]
    if not others:
        return []
    rows = []
    for metric in others:
        # A shape is looked for only along a parameter with an effect (its main term significant in
        # the family): that is where it means something, and it keeps a 20-metric report fast.
        design = a.design_analysis(metric) if a.parameters else None
        effective = [p for p in a.parameters if design is not None and any(
            t.kind == "main" and p in t.factors and (family.q_value(metric, t.term) or 1.0) < family.alpha
            for t in design.terms)]
        effects = [a.parameter_effect(p, metric) for p in effective]
        count = int(a.configuration_table(metric)["count"].sum())
        values = a.value_report(metric).overall
        terms = strongest_terms(a, metric, family) if a.parameters else "-"
        rows.append([metric, str(count), terms,
                     "; ".join(filter(None, (shape_cell(e) for e in effects))) or "-",
                     values.describe() or "-"])
    return [Heading("Other metrics"),
            Table(["metric", "n", "largest shares of variance (FDR q)", "shape", "left out"], rows,
                  left_columns=5, key_columns=1),
            Paragraph("One line per metric: the terms with the largest share of the variance in the design "
                      "analysis, with q-values of the same family as the objective's (* q < "
                      f"{family.alpha:g}; duration is outside the family and shows its raw p); shape: a step between two levels [95% range of the step] or a gradual "
                      "change (linear or logistic); left out: values that are not finite numbers or were not "
                      "reported. Name a metric as the objective for its full detail."
                      + (" Adaptively chosen trials (bayesian): no q-value is marked, all are descriptive."
                         if adaptive_caveat(a) else ""))]
