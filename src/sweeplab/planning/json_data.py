"""What a value in a sweep may be: JSON data, within bounds every later stage can hold.

A swept value travels into the trial's config file (JSON), the journal (canonical JSON, read by
SQLite's JSON functions), the views and the analysis. JSON has no NaN or infinity, SQLite holds
integers of 64 bits, and text must be valid Unicode to be written at all. :func:`json_problem`
finds the first part of a value that breaks one of these rules — before anything is written, so
the user gets one clear message instead of a coordinator that dies after its first trial.

>>> json_problem({"lr": [0.1, float("nan")]})[0]
'lr[1]'
>>> json_problem({"lr": [0.1, 0.2]}) is None
True
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = ["json_problem", "JsonProblem", "short_repr", "MAX_DEPTH", "MAX_INT"]

#: containers nested deeper than this are refused (configs are a handful of levels deep; this keeps
#: every recursive stage — pydantic, json, set_path — far from Python's recursion limit)
MAX_DEPTH = 100
#: integers must fit SQLite's 64-bit INTEGER (and most programs' int64)
MAX_INT = 2**63 - 1
#: what to do instead of NaN or infinity, for the end of a message
_NON_FINITE_ADVICE = ("give a finite number instead (where infinity means 'no limit', a large finite value "
                     "such as 1e9 works; numbers beyond ±1.8e308, like 1e400, also read as infinity)")


def _scalar_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if -MAX_INT - 1 <= value <= MAX_INT:
            return None
        digits = int(value.bit_length() * math.log10(2)) + 1  # str() of a huge int is refused by Python
        return (f"is an integer of about {digits} digits: integers must lie within ±{MAX_INT} "
                "(64 bits, what SQLite and most programs hold)")
    if isinstance(value, float):
        if math.isnan(value):
            return ("is NaN, which JSON (the format of trial configs and of the journal) cannot hold: "
                    f"{_NON_FINITE_ADVICE}")
        if math.isinf(value):
            return (f"is {'-' if value < 0 else ''}infinity, which JSON (the format of trial configs and of the "
                    f"journal) cannot hold: {_NON_FINITE_ADVICE}")
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (f"is text that is not valid Unicode (it holds the lone surrogate "
                    f"{value[exc.start]!r} at character {exc.start}), which cannot be written to a file or the journal")
        return None
    return (f"is a {type(value).__name__} ({short_repr(value)}), which is not JSON data: a value must be null, "
            "true/false, a number, text, a list or a mapping with text keys")


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4300 digits
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class JsonProblem(NamedTuple):
    """Where a value breaks the rules, what is wrong, and the part that breaks them."""

    location: str  #: ``key.sub[2]`` from the value checked; empty for the value itself
    problem: str   #: a sentence fragment to follow the part's name: ``"is NaN, which ..."``
    part: Any


def json_problem(value: Any, *, max_depth: int = MAX_DEPTH) -> JsonProblem | None:
    """The first part of ``value`` that is not bounded JSON data, or None.

    The walk is iterative, so a deeply nested or self-containing value is reported, not a
    RecursionError.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, location, depth = stack.pop()
        if isinstance(node, (dict, list, tuple)):
            if depth >= max_depth:
                return JsonProblem(location, f"is nested more than {max_depth} levels deep: flatten it", node)
            if isinstance(node, dict):
                children = []
                for key, child in node.items():
                    if not isinstance(key, str):
                        return JsonProblem(location, f"has the key {short_repr(key)} ({type(key).__name__}): keys of "
                                           f"a mapping must be text (in YAML, quote it: '{key}')", node)
                    key_problem = _scalar_problem(key)
                    if key_problem:
                        return JsonProblem(location, f"has a key that {key_problem}", node)
                    children.append((child, f"{location}.{key}" if location else key, depth + 1))
            else:
                children = [(child, f"{location}[{i}]", depth + 1) for i, child in enumerate(node)]
            stack.extend(reversed(children))
            continue
        problem = _scalar_problem(node)
        if problem:
            return JsonProblem(location, problem, node)
    return None
