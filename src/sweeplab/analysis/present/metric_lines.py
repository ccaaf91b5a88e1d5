"""One summary line per metric that is not the objective.

A sweep may report twenty metrics; detailing each over every parameter made lines of a thousand
columns. Each other metric gets one row: how many trials reported it, each parameter's test,
and where its change lies. ``--metric M`` (or ``metric=`` in Python) gives any of them the
objective's detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..compute.names import short_name
from .document import Block, Heading, Paragraph, Table, level_text, p_equals

if TYPE_CHECKING:
    from ..compute.effects import ParameterEffect
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["other_metric_blocks", "effect_cell", "shape_cell"]


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


def other_metric_blocks(a: SweepStatistics, objective_metric: str) -> list[Block]:
    """The table of the metrics other than the objective, one row each."""
    others = [m for m in a.metrics if m != objective_metric]
    if not others:
        return []
    rows = []
    for metric in others:
        effects = [a.parameter_effect(p, metric) for p in a.parameters]
        count = int(a.configuration_table(metric)["count"].sum())
        rows.append([metric, str(count), "; ".join(effect_cell(e) for e in effects) or "-",
                     "; ".join(filter(None, (shape_cell(e) for e in effects))) or "-"])
    return [Heading("Other metrics"),
            Table(["metric", "n", "test per parameter (* p<0.05)", "shape"], rows,
                  left_columns=4, key_columns=1),
            Paragraph("One line per metric. Shape: a step between two levels [95% range of the step] or a "
                      "gradual change (linear or logistic); name a metric as the objective for its full detail.")]
