"""Get and set values in nested JSON documents by dot path.

A path such as ``interventions.0.parameters.corruption_rate`` walks mapping keys and list
indices. Setting returns a new document and never mutates the one it was given; only the
containers along the path are copied, so the cost is proportional to the path's depth.

>>> doc = {"a": {"b": [1, 2]}}
>>> set_path(doc, "a.b.1", 5)
{'a': {'b': [1, 5]}}
>>> doc
{'a': {'b': [1, 2]}}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import PathError, did_you_mean

__all__ = ["split_path", "get_path", "set_path", "has_path"]

_MISSING = object()
_INDEX = re.compile(r"0|[1-9][0-9]*")
_INDEX_ZEROS = re.compile(r"0[0-9]+")

# Decides whether a new key may be created inside an existing mapping. It receives the
# path of that mapping (segments) and the new key. ``None`` means: never.
KeyPolicy = Callable[[tuple[str, ...], str], bool]


def split_path(path: str) -> tuple[str, ...]:
    """Split a dot path into its segments, rejecting empty ones."""
    if not isinstance(path, str) or not path:
        raise PathError(f"parameter path {path!r} is empty: expected dot-separated keys such as 'max_cycles' or 'a.b.0.c'")
    segments = tuple(path.split("."))
    if any(s == "" for s in segments):
        raise PathError(
            f"parameter path {path!r} has an empty segment: write keys separated by single dots, e.g. 'a.b.0.c'"
        )
    return segments


def _describe(container: Any) -> str:
    if isinstance(container, Mapping):
        keys = sorted(map(str, container))
        shown = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        return f"a mapping with keys: {shown}" if keys else "an empty mapping"
    if isinstance(container, list):
        return f"a list of length {len(container)} (valid indices 0..{len(container) - 1})" if container else "an empty list"
    return f"a {type(container).__name__} value ({container!r}), which has no keys"


def _where(segments: tuple[str, ...], depth: int) -> str:
    prefix = ".".join(segments[:depth])
    return f"'{prefix}'" if prefix else "the top level"


def _step(container: Any, segment: str, segments: tuple[str, ...], depth: int, path: str) -> Any:
    """Return the child of ``container`` at ``segment`` or raise a PathError that explains."""
    if isinstance(container, Mapping):
        if segment in container:
            return container[segment]
        suggestion = did_you_mean(segment, container)
        raise PathError(
            f"parameter path '{path}' does not exist in the base config: {_where(segments, depth)} is "
            f"{_describe(container)}, and has no key '{segment}'{suggestion}"
        )
    if isinstance(container, list):
        # ASCII digits only ('²' is a digit to str.isdigit), written without leading zeros: 'items.01'
        # and 'items.1' would be two parameters setting one element
        if _INDEX.fullmatch(segment) and len(segment) < 19 and int(segment) < len(container):
            return container[int(segment)]
        hint = f" (write it as {segment.lstrip('0') or '0'})" if _INDEX_ZEROS.fullmatch(segment) else ""
        raise PathError(
            f"parameter path '{path}' does not exist in the base config: {_where(segments, depth)} is "
            f"{_describe(container)}, so '{segment}' is not a valid index{hint}"
        )
    raise PathError(
        f"parameter path '{path}' does not exist in the base config: {_where(segments, depth)} is "
        f"{_describe(container)}"
    )


def get_path(doc: Any, path: str) -> Any:
    """Return the value at ``path``; raise :class:`PathError` naming where the path stops."""
    segments = split_path(path)
    node = doc
    for depth, segment in enumerate(segments):
        node = _step(node, segment, segments, depth, path)
    return node


def has_path(doc: Any, path: str) -> bool:
    """True when ``path`` resolves in ``doc``."""
    try:
        get_path(doc, path)
    except PathError:
        return False
    return True


def set_path(doc: Any, path: str, value: Any, *, new_keys: KeyPolicy | None = None, policy_name: str = "") -> Any:
    """Return a copy of ``doc`` with ``value`` at ``path``.

    Every segment but the last must exist. The last may be a new key of an existing mapping
    only when ``new_keys(mapping_path, key)`` allows it; ``policy_name`` names who decided, for
    the error message.
    """
    segments = split_path(path)
    return _set(doc, segments, 0, value, path, new_keys, policy_name)


def _set(node: Any, segments: tuple[str, ...], depth: int, value: Any, path: str,
         new_keys: KeyPolicy | None, policy_name: str) -> Any:
    segment = segments[depth]
    last = depth == len(segments) - 1
    if isinstance(node, Mapping) and last and segment not in node:
        if new_keys is not None and new_keys(segments[:depth], segment):
            copy = dict(node)
            copy[segment] = value
            return copy
        try:
            _step(node, segment, segments, depth, path)
        except PathError as exc:
            who = f" (the {policy_name} runner's config schema has no such field)" if policy_name else ""
            raise PathError(
                f"{exc}{who}. New keys can only be added where the runner's config schema allows them; "
                "the generic runners (command, python) allow them everywhere"
            ) from None
    child = _step(node, segment, segments, depth, path)
    new_child = value if last else _set(child, segments, depth + 1, value, path, new_keys, policy_name)
    if isinstance(node, Mapping):
        copy = dict(node)
        copy[segment] = new_child
        return copy
    copy_list = list(node)
    copy_list[int(segment)] = new_child
    return copy_list
