"""The sections of the summary report: status, best configurations, parameter effects,
interactions, self-reports and the methods used; and the per-level comparison table.

Every section reads a :class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics`
(the facade :class:`~sweeplab.analysis.analyzer.SweepAnalyzer` is one) and returns blocks of
:mod:`sweeplab.analysis.present.document`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..compute.names import short_name
from ..compute.stats import ALPHA
from ..compute.thresholds import relative_change_thresholds
from ..exceptions import NoSelfReportDataError
from .document import (
    Block,
    Heading,
    Paragraph,
    Table,
    fmt_change,
    fmt_num,
    fmt_p,
    level_text,
    p_equals,
)
from .render import text_table

if TYPE_CHECKING:
    from ..compute.effects import ParameterEffect
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["summary_blocks", "comparison_table", "comparison_table_text", "default_metric"]

#: above this many combinations the report lists only the best and worst ones
MAX_COMBINATION_ROWS = 30
#: interaction tables are written for every pair when there are at most this many parameters
MAX_INTERACTION_PARAMETERS = 4
TOP_QUESTIONS = 10

METHODS = (
    "Methods: only completed trials contribute. Per level: sample std, 95% percentile bootstrap CI of the mean "
    "(seeded; normal approximation of the bootstrap above 200 observations; with fewer than about 10 "
    "observations the bootstrap interval is too narrow and only descriptive). Omnibus test: Kruskal-Wallis "
    "(epsilon^2 = H/(n-1)); one-way ANOVA only where every level has n>=3, Shapiro-Wilk normality (Holm) and "
    "Brown-Forsythe equal variances are not rejected. Adjacent levels: two-sided Mann-Whitney U, Holm-corrected "
    f"per parameter and metric, alpha={ALPHA}; effect size Cliff's delta. Tipping point: best single-step fit "
    "over the ordered levels, 95% interval from refitting bootstrap resamples within levels; it is called "
    "supported only when the omnibus test rejects. Relative-change thresholds: consecutive level means changing "
    "by >= 50% of the earlier mean ('from 0' when the earlier mean is zero). In multi-parameter sweeps, "
    "per-parameter statistics pool over the other parameters' levels (marginal effects)."
)


def comparison_table(sweep: SweepStatistics, parameter_name: str, metrics: Sequence[str] | None = None) -> Table:
    """Means of each metric per level of the parameter, with the number of completed trials."""
    path = sweep.parameter(parameter_name)
    metrics = [sweep.metric(m) for m in (metrics or sweep.metrics)]
    effects = [sweep.parameter_effect(path, m) for m in metrics]
    levels, codes = sweep.level_codes(path)
    counts = np.bincount(codes, minlength=len(levels))
    rows = []
    for level, count in zip(levels, counts):
        row = [level_text(level), str(int(count))]
        for effect in effects:
            by_level = {s.level: s for s in effect.summaries}
            row.append(fmt_num(by_level[level].mean) if level in by_level else "n/a")
        rows.append(row)
    return Table([short_name(path), "n", *(f"{m}_mean" for m in metrics)], rows)


def comparison_table_text(sweep: SweepStatistics, parameter_name: str, metrics: Sequence[str] | None = None) -> str:
    """:func:`comparison_table` rendered as text, like the original spec's example."""
    return "\n".join(text_table(comparison_table(sweep, parameter_name, metrics)))


