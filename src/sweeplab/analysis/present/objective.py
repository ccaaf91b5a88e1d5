"""Which metric a report centres on, in which direction, and why.

The objective comes, in this order, from what the caller asked for (``metric=`` / ``minimize=``
in Python, ``--metric M --maximize/--minimize`` on the command line), from the sweep spec's
``objective: {metric, direction}`` (stored in ``sweep_config.json``; the first one of a
multi-objective list), or is chosen: a metric the lab's experiment is known to minimise, else the
first metric the trials reported. The report states which of the three it was, so a reader
never has to guess why one metric got the detail and the others one line each.

>>> ReportObjective("loss", True, "spec", "the spec's objective").phrase
'minimize loss'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import AnalysisInputError, UnknownMetricError

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["ReportObjective", "PREFERRED_METRICS", "spec_objective", "choose_objective", "default_metric"]

#: metrics the lab's experiment minimises; chosen, in this order, when nothing names an objective
PREFERRED_METRICS = ("crash_rate", "total_crashes", "messages_per_cycle")
DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class ReportObjective:
    """The metric a report optimises and details; ``source`` is ``argument``, ``spec`` or ``chosen``."""

    metric: str
    minimize: bool
    source: str
    reason: str

    @property
    def direction(self) -> str:
        """``minimize`` or ``maximize``."""
        return "minimize" if self.minimize else "maximize"

    @property
    def phrase(self) -> str:
        """``minimize loss``."""
        return f"{self.direction} {self.metric}"

    @property
    def goal(self) -> str:
        """``lowest`` or ``highest``: what the best configuration has."""
        return "lowest" if self.minimize else "highest"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON: metric, direction, source, reason."""
        return {"metric": self.metric, "direction": self.direction, "source": self.source, "reason": self.reason}


def spec_objective(config: dict[str, Any]) -> tuple[str, str] | None:
    """``(metric, direction)`` of the spec stored in ``sweep_config.json``, or None.

    A multi-objective list gives its first entry (the one the report is about).
    """
    spec = config.get("spec")
    objective = spec.get("objective") if isinstance(spec, dict) else None
    if objective is None:
        objective = config.get("objective")  # a config written by hand may carry it at the top
    if isinstance(objective, list):
        objective = objective[0] if objective else None
    if not isinstance(objective, dict):
        return None
    metric, direction = objective.get("metric"), objective.get("direction")
    if not isinstance(metric, str) or direction not in DIRECTIONS:
        return None
    return metric, direction


def default_metric(metrics: list[str]) -> str:
    """The metric a report centres on when nothing names one: a preferred one, else the first
    that is not ``duration`` (the time a trial took is rarely what a sweep is about)."""
    return next((m for m in PREFERRED_METRICS if m in metrics),
                next((m for m in metrics if m != "duration"), metrics[0]))


def choose_objective(sweep: SweepStatistics, metric: str | None = None,
                     minimize: bool | None = None) -> ReportObjective:
    """The report's objective (see the module notes); raises :class:`UnknownMetricError` for a
    ``metric`` the trials did not report and :class:`AnalysisInputError` when none reported any."""
    if minimize is not None and not isinstance(minimize, bool):
        raise AnalysisInputError(f"minimize must be True, False or None, got {minimize!r}")
    metrics = sweep.metrics
    if not metrics:
        raise AnalysisInputError(f"no completed trial of sweep {sweep.sweep_id!r} has reported a metric yet: "
                                 "there is no objective to report on")
    declared = spec_objective(sweep.config)
    declared_metric = None
    if declared is not None:
        try:
            declared_metric = sweep.metric(declared[0])
        except UnknownMetricError:
            declared_metric = None
    if metric is not None:
        chosen = sweep.metric(metric)
        if minimize is None and declared_metric == chosen:
            return ReportObjective(chosen, declared[1] == "minimize", "argument",  # type: ignore[index]
                                   "asked for; direction from the spec's objective")
        if minimize is None:
            return ReportObjective(chosen, True, "argument",
                                   "asked for; no direction given, so the lowest mean counts as best")
        return ReportObjective(chosen, minimize, "argument", "asked for")
    if declared is not None and declared_metric is not None:
        direction_minimize = declared[1] == "minimize" if minimize is None else minimize
        reason = "the spec's objective" + ("" if minimize is None else "; direction as asked")
        return ReportObjective(declared_metric, direction_minimize, "spec", reason)
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
    return ReportObjective(chosen, minimize, "chosen",
                           reason + ". Set objective: {metric, direction} in the spec to choose")
