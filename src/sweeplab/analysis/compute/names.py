"""Resolve the parameter and metric names a user types, and order a parameter's levels.

A parameter can be named by its full dot path (``interventions.0.parameters.corruption_rate``)
or by any trailing part of it (``corruption_rate``, ``parameters.corruption_rate``) when
exactly one parameter ends that way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import closest_match
from ..exceptions import UnknownMetricError, UnknownParameterError

__all__ = ["resolve_parameter", "resolve_metric", "short_name", "order_levels", "is_numeric_level"]


def short_name(path: str) -> str:
    """The last segment of a dot path: ``a.b.rate`` -> ``rate``."""
    return path.rsplit(".", 1)[-1]


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "(none)"


def resolve_parameter(name: str, parameters: Sequence[str]) -> str:
    """Return the full dot path of parameter ``name`` or raise :class:`UnknownParameterError`."""
    if name in parameters:
        return name
    matches = [p for p in parameters if p.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UnknownParameterError(
            f"parameter name {name!r} is ambiguous: it matches {_listing(matches)}; give the full dot path")
    suggestion = closest_match(name, [*parameters, *map(short_name, parameters)])
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    raise UnknownParameterError(
        f"unknown parameter {name!r}{hint}; the sweep's parameters are: {_listing(parameters)}")


def resolve_metric(name: str, metrics: Sequence[str]) -> str:
    """Return the metric column for ``name`` or raise :class:`UnknownMetricError`."""
    if name in metrics:
        return name
    if f"metric:{name}" in metrics:
        return f"metric:{name}"
    if not metrics:
        raise UnknownMetricError(f"unknown metric {name!r}: no completed trial has reported any metric yet")
    suggestion = closest_match(name, metrics)
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    raise UnknownMetricError(f"unknown metric {name!r}{hint}; the trials reported: {_listing(metrics)}")


def is_numeric_level(value: Any) -> bool:
    """True for int and float values (bool is a category, not a number)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def order_levels(values: Iterable[Any], spec_order: Sequence[Any] | None = None) -> list[Any]:
    """Order a parameter's distinct values: numerically when all are numbers, else in spec order.

    Values the spec does not list (there should be none) follow in order of appearance.
    """
    distinct = list(dict.fromkeys(values))
    if distinct and all(is_numeric_level(v) and not (isinstance(v, float) and math.isnan(v)) for v in distinct):
        return sorted(distinct)
    order = list(spec_order or [])
    ranked = [v for v in order if v in distinct]
    return ranked + [v for v in distinct if v not in ranked]
