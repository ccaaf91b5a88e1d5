"""YAML reading with YAML 1.2 scalar rules, for sweep files and command-line values alike.

PyYAML follows YAML 1.1, where ``1e-3`` is a string, ``on``/``no`` are booleans, ``010`` is
octal 8 and ``12:30`` is 750 — all surprises in a sweep spec. This loader keeps PyYAML's safe
loader but types plain scalars the way YAML 1.2 (and JSON) do.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["SweepLoader", "load_yaml", "scalar"]


class SweepLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 core-schema booleans, integers and floats."""


# Drop the YAML 1.1 resolvers for bool, int and float, then add the 1.2 core-schema ones.
SweepLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SweepLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))
SweepLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                  list("-+0123456789"))
SweepLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _int(loader: SweepLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)  # '010' is ten, not octal eight


SweepLoader.add_constructor("tag:yaml.org,2002:int", _int)


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`SweepLoader` (safe: no arbitrary objects)."""
    return yaml.load(text, Loader=SweepLoader)  # noqa: S506 - SweepLoader derives from SafeLoader


def scalar(token: str) -> Any:
    """Type one command-line token like a YAML 1.2 scalar: 10 → int, 1.0 and 1e-3 → float, true, null, text."""
    try:
        value = load_yaml(token)
    except yaml.YAMLError:
        return token
    return value if isinstance(value, (int, float, str, bool, type(None))) else token
