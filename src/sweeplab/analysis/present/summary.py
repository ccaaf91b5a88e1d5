"""The summary report: status, objective, best configurations, the objective's detail per
parameter and over pairs of parameters, one line per other metric, self-reports, methods.

Every section reads a :class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics`
(the facade :class:`~sweeplab.analysis.analyzer.SweepAnalyzer` is one) and returns blocks of
:mod:`sweeplab.analysis.present.document`; :func:`comparison_table` is the seed API's table of
metric means per level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..compute.names import short_name
from ..compute.changepoints import CRITERION
from ..compute.rank_tests import PERMUTATION_BELOW
from ..compute.stats import ALPHA
from .document import Block, Heading, Paragraph, Table, fmt_num, level_text
from .design_section import design_blocks
from .metric_lines import other_metric_blocks
from .objective import PREFERRED_METRICS, choose_objective, default_metric, has_results, phrase
from .objective_section import best_blocks, interaction_blocks, parameter_detail_blocks
from .render import text_table
from .sampled_section import sampling_lines, search_blocks
from .self_report_section import self_report_blocks

if TYPE_CHECKING:
    from ..compute.objective import ObjectiveChoice
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["summary_blocks", "comparison_table", "comparison_table_text", "default_metric", "PREFERRED_METRICS",
           "METHODS"]

METHODS = (
    "Methods: only completed trials contribute; values that are not finite numbers are counted and left out. "
    "Per level: sample std and the 95% t interval of the mean (the same interval in every table). Omnibus test "
    "per parameter: Kruskal-Wallis (epsilon^2 = H/(n-1)), its p-value from a permutation of the ranks when a "
    f"level has fewer than {PERMUTATION_BELOW} values; one-way ANOVA only where every level has n>=3 and "
    "Shapiro-Wilk normality (Holm) and Brown-Forsythe equal variances are not rejected. Degenerate data (one "
    "level, no variation, identical levels) are reported as such, without a p-value. Neighbouring levels "
    "(numeric parameters only): two-sided Mann-Whitney U, exact at small n, Holm-corrected per parameter and "
    f"metric, alpha={ALPHA}, with the relative change and its 95% delta-method interval, marked >=50% only when "
    "the whole interval lies beyond 50%. Shape along a numeric parameter: constant, linear, logistic and "
    f"single-step fits compared by {CRITERION}; a step is called a step only when it wins. Design analysis: "
    "type-II ANOVA of the metric on every parameter as a factor, the pairwise interactions the data can estimate "
    "and the replicate as a block; a term's share of the sum of squares is its importance; q-values are "
    "Benjamini-Hochberg over every metric x term. The per-parameter tables and Kruskal-Wallis tests pool over "
    "the other parameters' levels (marginal effects)."
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
            by_level = {level_text(s.level): s for s in effect.summaries}
            summary = by_level.get(level_text(level))
            row.append(fmt_num(summary.mean) if summary is not None else "n/a")
        rows.append(row)
    return Table([short_name(path), "n", *(f"{m}_mean" for m in metrics)], rows)


def comparison_table_text(sweep: SweepStatistics, parameter_name: str, metrics: Sequence[str] | None = None,
                          width: int | None = None) -> str:
    """:func:`comparison_table` rendered as text like the original spec's example: one table, however
    wide (``width``: split into parts no wider than that, repeating the level column)."""
    table = comparison_table(sweep, parameter_name, metrics)
    if width is None:
        width = sum(max(len(h), *(len(r[i]) for r in table.rows)) + 3 for i, h in enumerate(table.headers))
    return "\n".join(text_table(table, width))


def _status_blocks(a: SweepStatistics, objective: ObjectiveChoice | None) -> list[Block]:
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
    if objective is not None:
        lines.append(f"Objective: {phrase(objective)} - {objective.reason}.")
    lines += sampling_lines(a)
    blocks: list[Block] = [Heading(f"Sweep analysis: {a.sweep_id}", 1), Paragraph("\n".join(lines))]
    rows = [[short_name(p), p, str(len(a.levels(p))), ", ".join(level_text(v) for v in a.levels(p))]
            for p in a.parameters]
    if rows:
        blocks.append(Table(["parameter", "dot path", "levels", "values"], rows, left_columns=4, key_columns=1))
    return blocks


def _value_blocks(a: SweepStatistics) -> list[Block]:
    """What the trials returned that the statistics cannot use, said out loud."""
    lines = []
    if a.no_metric_trials:
        lines.append(f"- {a.no_metric_trials} completed trial(s) reported no metric at all (flagged 'no metrics'); "
                     "they count in the status but in no statistic.")
    if a.non_numeric_metrics:
        lines.append("- Reported but never a finite number (kept as text fields of the trials, not analysed): "
                     + ", ".join(a.non_numeric_metrics) + ".")
    for metric in a.metrics:
        note = a.value_report(metric).note
        if note:
            lines.append(f"- {note}.")
    if not lines:
        return []
    return [Heading("Values left out"), Paragraph("\n".join(lines))]


def summary_blocks(a: SweepStatistics, metric: str | None = None, minimize: bool | None = None) -> list[Block]:
    """Build the whole report around the objective (see :func:`~.objective.choose_objective`)."""
    if metric is not None:
        a.metric(metric)  # a name the trials never reported is a mistake, results or not
    if not has_results(a):
        blocks = _status_blocks(a, None)
        blocks.append(Paragraph("No completed trial has reported metrics yet: nothing to analyse."))
        return blocks + self_report_blocks(a)
    objective = choose_objective(a, metric, minimize)
    family = a.test_family()
    blocks = _status_blocks(a, objective)
    blocks += _value_blocks(a)
    blocks += search_blocks(a)
    blocks += best_blocks(a, objective)
    blocks += design_blocks(a, objective.metric, family)
    for path in a.parameters:
        blocks += parameter_detail_blocks(a, path, objective.metric, family)
    blocks += interaction_blocks(a, objective.metric)
    blocks += other_metric_blocks(a, objective.metric, family)
    blocks += self_report_blocks(a)
    blocks.append(Paragraph(METHODS))
    return blocks
