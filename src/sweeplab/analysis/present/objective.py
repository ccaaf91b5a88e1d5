"""Which metric a report centres on, in which direction, and why.

The choice is :func:`sweeplab.analysis.compute.objective.choose_objective`'s for what the caller
asked for (``metric=`` / ``minimize=`` in Python, ``--metric M --maximize/--minimize`` on the
command line) and for the sweep spec's ``objective: {metric, direction}`` (stored in
``sweep_config.json``; the first of a multi-objective list). Two cases are the report's own,
because a report must still be written: when nothing names an objective, a metric the lab's
experiment is known to minimise is preferred over the first one reported; and when the spec's
objective names a metric no completed trial reported yet (a sweep still running), the report
falls back to that choice and says so instead of refusing. The reason is always printed, so a
reader never has to guess why one metric got the detail and the others one line each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..compute.objective import ObjectiveChoice
from ..compute.objective import choose_objective as choose_stated
from ..compute.objective import spec_objective
from ..exceptions import AnalysisInputError, UnknownMetricError

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["ObjectiveChoice", "PREFERRED_METRICS", "choose_objective", "default_metric", "phrase", "goal",
           "as_dict", "has_results"]

#: metrics the lab's experiment minimises; chosen, in this order, when nothing names an objective
PREFERRED_METRICS = ("crash_rate", "total_crashes", "messages_per_cycle")


def phrase(choice: ObjectiveChoice) -> str:
    """``minimize loss``."""
    return f"{choice.direction} {choice.metric}"


def goal(choice: ObjectiveChoice) -> str:
    """``lowest`` or ``highest``: what the best configuration has."""
    return "lowest" if choice.minimize else "highest"


def as_dict(choice: ObjectiveChoice) -> dict[str, Any]:
    """Plain JSON: metric, direction, source, reason."""
    return {"metric": choice.metric, "direction": choice.direction, "source": choice.source, "reason": choice.reason}


def default_metric(metrics: list[str]) -> str:
    """The metric a report centres on when nothing names one: a preferred one, else the first
    that is not ``duration`` (the time a trial took is rarely what a sweep is about)."""
    return next((m for m in PREFERRED_METRICS if m in metrics),
                next((m for m in metrics if m != "duration"), metrics[0]))


def has_results(sweep: SweepStatistics) -> bool:
    """True when some completed trial reported a metric (failed trials' durations are no results)."""
    return bool(sweep.metrics) and sweep.status_counts.get("completed", 0) > 0


def _reported(sweep: SweepStatistics, name: str) -> bool:
    try:
        sweep.metric(name)
    except UnknownMetricError:
        return False
    return True


def choose_objective(sweep: SweepStatistics, metric: str | None = None,
                     minimize: bool | None = None) -> ObjectiveChoice:
    """The report's objective (see the module notes); raises :class:`UnknownMetricError` for a
    ``metric`` the trials did not report and :class:`AnalysisInputError` when none reported any."""
    if minimize is not None and not isinstance(minimize, bool):
        raise AnalysisInputError(f"minimize must be True, False or None, got {minimize!r}")
    metrics = sweep.metrics
    if not has_results(sweep):
        raise AnalysisInputError(f"no completed trial of sweep {sweep.sweep_id!r} has reported a metric yet: "
                                 "there is no objective to report on")
    declared = spec_objective(sweep.config)
    if metric is not None or (declared is not None and _reported(sweep, declared[0])):
        return choose_stated(sweep.config, metrics, metric=metric, minimize=minimize)
    chosen = default_metric(metrics)
    why = ("a metric the lab's experiment minimises" if chosen in PREFERRED_METRICS
           else "the first metric the trials reported")
    if declared is not None:
        reason = f"the spec's objective {declared[0]!r} was reported by no completed trial; chosen instead: {why}"
    else:
        reason = f"the spec names no objective; chosen: {why}"
    if minimize is None:
        minimize = True
        reason += "; no direction known, so the lowest mean counts as best"
    return ObjectiveChoice(chosen, "minimize" if minimize else "maximize", "default",
                           reason + ". Set objective: {metric, direction} in the spec to choose")