def _status_blocks(a: SweepStatistics) -> list[Block]:
    counts = a.status_counts
    completed = counts.get("completed", 0)
    breakdown = ", ".join(f"{k} {v}" for k, v in counts.items())
    if a.is_partial:
        state = (f"Status: {a.status.upper()} - PARTIAL RESULTS: {completed} of {a.total_planned} planned trials "
                 f"completed ({breakdown}). Statistics below cover the completed trials only and may change.")
    else:
        state = f"Status: {a.status} - all {a.total_planned} planned trials completed."
    config = a.config
    lines = [state]
    if config.get("description"):
        lines.append(f"Description: {config['description']}")
    lines.append(f"Runner: {config.get('runner', 'unknown')}; repeats per configuration: {config.get('repeats', 1)}; "
                 f"seed: {config.get('seed', 'n/a')}")
    if config.get("tags"):
        lines.append("Tags: " + ", ".join(map(str, config["tags"])))
    lines.append("Metrics: " + (", ".join(a.metrics) if a.metrics else "none reported yet"))
    blocks: list[Block] = [Heading(f"Sweep analysis: {a.sweep_id}", 1), Paragraph("\n".join(lines))]
    rows = [[short_name(p), p, str(len(a.levels(p))), ", ".join(level_text(v) for v in a.levels(p))]
            for p in a.parameters]
    if rows:
        blocks.append(Table(["parameter", "dot path", "levels", "values"], rows, left_columns=4))
    return blocks


