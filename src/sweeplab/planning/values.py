"""Value lists of a swept parameter: literal lists, scalars and generators.

Generators spare typing long lists and give values without floating-point drift:

>>> expand_values("p", {"start": 0.0, "stop": 0.3, "step": 0.1})
[0.0, 0.1, 0.2, 0.3]
>>> expand_values("p", {"linspace": [0, 1, 3]})
[0.0, 0.5, 1.0]
>>> expand_values("p", {"logspace": [-2, 0, 3]})
[0.01, 0.1, 1.0]
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from ..errors import SpecError
from .json_data import json_problem, short_repr

__all__ = ["expand_values", "check_values", "clean_float", "MAX_GENERATED"]

#: generators refuse to produce more values than this (a typo such as step 1e-9)
MAX_GENERATED = 1_000_000
_GENERATOR_FORMS = "{start: A, stop: B, step: S}, {linspace: [A, B, N]} or {logspace: [A, B, N]}"


def clean_float(value: float) -> float:
    """Round away binary noise (0.30000000000000004 → 0.3) by keeping 12 significant digits."""
    return float(f"{value:.12g}")


def _number(path: str, key: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"sweep parameter '{path}': '{key}' must be a finite number, got {value!r}")
    return value


def _triple(path: str, key: str, raw: Any) -> tuple[float, float, int]:
    if not isinstance(raw, list) or len(raw) != 3:
        raise SpecError(f"sweep parameter '{path}': '{key}' expects a list [start, stop, count], got {raw!r}")
    start, stop = _number(path, key, raw[0]), _number(path, key, raw[1])
    count = raw[2]
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecError(f"sweep parameter '{path}': the count in '{key}' must be a positive integer, got {count!r}")
    if count > MAX_GENERATED:
        raise SpecError(f"sweep parameter '{path}': '{key}' asks for {count} values; at most {MAX_GENERATED} are allowed")
    return float(start), float(stop), count


def _even(start: float, stop: float, count: int) -> list[float]:
    if count == 1:
        return [clean_float(start)]
    last = count - 1
    # weights instead of start + step * i avoid cancellation inside; the end points are set as given
    inner = [clean_float(start * (last - i) / last + stop * i / last) for i in range(1, last)]
    return [clean_float(start), *inner, clean_float(stop)]


def _arange(path: str, spec: dict[str, Any]) -> list[int | float]:
    missing = [k for k in ("start", "stop", "step") if k not in spec]
    extra = sorted(set(spec) - {"start", "stop", "step"})
    if missing or extra:
        problem = f"is missing {', '.join(missing)}" if missing else f"has unknown keys {', '.join(extra)}"
        raise SpecError(f"sweep parameter '{path}': the range generator {problem}; expected {{start, stop, step}}")
    start, stop, step = (_number(path, k, spec[k]) for k in ("start", "stop", "step"))
    if step == 0 or (stop - start) * step < 0:
        raise SpecError(
            f"sweep parameter '{path}': step {step} never goes from {start} to {stop}; "
            "use a non-zero step with the sign of stop - start"
        )
    all_int = all(isinstance(v, int) for v in (start, stop, step))
    # Decimal arithmetic on the decimal spelling of the inputs: 0.1 * 3 is exactly 0.3 here.
    d_start, d_stop, d_step = (Decimal(repr(v)) for v in (start, stop, step))
    count = int((d_stop - d_start) / d_step) + 1
    if count > MAX_GENERATED:
        raise SpecError(f"sweep parameter '{path}': the range gives {count} values; at most {MAX_GENERATED} are allowed")
    values = [d_start + d_step * i for i in range(count)]
    return [int(v) if all_int else float(v) for v in values]


def check_values(path: str, raw: Any) -> None:
    """Refuse a swept parameter's YAML value (a list, a scalar or a generator) unless it is bounded JSON
    data: no NaN or infinity, 64-bit integers, valid Unicode, text keys, bounded depth
    (see :mod:`sweeplab.planning.json_data`)."""
    found = json_problem(raw)
    if found is None:
        return
    location, problem, part = found
    if isinstance(raw, list) and location.startswith("["):
        number, _, inner = location[1:].partition("]")
        inner = inner.lstrip(".")
        where = f" at '{inner}'" if inner else ""
        raise SpecError(f"sweep parameter '{path}': value {int(number) + 1} ({short_repr(raw[int(number)])}){where} "
                        f"{problem}")
    if isinstance(raw, dict) and location:
        raise SpecError(f"sweep parameter '{path}': '{location}' of its generator ({short_repr(part)}) {problem}")
    where = f" at '{location}'" if location else ""
    raise SpecError(f"sweep parameter '{path}': the value {short_repr(raw)}{where} {problem}")


def expand_values(path: str, raw: Any) -> list[Any]:
    """Turn the YAML value of one swept parameter into its list of values, validated.

    A scalar means one value; a mapping is a generator; a list is taken as it is. Empty
    lists, duplicate values and values that are not bounded JSON data (NaN, infinity; see
    :func:`check_values`) are errors.
    """
    check_values(path, raw)
    if isinstance(raw, dict):
        keys = set(raw)
        if keys == {"linspace"}:
            values: list[Any] = _even(*_triple(path, "linspace", raw["linspace"]))
        elif keys == {"logspace"}:
            start, stop, count = _triple(path, "logspace", raw["logspace"])
            exponents = _even(start, stop, count)
            if max(exponents) > 307 or min(exponents) < -307:
                raise SpecError(f"sweep parameter '{path}': logspace exponents must lie within -307..307 "
                                f"(10**x beyond that is not a finite float), got {raw['logspace']!r}")
            values = [clean_float(10.0 ** e) for e in exponents]
        elif keys & {"start", "stop", "step"}:
            values = _arange(path, raw)
        else:
            raise SpecError(
                f"sweep parameter '{path}': a mapping must be a value generator, one of {_GENERATOR_FORMS}; "
                f"got keys {', '.join(sorted(map(str, keys))) or '(none)'} (distributions such as "
                "{uniform: [A, B]} need a strategy that samples: random, lhs, sobol or bayesian)"
            )
    elif isinstance(raw, list):
        values = list(raw)
    else:
        values = [raw]
    if not values:
        raise SpecError(f"sweep parameter '{path}' has an empty list of values: give at least one value")
    seen: dict[str, Any] = {}
    for value in values:
        token = json.dumps(value, sort_keys=True, default=str)
        if token in seen:
            raise SpecError(
                f"sweep parameter '{path}' lists the value {value!r} twice: each value may appear once "
                "(use 'repeats' for replicates)"
            )
        seen[token] = value
    return values
