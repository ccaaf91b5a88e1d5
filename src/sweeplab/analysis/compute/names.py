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

__all__ = ["resolve_parameter", "resolve_metric", "short_name", "order_levels", "is_numeric_level", "level_index"]


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


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def order_levels(values: Iterable[Any], spec_order: Sequence[Any] | None = None) -> list[Any]:
    """Order a parameter's distinct values: numbers ascending, then ``None``, then the rest in spec order.

    ``None`` (a ``null`` in the spec, everyday for ``max_depth``) is a level of its own, never a
    number and never sorted as NaN; a NaN that pandas made of it counts as ``None``. Values the
    spec does not list follow in order of appearance.

    >>> order_levels([2, None, 1, "auto"], spec_order=[2, None, 1, "auto"])
    [1, 2, None, 'auto']
    """
    # keyed by (is it a bool, value): True == 1 must not merge a flag with a number
    seen: dict[tuple[bool, Any], Any] = {}
    for v in values:
        if v.__class__ is float and v != v:  # NaN: pandas' stand-in for a null level
            v = None
        key = (v.__class__ is bool, v)
        if key not in seen:
            seen[key] = v
    distinct = list(seen.values())
    numbers = sorted(v for v in distinct if is_numeric_level(v))
    nulls = [None] if None in distinct else []
    rest = [v for v in distinct if v is not None and not is_numeric_level(v)]
    order = [v for v in (spec_order or []) if not _is_missing(v)]
    rest_keys = {(type(v) is bool, v) for v in rest}
    ranked = list({(type(v) is bool, v): v for v in order if (type(v) is bool, v) in rest_keys}.values())
    ranked_keys = {(type(v) is bool, v) for v in ranked}
    return numbers + nulls + ranked + [v for v in rest if (type(v) is bool, v) not in ranked_keys]


def level_index(values: Sequence[Any], levels: Sequence[Any]) -> list[int]:
    """The position in ``levels`` of each of ``values`` (``None`` and NaN both find the ``None`` level)."""
    lookup: dict[Any, int] = {}
    for i, level in enumerate(levels):
        lookup.setdefault((type(level) is bool, level), i)
    return [lookup[(v.__class__ is bool, None if v.__class__ is float and v != v else v)] for v in values]
