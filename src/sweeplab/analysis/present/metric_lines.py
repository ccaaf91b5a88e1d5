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
    """Where the metric changes along a numeric parameter, if the change is supported."""
    cp = effect.change_point
    if cp is None or not cp.supported:
        return ""
    return (f"{short_name(effect.parameter)}: step {level_text(cp.before)}->{level_text(cp.after)} "
            f"[{level_text(cp.interval_low)}, {level_text(cp.interval_high)}]")


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
            Table(["metric", "n", "test per parameter (* p<0.05)", "supported step [95% interval]"], rows,
                  left_columns=4),
            Paragraph("One line per metric; name one as the objective for its full detail.")]
