"""The objective in full: best configurations, each parameter's levels and tests, the interactions.

Only the objective's metric gets this detail; every other metric gets one line
(:mod:`.metric_lines`). The interval of a level is the one
:class:`~sweeplab.analysis.compute.stats.LevelSummary` carries, and a best configuration of a
one-parameter sweep is a level, so both tables show the same interval for it.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..compute.names import short_name
from ..compute.stats import ALPHA
from ..compute.thresholds import RelativeChange, relative_change_interval
from .objective import goal
from .sampled_section import adaptive_caveat, is_sampled
from .document import (
    Block,
    Heading,
    Paragraph,
    Table,
    fmt_change,
    fmt_interval,
    fmt_num,
    fmt_p,
    level_text,
    p_equals,
)

if TYPE_CHECKING:
    from ..compute.effects import ConfigurationResult, ParameterEffect
    from ..compute.multiplicity import TestFamily
    from ..compute.sweep_statistics import SweepStatistics
    from ..compute.objective import ObjectiveChoice

__all__ = ["best_blocks", "parameter_detail_blocks", "interaction_blocks", "shape_lines", "shape_summary", "MAX_COMBINATION_ROWS",
           "MAX_INTERACTION_PARAMETERS"]

#: above this many combinations the report lists only the best ones
MAX_COMBINATION_ROWS = 30
#: interaction tables are written for every pair when there are at most this many parameters
MAX_INTERACTION_PARAMETERS = 4


def _level_intervals(a: SweepStatistics, metric: str) -> dict[str, dict[object, tuple[float, float]]]:
    """Per parameter, the interval of each level (what the per-level tables show)."""
    return {p: {level_text(s.level): (s.ci_low, s.ci_high) for s in a.parameter_effect(p, metric).summaries}
            for p in a.parameters}


def _interval(a: SweepStatistics, config: ConfigurationResult, metric: str) -> str:
    # One interval per level everywhere: with one parameter a configuration is a level.
    if len(a.parameters) == 1:
        path = a.parameters[0]
        by_level = _level_intervals(a, metric)[path]
        low_high = by_level.get(_level_namer(a)(path, config.parameters[path]))
        if low_high is not None:
            return fmt_interval(*low_high)
    return fmt_interval(config.ci_low, config.ci_high)


def _level_namer(a: SweepStatistics) -> Any:
    """A function (parameter, value) -> the level's text as the per-level tables write it: a grouping
    hands integer levels back as floats (2.0) and a null level as NaN."""
    levels = {p: a.levels(p) for p in a.parameters}

    def name(path: str, value: Any) -> str:
        if isinstance(value, float) and value != value:
            return level_text(None)
        for level in levels[path]:
            if level == value and isinstance(level, bool) == isinstance(value, bool):
                return level_text(level)
        return level_text(value)

    return name


def best_blocks(a: SweepStatistics, objective: ObjectiveChoice) -> list[Block]:
    """The three best configurations, then every combination (or the best ones) ranked."""
    metric, minimize = objective.metric, objective.minimize
    sampled = is_sampled(a)
    if sampled:  # every trial has its own values: a configuration's "mean" is one trial
        blocks: list[Block] = [Heading(f"Best trials ({goal(objective)} {metric})")]
    else:
        blocks = [Heading(f"Best configurations ({goal(objective)} mean {metric})")]
    ranked = a.rank_configurations(metric, minimize=minimize, top=3)
    name = _level_namer(a)
    rows = []
    for rank, config in enumerate(ranked, 1):
        rows.append([str(rank), *(name(p, config.parameters[p]) for p in a.parameters), str(config.count),
                     fmt_num(config.mean), _interval(a, config, metric), fmt_num(config.std),
                     fmt_num(config.min), fmt_num(config.max)])
    headers = ["rank", *map(short_name, a.parameters), "n", "mean", "95% CI", "std", "min", "max"]
    if sampled and all(c.count == 1 for c in ranked):  # single trials: their value, no spread to show
        rows, headers = [r[:len(a.parameters) + 1] + [r[len(a.parameters) + 2]] for r in rows], headers[:-6] + [metric]
    blocks.append(Table(headers, rows, left_columns=1 + len(a.parameters)))
    if len(ranked) > 1 and ranked[0].count >= 2 and ranked[1].count >= 2:
        if ranked[0].ci_low <= ranked[1].ci_high and ranked[1].ci_low <= ranked[0].ci_high:
            blocks.append(Paragraph("The best and the runner-up configuration have overlapping 95% CIs: "
                                    "the data do not clearly separate them."))
    elif sampled:
        blocks.append(Paragraph(f"A {a.sampling.strategy} sweep draws new values for each trial: the best individual "
                                f"trials, ranked by {metric}, not means over replicates (none exist); the per-parameter "
                                "sections below give binned means with intervals."))
    elif ranked and ranked[0].count < 2:
        blocks.append(Paragraph("One trial per configuration: no spread across replicates is available."))
    if len(a.parameters) > 1:
        table = a.configuration_table(metric).sort_values("mean", ascending=minimize, kind="stable")
        shown = table if len(table) <= MAX_COMBINATION_ROWS else table.head(MAX_COMBINATION_ROWS // 2)
        columns = {p: shown[p].tolist() for p in a.parameters}
        rows = [[*(name(p, columns[p][i]) for p in a.parameters), str(int(shown["count"].iloc[i])),
                 fmt_num(float(shown["mean"].iloc[i])), fmt_num(float(shown["std"].iloc[i]))]
                for i in range(len(shown))]
        unit = "trials" if sampled else "combinations"
        caption = (f"All {len(table)} {unit}, best first" if len(table) <= MAX_COMBINATION_ROWS
                   else f"Best {len(shown)} of {len(table)} {unit}")
        blocks.append(Table([*map(short_name, a.parameters), "n", "mean", "std"], rows,
                            caption=caption, left_columns=len(a.parameters)))
    return blocks


def _level_table(effect: ParameterEffect) -> Table:
    rows = [[level_text(s.level), str(s.count), fmt_num(s.mean), fmt_interval(s.ci_low, s.ci_high),
             fmt_num(s.std), fmt_num(s.median), fmt_num(s.min), fmt_num(s.max)] for s in effect.summaries]
    name = short_name(effect.parameter)
    return Table([name, "n", "mean", "95% CI", "std", "median", "min", "max"], rows,
                 caption=f"{effect.metric} by {name}")


def _change_cell(change: RelativeChange) -> str:
    text = fmt_change(change.change)
    if math.isnan(change.ci_low):
        return text + " [n/a]"
    return f"{text} [{fmt_change(change.ci_low)}, {fmt_change(change.ci_high)}]" + (" >=50%" if change.clear else "")


def _contrast_table(a: SweepStatistics, effect: ParameterEffect) -> Table | None:
    """Nominal levels against the first level, the other parameters and the replicate held fixed."""
    contrasts = a.level_contrasts(effect.parameter, effect.metric)
    if not contrasts:
        return None
    rows = [[f"{level_text(c.level)} vs {level_text(c.reference)}", fmt_num(c.difference),
             fmt_interval(c.ci_low, c.ci_high), fmt_p(c.p_value), fmt_p(c.p_holm),
             "yes" if c.p_holm is not None and c.p_holm < ALPHA else "no"] for c in contrasts]
    return Table(["levels", "difference", "95% CI", "p", "p (Holm)", "significant"], rows,
                 caption=f"Each level against {level_text(contrasts[0].reference)}, {effect.metric} "
                         f"({contrasts[0].method})", left_columns=1)


def _comparison_table(a: SweepStatistics, effect: ParameterEffect) -> Table | None:
    if not effect.ordered:
        return _contrast_table(a, effect)  # nominal levels have no neighbours: spec order means nothing
    groups = a.compare_by_parameter(effect.parameter, effect.metric)
    rows = []
    for c in effect.adjacent:
        before, after = groups.get(c.before), groups.get(c.after)
        change = (relative_change_interval(c.before, c.after, np.asarray(before), np.asarray(after))
                  if before and after else None)
        verdict = "yes" if c.significant else ("no" if c.status == "tested" and not c.note else c.note or c.status)
        rows.append([f"{level_text(c.before)} -> {level_text(c.after)}", f"{c.n_before}/{c.n_after}",
                     fmt_num(c.mean_difference), _change_cell(change) if change is not None else "n/a",
                     fmt_p(c.p_value), fmt_p(c.p_holm), verdict])
    if not rows:
        return None
    if adaptive_caveat(a):  # adaptively chosen trials: the p-values describe, they call nothing significant
        return Table(["levels", "n", "mean diff", "relative change [95% CI]", "p", "p (Holm)"],
                     [r[:-1] for r in rows], caption=f"Neighbouring levels, {effect.metric} (descriptive)",
                     left_columns=1)
    return Table(["levels", "n", "mean diff", "relative change [95% CI]", "p", "p (Holm)", "significant"], rows,
                 caption=f"Neighbouring levels, {effect.metric}", left_columns=1, trailing_left=1)


def _omnibus_lines(effect: ParameterEffect, pooled: bool) -> list[str]:
    om = effect.omnibus
    if not om.tested:
        return [f"No omnibus test ({om.status}): {om.note}."]
    how = " pooled over the other parameters (marginal)" if pooled else ""
    lines = [f"Kruskal-Wallis{how} over {om.levels} levels (n={om.total}): H={fmt_num(om.statistic)}, "
             f"{p_equals(om.p_value)}, epsilon^2={fmt_num(om.epsilon_squared)}"
             + (f" ({om.note})" if om.note else "") + "."]
    if om.anova_p is not None:
        lines.append(f"One-way ANOVA: F={fmt_num(om.anova_f)}, {p_equals(om.anova_p)}, "
                     f"eta^2={fmt_num(om.eta_squared)}.")
    else:
        lines.append(f"One-way ANOVA {om.anova_note}.")
    return lines


def shape_lines(effect: ParameterEffect) -> list[str]:
    """Step, gradual, flat or untestable along a numeric parameter, with the numbers behind it."""
    shape = effect.shape
    if shape is None:
        return []
    name = short_name(effect.parameter)
    if shape.shape == "step" and shape.step is not None:
        st = shape.step
        low, high = st.difference_ci
        return [f"Shape along {name}: a STEP between {level_text(st.before)} and {level_text(st.after)} "
                f"(mean {fmt_num(st.mean_before)} -> {fmt_num(st.mean_after)}, difference "
                f"{fmt_num(st.difference)} {fmt_interval(low, high)}); it lies between {level_text(st.interval_low)} "
                f"and {level_text(st.interval_high)} (95% bootstrap range, same boundary in {st.support:.0%} of "
                f"refits); {p_equals(shape.p_value)} against no change."]
    if shape.shape == "gradual":
        parts = [f"Shape along {name}: GRADUAL ({shape.best_model}), not a step - {shape.reason}"]
        if shape.slope is not None:
            ci = fmt_interval(*shape.slope_ci) if shape.slope_ci else "n/a"
            parts.append(f"slope {fmt_num(shape.slope)} per unit of {name} {ci}")
        if shape.midpoint is not None:
            ci = fmt_interval(*shape.midpoint_ci) if shape.midpoint_ci else "n/a"
            parts.append(f"midpoint {fmt_num(shape.midpoint)} {ci}")
        return ["; ".join(parts) + f"; {p_equals(shape.p_value)} against no change."]
    if shape.shape == "flat":
        return [f"Shape along {name}: no change found ({shape.reason})."]
    return [f"Shape along {name}: not classified ({shape.reason})."]


def shape_summary(effect: ParameterEffect) -> str:
    """A short cell: ``step 0.25->0.5``, ``gradual (linear)``, ``flat`` or ``-``."""
    shape = effect.shape
    if shape is None:
        return "-"
    if shape.shape == "step" and shape.step is not None:
        return f"step {level_text(shape.step.before)}->{level_text(shape.step.after)}"
    if shape.shape == "gradual":
        return f"gradual ({shape.best_model})"
    return shape.shape


def _interaction_lines(a: SweepStatistics, path: str, metric: str, family: TestFamily | None) -> list[str]:
    """A marginal view of a parameter that interacts with another averages over opposite effects: say so."""
    if family is None or len(a.parameters) < 2:
        return []
    design = a.design_analysis(metric)
    lines = []
    for term in design.terms:
        q = family.q_value(metric, term.term)
        if term.kind == "interaction" and path in term.factors and q is not None and q < family.alpha:
            others = ", ".join(short_name(f) for f in term.factors if f != path)
            lines.append(f"Interaction: the effect of {short_name(path)} depends on {others} "
                         f"({' × '.join(short_name(f) for f in term.factors)}, {p_equals(q, 'q')}); the tables above pool "
                         f"over {others}, so they can hide opposite effects: see the means over pairs of parameters.")
    return lines


def parameter_detail_blocks(a: SweepStatistics, path: str, metric: str,
                            family: TestFamily | None = None) -> list[Block]:
    """One parameter's effect on the objective: levels with intervals, tests, shape of the change."""
    name = short_name(path)
    title = f"Parameter {name}" + (f" ({path})" if name != path else "")
    effect = a.parameter_effect(path, metric)
    blocks: list[Block] = [Heading(title), _level_table(effect)]
    comparisons = _comparison_table(a, effect)
    if comparisons is not None:
        blocks.append(comparisons)
    power = a.power_note(path)
    detect = [f"What the design can detect along {name}: {power.sentence()}."] if power is not None else []
    bins = a.binned_parameters().get(path)
    if bins:
        detect.append(f"{name} is binned ({bins} quantile bins): the shape fit places each bin at the mean of its "
                      "values, so a step's boundaries above are bin means.")
    if adaptive_caveat(a):
        detect.append("Descriptive only: the trials were chosen adaptively, so these tests do not assume a design.")
    blocks.append(Paragraph("\n".join(_interaction_lines(a, path, metric, family)
                                      + _omnibus_lines(effect, len(a.parameters) > 1) + shape_lines(effect)
                                      + detect)))
    return blocks


def interaction_blocks(a: SweepStatistics, metric: str) -> list[Block]:
    """The objective's mean over every pair of parameters (up to :data:`MAX_INTERACTION_PARAMETERS`)."""
    params = a.parameters
    if len(params) < 2 or len(params) > MAX_INTERACTION_PARAMETERS:
        return []
    blocks: list[Block] = [Heading(f"{metric}: means over pairs of parameters")]
    for first, second in itertools.combinations(params, 2):
        table = a.interaction_table(first, second, metric)
        rows = [[level_text(idx), *(fmt_num(float(v)) for v in values)]
                for idx, values in zip(table.index, table.to_numpy(dtype=float))]
        header = f"{short_name(first)} \\ {short_name(second)}"
        blocks.append(Table([header, *(level_text(c) for c in table.columns)], rows,
                            caption=f"{metric} mean by {short_name(first)} (rows) and {short_name(second)} "
                                    f"(columns)"))
    return blocks
