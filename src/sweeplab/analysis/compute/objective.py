"""Which metric a report centres on, and in which direction.

Interface:

* :func:`choose_objective` ``(config, metrics, *, metric=None, minimize=None)`` ->
  :class:`ObjectiveChoice` (``metric``, ``direction``: ``maximize`` | ``minimize``, ``source``:
  ``argument`` | ``spec`` | ``default``, ``reason``: one sentence the report prints).
  Precedence: an explicit ``metric`` argument; else the spec's first objective
  (``sweep_config.json`` -> ``spec`` -> ``objective``); else the first of the spec's
  ``expect_metrics`` that was reported, else the first metric by name other than ``duration``,
  minimized — and the reason says which rule chose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import AnalysisInputError
from .names import resolve_metric

__all__ = ["ObjectiveChoice", "choose_objective", "spec_objective"]

DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True)
class ObjectiveChoice:
    """The metric the report centres on, its direction, and why it was chosen."""

    metric: str
    direction: str
    source: str
    reason: str

    @property
    def minimize(self) -> bool:
        """True when lower is better."""
        return self.direction == "minimize"


def spec_objective(config: dict[str, Any]) -> tuple[str, str] | None:
    """The spec's first objective as (metric, direction) from a stored ``sweep_config.json``, or None."""
    spec = config.get("spec")
    objective = spec.get("objective") if isinstance(spec, dict) else None
    if objective is None:
        objective = config.get("objective")
    if isinstance(objective, list):
        objective = objective[0] if objective else None
    if not isinstance(objective, dict) or not isinstance(objective.get("metric"), str):
        return None
    direction = objective.get("direction", "minimize")
    return objective["metric"], direction if direction in DIRECTIONS else "minimize"


def choose_objective(config: dict[str, Any], metrics: Sequence[str], *, metric: str | None = None,
                     minimize: bool | None = None) -> ObjectiveChoice:
    """The report's objective: the argument, else the spec's objective, else the first reported metric.

    Without an objective the first metric the trials reported (the runner's order; ``duration``
    only when nothing else was reported) is minimized, and ``reason`` says so.
    """
    direction_arg = None if minimize is None else ("minimize" if minimize else "maximize")
    if metric is not None:
        name = resolve_metric(metric, list(metrics))
        direction = direction_arg or "minimize"
        why = "asked for" + ("" if direction_arg else "; no direction given, so the lowest mean counts as best")
        return ObjectiveChoice(name, direction, "argument", why)
    stated = spec_objective(config)
    if stated is not None:
        name, direction = stated
        if name not in metrics and f"metric:{name}" not in metrics:
            raise AnalysisInputError(
                f"the sweep's objective names metric {name!r}, which no completed trial reported; "
                f"the trials reported: {', '.join(metrics) or '(none)'}")
        name = resolve_metric(name, list(metrics))
        return ObjectiveChoice(name, direction_arg or direction, "spec", "the sweep spec's objective")
    candidates = [m for m in metrics if m != "duration"] or list(metrics)
    if not candidates:
        raise AnalysisInputError("no completed trial reported a metric: there is no objective to analyse")
    spec = config.get("spec") if isinstance(config.get("spec"), dict) else {}
    expected = [m for m in (spec.get("expect_metrics") or []) if isinstance(m, str) and m in candidates]
    # The journal stores metrics with sorted names, so "first reported" is the first name in
    # alphabetical order; the spec's expect_metrics, when given, is the runner's declared order.
    name, why = ((expected[0], "the first of the spec's expect_metrics") if expected
                 else (candidates[0], "the first metric by name"))
    return ObjectiveChoice(
        name, direction_arg or "minimize", "default",
        f"the spec names no objective: {why} is used" + ("" if direction_arg else ", lower taken as better")
        + " (set objective: {metric: M, direction: maximize|minimize} in the spec, or pass --metric)")