def _best_blocks(a: SweepStatistics, metric: str, minimize: bool) -> list[Block]:
    goal = "lowest" if minimize else "highest"
    blocks: list[Block] = [Heading(f"Best configurations ({goal} mean {metric})")]
    ranked = a.rank_configurations(metric, minimize=minimize, top=3)
    rows = []
    for rank, config in enumerate(ranked, 1):
        rows.append([str(rank), *(level_text(config.parameters[p]) for p in a.parameters), str(config.count),
                     fmt_num(config.mean), fmt_num(config.std), fmt_num(config.min), fmt_num(config.max),
                     f"[{fmt_num(config.ci_low)}, {fmt_num(config.ci_high)}]"])
    headers = ["rank", *map(short_name, a.parameters), "n", "mean", "std", "min", "max", "95% CI"]
    blocks.append(Table(headers, rows, left_columns=1 + len(a.parameters)))
    if len(ranked) > 1 and ranked[0].count >= 2 and ranked[1].count >= 2:
        overlap = ranked[0].ci_low <= ranked[1].ci_high and ranked[1].ci_low <= ranked[0].ci_high
        if overlap:
            blocks.append(Paragraph("The best and the runner-up configuration have overlapping 95% CIs: "
                                    "the data do not clearly separate them."))
    elif ranked and ranked[0].count < 2:
        blocks.append(Paragraph("One trial per configuration: no spread across replicates is available."))
    if a.parameters:
        table = a.configuration_table(metric).sort_values("mean", ascending=minimize, kind="stable")
        shown = table if len(table) <= MAX_COMBINATION_ROWS else table.head(MAX_COMBINATION_ROWS // 2)
        columns = {p: shown[p].tolist() for p in a.parameters}
        rows = [[*(level_text(columns[p][i]) for p in a.parameters), str(int(shown["count"].iloc[i])),
                 fmt_num(float(shown["mean"].iloc[i])), fmt_num(float(shown["std"].iloc[i]))]
                for i in range(len(shown))]
        caption = f"All {len(table)} combinations, best first" if len(table) <= MAX_COMBINATION_ROWS else \
            f"Best {len(shown)} of {len(table)} combinations"
        blocks.append(Table([*map(short_name, a.parameters), "n", f"{metric} mean", "std"], rows,
                            caption=caption, left_columns=len(a.parameters)))
    return blocks


def _tipping_text(effect: ParameterEffect) -> str:
    cp = effect.change_point
    if cp is None:
        return "n/a (levels not numeric)" if effect.levels else "n/a"
    where = f"{level_text(cp.before)}->{level_text(cp.after)} [{level_text(cp.interval_low)}, {level_text(cp.interval_high)}]"
    return where + (" supported" if cp.supported else " not supported")


def _effect_row(effect: ParameterEffect) -> list[str]:
    om = effect.omnibus
    if om.tested:
        kw = f"H={fmt_num(om.statistic)} {p_equals(om.p_value)} e2={fmt_num(om.epsilon_squared)}"
    else:
        kw = om.note
    anova = f"F={fmt_num(om.anova_f)} {p_equals(om.anova_p)}" if om.anova_p is not None else "-"
    steps = [f"{level_text(c.before)}->{level_text(c.after)} (d={c.cliffs_delta:+.2f})" for c in effect.adjacent
             if c.significant]
    rel = relative_change_thresholds(effect.levels, [s.mean for s in effect.summaries], 0.5)
    rel_text = "; ".join(f"{level_text(b)}->{level_text(c)} ({fmt_change(x)})" for b, c, x in rel[:3])
    if len(rel) > 3:
        rel_text += f"; +{len(rel) - 3} more"
    return [effect.metric, kw, anova, "; ".join(steps) or "none", _tipping_text(effect), rel_text or "none"]


def _detail_blocks(a: SweepStatistics, effect: ParameterEffect) -> list[Block]:
    rows = [[level_text(s.level), str(s.count), fmt_num(s.mean), f"[{fmt_num(s.ci_low)}, {fmt_num(s.ci_high)}]",
             fmt_num(s.std), fmt_num(s.median), fmt_num(s.min), fmt_num(s.max)] for s in effect.summaries]
    name = short_name(effect.parameter)
    blocks: list[Block] = [Table([name, "n", "mean", "95% CI", "std", "median", "min", "max"], rows,
                                 caption=f"{effect.metric} by {name}")]
    comp_rows = [[f"{level_text(c.before)} -> {level_text(c.after)}", str(c.n_before), str(c.n_after),
                  fmt_num(c.mean_difference), fmt_num(c.cliffs_delta), fmt_p(c.p_value), fmt_p(c.p_holm),
                  "yes" if c.significant else (c.note or "no")] for c in effect.adjacent]
    if comp_rows:
        blocks.append(Table(["step", "n before", "n after", "mean diff", "Cliff's d", "p", "p (Holm)", "significant"],
                            comp_rows, caption=f"Adjacent levels, {effect.metric}"))
    om = effect.omnibus
    lines = []
    if om.tested:
        lines.append(f"Kruskal-Wallis over {om.levels} levels (n={om.total}): H={fmt_num(om.statistic)}, "
                     f"{p_equals(om.p_value)}, epsilon^2={fmt_num(om.epsilon_squared)}"
                     + (f" ({om.note})" if om.note else "") + ".")
        if om.anova_p is not None:
            lines.append(f"One-way ANOVA: F={fmt_num(om.anova_f)}, {p_equals(om.anova_p)}, "
                         f"eta^2={fmt_num(om.eta_squared)}.")
        else:
            lines.append(f"One-way ANOVA {om.anova_note}.")
    else:
        lines.append(f"No omnibus test: {om.note}.")
    cp = effect.change_point
    if cp is not None:
        verdict = "supported by the omnibus test" if cp.supported else "NOT supported (omnibus test does not reject)"
        lines.append(
            f"Tipping point: between {level_text(cp.before)} and {level_text(cp.after)} "
            f"(mean {fmt_num(cp.mean_before)} -> {fmt_num(cp.mean_after)}); 95% interval "
            f"{level_text(cp.interval_low)} to {level_text(cp.interval_high)}; chosen in {cp.support:.0%} of "
            f"bootstrap refits; the step explains {cp.step_share:.0%} of the between-level variation; {verdict}."
            + (f" Note: {cp.note}." if cp.note else ""))
    blocks.append(Paragraph("\n".join(lines)))
    return blocks


def _parameter_blocks(a: SweepStatistics, path: str, primary: str) -> list[Block]:
    name = short_name(path)
    title = f"Parameter {name}" + (f" ({path})" if name != path else "")
    blocks: list[Block] = [Heading(title), comparison_table(a, path)]
    rows = [_effect_row(a.parameter_effect(path, m)) for m in a.metrics]
    blocks.append(Table(["metric", "Kruskal-Wallis", "ANOVA", "significant steps (Holm)",
                         "tipping point [95% interval]", "changes >= 50%"], rows,
                        caption=f"Effect of {name} on each metric", left_columns=6))
    blocks += _detail_blocks(a, a.parameter_effect(path, primary))
    return blocks


def _interaction_blocks(a: SweepStatistics, metric: str) -> list[Block]:
    params = a.parameters
    if len(params) < 2 or len(params) > MAX_INTERACTION_PARAMETERS:
        return []
    blocks: list[Block] = [Heading(f"Interactions ({metric} mean)")]
    for first, second in itertools.combinations(params, 2):
        table = a.interaction_table(first, second, metric)
        rows = [[level_text(idx), *(fmt_num(float(v)) for v in values)]
                for idx, values in zip(table.index, table.to_numpy(dtype=float))]
        header = f"{short_name(first)} \\ {short_name(second)}"
        blocks.append(Table([header, *(level_text(c) for c in table.columns)], rows,
                            caption=f"{metric} mean by {short_name(first)} (rows) and {short_name(second)} (columns)"))
    return blocks


def _self_report_blocks(a: SweepStatistics) -> list[Block]:
    blocks: list[Block] = [Heading("Self-reports")]
    if not a.has_self_reports:
        runner = a.config.get("runner", "unknown")
        blocks.append(Paragraph(f"No self-report data: the sweep's database has no self_reports table "
                                f"(runner {runner!r} records none)."))
        return blocks
    try:
        reports = a.self_reports()
    except NoSelfReportDataError:
        blocks.append(Paragraph("No self-report data: no completed trial of this sweep recorded a self-report."))
        return blocks
    trials = reports["experiment_id"].nunique()
    questions = reports.groupby("question", sort=False).agg(responses=("response", "size"),
                                                            trials=("experiment_id", "nunique"))
    questions = questions.sort_values("responses", ascending=False, kind="stable")
    blocks.append(Paragraph(f"{len(reports)} self-reports from {trials} completed trials; "
                            f"{len(questions)} distinct questions."))
    rows = [[(q[:70] + "...") if len(q) > 73 else q, str(int(r.responses)), str(int(r.trials))]
            for q, r in questions.head(TOP_QUESTIONS).iterrows()]
    blocks.append(Table(["question", "responses", "trials"], rows, caption="Most asked questions"))
    # Responses repeat a lot: count the words of each distinct response once.
    codes, distinct = pd.factorize(reports["response"])
    words = np.array([len(r.split()) for r in distinct], dtype=float)[codes] if len(codes) else np.zeros(0)
    trial_position = reports["trial_position"].to_numpy()
    for path in a.parameters:
        levels, level_codes = a.level_codes(path)
        report_codes = level_codes[trial_position]
        responses = np.bincount(report_codes, minlength=len(levels))
        trials = np.bincount(level_codes[np.unique(trial_position)], minlength=len(levels))
        word_sums = np.bincount(report_codes, weights=words, minlength=len(levels))
        rows = []
        for i, level in enumerate(levels):
            if responses[i]:
                rows.append([level_text(level), str(int(responses[i])), fmt_num(responses[i] / trials[i]),
                             fmt_num(float(word_sums[i] / responses[i]))])
            else:
                rows.append([level_text(level), "0", "n/a", "n/a"])
        blocks.append(Table([short_name(path), "responses", "per trial", "mean words"], rows,
                            caption=f"Self-reports by {short_name(path)}"))
    return blocks


#: metrics the report optimises when none is named, in order of preference (the original's examples)
PREFERRED_METRICS = ("crash_rate", "total_crashes", "messages_per_cycle")


def default_metric(metrics: list[str]) -> str:
    """The metric a report centres on when the user names none (``--metric`` chooses another)."""
    return next((m for m in PREFERRED_METRICS if m in metrics), metrics[0])


def summary_blocks(a: SweepStatistics, metric: str | None = None, minimize: bool = True) -> list[Block]:
    """Build the whole report; ``metric`` is the one optimised and shown in detail."""
    blocks = _status_blocks(a)
    if not a.metrics:
        blocks.append(Paragraph("No completed trial has reported metrics yet: nothing to analyse."))
        return blocks + _self_report_blocks(a)
    primary = a.metric(metric) if metric else default_metric(a.metrics)
    blocks += _best_blocks(a, primary, minimize)
    for path in a.parameters:
        blocks += _parameter_blocks(a, path, primary)
    blocks += _interaction_blocks(a, primary)
    blocks += _self_report_blocks(a)
    blocks.append(Paragraph(METHODS))
    return blocks
