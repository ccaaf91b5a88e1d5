"""Hydra-style overrides on the ``run`` command line: ``lr=0.1,0.01 opt=adam,sgd``.

Each ``PATH=V1,V2,...`` word sweeps ``PATH`` over its values, exactly as ``--param PATH V1 V2`` would
(the values typed like ``--param`` values: ``10`` an integer, ``0.1`` a number, ``true``, ``null``,
anything else text). A comma inside brackets, braces or quotes does not split: ``layers=[64,64],[128]``
sweeps two lists. One value (``epochs=5``) sets a single-value parameter. Hydra's ``+path=...`` (a key the
base config lacks) is accepted as ``path=...``: whether a sweep may create a key is the runner's rule.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import SpecError
from ..planning.yaml_types import load_yaml, scalar

__all__ = ["is_override", "parse_override", "split_values"]

# a dot path (keys and list indices) then '=': the left side of an override
_OVERRIDE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)=(.*)$", re.DOTALL)
_OPEN, _CLOSE = "[{(", "]})"


def is_override(word: str) -> bool:
    """True when ``word`` is meant as an override (it has '=' and is not an option or a YAML file)."""
    return "=" in word and not word.startswith("-")


def split_values(text: str) -> list[str]:
    """Split ``text`` on the commas outside brackets and quotes.

    >>> split_values("0.1,0.01")
    ['0.1', '0.01']
    >>> split_values("[64,64],[128],'a,b'")
    ['[64,64]', '[128]', "'a,b'"]
    """
    parts: list[str] = []
    depth, quote, current = 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _value(token: str, word: str) -> Any:
    if token.strip() == "":
        raise SpecError(f"override '{word}' has an empty value: write PATH=V1,V2,... with no empty item "
                        "(for an empty text, quote it: PATH='')")
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]  # quoted: text as written, never typed
    if token[0] in "[{":
        # a list or mapping: typed as YAML flow (the same rules as the sweep file's values)
        try:
            return load_yaml(token)
        except yaml.YAMLError as exc:
            raise SpecError(f"override '{word}': the value {token!r} is not a valid list or mapping "
                            f"({getattr(exc, 'problem', None) or exc}); quote it to pass it as text") from None
    return scalar(token)


def parse_override(word: str) -> tuple[str, list[Any]]:
    """``'lr=0.1,0.01'`` → ``('lr', [0.1, 0.01])``; a malformed word is a :class:`SpecError` that says how
    to write it.

    >>> parse_override("opt=adam,sgd")
    ('opt', ['adam', 'sgd'])
    """
    # Hydra's '+path=value' adds a key the base config lacks: here a key is created when the runner allows it
    match = _OVERRIDE.match(word[1:] if word.startswith("+") else word)
    if match is None:
        left = word.partition("=")[0]
        raise SpecError(f"override '{word}' is not PATH=V1,V2,...: '{left}' is not a parameter path (expected "
                        "keys and list indices joined by dots, e.g. optimizer.lr=0.1,0.01 or layers.0.size=64)")
    path, text = match.groups()
    if text == "":
        raise SpecError(f"override '{word}' has no values: write {path}=V1,V2,... (e.g. {path}=0.1,0.01)")
    return path, [_value(token, word) for token in split_values(text)]
