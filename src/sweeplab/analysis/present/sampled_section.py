"""What the report says about a sampled or searched sweep: how its trials were chosen, which
parameters were binned, the caveat of an adaptive search, and the search's own result.

A random, LHS or Sobol sweep draws its trials independently of the results; a bayesian search
chooses each trial from the ones before, so its per-bin means describe where the search looked and
its tests do not assume a designed experiment; a refine sweep adds levels where the change is.
The "Search result" section shows the ``search.json`` the search wrote (the best trials, or the
threshold with its interval and the rounds).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..compute.names import short_name
from ..compute.sampled import MIN_PER_BIN
from .document import Block, Heading, Paragraph, Table, fmt_num

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["sampling_lines", "search_blocks", "adaptive_caveat", "is_sampled", "ADAPTIVE_CAVEAT"]

ADAPTIVE_CAVEAT = ("trials were chosen adaptively by the bayesian search (each from the results before it), not "
                   "drawn as a random sample: per-bin means describe where the search looked, not an unbiased "
                   "design, and the report's tests and q-values are descriptive, not significance claims about a "
                   "designed experiment")


def is_sampled(a: SweepStatistics) -> bool:
    """Whether the sweep's configurations are single trials drawn from ranges (random, lhs, sobol,
    bayesian) or have binned parameters: its best configurations are its best trials."""
    return a.sampling.sampled or bool(a.binned_parameters())


def adaptive_caveat(a: SweepStatistics) -> str | None:
    """The caveat of an adaptive search (bayesian), or None."""
    return ADAPTIVE_CAVEAT if a.sampling.strategy == "bayesian" else None


def sampling_lines(a: SweepStatistics) -> list[str]:
    """Lines for the status paragraph: the strategy, the binned parameters, the adaptive caveat."""
    strategy = a.sampling.strategy
    lines = []
    if strategy != "grid":
        how = {"random": "values drawn at random", "lhs": "a Latin hypercube sample",
               "sobol": "a scrambled Sobol sample", "bayesian": "a Bayesian (Optuna) search",
               "refine": "levels refined around the change, in rounds"}.get(strategy, strategy)
        lines.append(f"Strategy: {strategy} ({how}).")
    binned = a.binned_parameters()
    if binned:
        names = ", ".join(f"{short_name(p)} ({n} bins)" for p, n in binned.items())
        lines.append(f"Binned: {names} - their values are mostly distinct, so the per-parameter tables, tests and "
                     f"figures group them into quantile bins of at least {MIN_PER_BIN} trials, labelled by range; "
                     "the shape fit places each bin at its mean value and the design model uses the raw values "
                     "(one linear term).")
    caveat = adaptive_caveat(a)
    if caveat:
        lines.append(f"Adaptive: {caveat}.")
    return lines


def _level(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return fmt_num(value) if math.isfinite(value) else str(value)
    return str(value)


def _best_table(best: list[dict[str, Any]]) -> Table | None:
    params = list(dict.fromkeys(p for entry in best for p in entry.get("params") or {}))
    metrics = list(dict.fromkeys(m for entry in best for m in entry.get("values") or {}))
    rows = []
    for entry in best:
        rows.append([str(entry.get("experiment_id", "-")),
                     *(_value((entry.get("params") or {}).get(p, "-")) for p in params),
                     *(_value((entry.get("values") or {}).get(m, "-")) for m in metrics)])
    if not rows:
        return None
    return Table(["trial", *map(short_name, params), *metrics], rows, left_columns=1)


def _refine_lines(summary: dict[str, Any]) -> list[str]:
    lines = [f"Refine on {summary.get('parameter')} for {summary.get('metric')} at resolution "
             f"{summary.get('resolution')}: stopped {summary.get('stopped') or 'not yet'} after "
             f"{summary.get('registered')} of {summary.get('budget')} trials."]
    threshold = summary.get("threshold")
    if threshold:
        low, high = threshold.get("interval") or [math.nan, math.nan]
        lines.append(f"Threshold: {_level(threshold.get('estimate'))} in [{_level(low)}, {_level(high)}] "
                     f"(width {_value(threshold.get('width'))}; mean {_value(threshold.get('below'))} below, "
                     f"{_value(threshold.get('above'))} above; step z {_value(threshold.get('step_z'))}; "
                     + ("established" if threshold.get("established") else "not established") + ").")
    else:
        lines.append("Threshold: none located.")
    return lines


def _rounds_table(summary: dict[str, Any]) -> Table | None:
    rounds = summary.get("rounds") or []
    rows = []
    for entry in rounds:
        levels = ", ".join(_level(x) for x in entry.get("levels") or [])
        if entry.get("more_replicates"):
            levels += " (+ replicates at " + ", ".join(_level(x) for x in entry["more_replicates"]) + ")"
        interval = entry.get("interval")
        rows.append([str(entry.get("round")), str(entry.get("trials")), levels or "-",
                     "-" if not interval else f"[{_level(interval[0])}, {_level(interval[1])}]"])
    if not rows:
        return None
    return Table(["round", "trials", "levels added", "interval after it"], rows, caption="Rounds",
                 left_columns=3, trailing_left=1)


def search_blocks(a: SweepStatistics) -> list[Block]:
    """The "Search result" section from ``search.json`` (nothing when the sweep has none)."""
    summary = a.search_result()
    if summary is None:
        return []
    blocks: list[Block] = [Heading("Search result")]
    strategy = summary.get("strategy")
    head = (f"From {a.folder.name}/search.json ({strategy}): {summary.get('told')} of {summary.get('budget')} "
            f"trials told" + ("" if summary.get("finished") else ", search not finished") + ".")
    if strategy == "refine":
        blocks.append(Paragraph("\n".join([head, *_refine_lines(summary)])))
        table = _rounds_table(summary)
        return blocks + ([table] if table is not None else [])
    lines = [head]
    objectives = summary.get("objectives") or []
    if objectives:
        lines.append("Objective(s): " + ", ".join(f"{o.get('direction')} {o.get('metric')}" for o in objectives)
                     + (f"; sampler {summary['sampler']}" if summary.get("sampler") else "")
                     + (f"; {summary['failed']} failed" if summary.get("failed") else "") + ".")
    best = summary.get("best") or []
    lines.append("Best trial:" if len(best) == 1 else f"Pareto front ({len(best)} trials):" if best
                 else "No best trial yet.")
    blocks.append(Paragraph("\n".join(lines)))
    table = _best_table(best)
    return blocks + ([table] if table is not None else [])
