"""YAML reading with YAML 1.2 scalar rules and bounds, for sweep files and command-line values alike.

PyYAML follows YAML 1.1, where ``1e-3`` is a string, ``on``/``no`` are booleans, ``010`` is
octal 8, ``12:30`` is 750 and ``2024-06-01`` a date — all surprises in a sweep spec. This loader
keeps PyYAML's safe loader but types plain scalars the way YAML 1.2's core schema (and JSON) do.

It also refuses, as a :class:`yaml.YAMLError` with the line of the problem, what would otherwise
be accepted silently or take the machine down:

* a key written twice in one mapping (``sweep: {x: [1, 2], x: [3]}``: PyYAML keeps the last);
* nesting deeper than :data:`~sweeplab.planning.json_data.MAX_DEPTH` levels (a RecursionError);
* an alias inside its own anchor (``&r [1, *r]``: a structure without end);
* aliases that would add more than :data:`MAX_ALIAS_NODES` values once expanded — a 1 KB file
  of nested aliases ("billion laughs") expands to billions of values in whatever walks it;
* explicit tags that do not give JSON data (``!!timestamp``, ``!!binary``, ``!!set``, ...) and
  explicit scalars that do not read as their tag (``!!float abc``, ``!!int 1.5``).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from .json_data import MAX_DEPTH, short_repr

__all__ = ["SweepLoader", "load_yaml", "scalar", "MAX_ALIAS_NODES"]

#: aliases (``*name``) may add at most this many values (nodes) to a document once expanded
MAX_ALIAS_NODES = 100_000

_MERGE = "tag:yaml.org,2002:merge"


class SweepLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 core-schema scalars, bounded nesting and alias expansion,
    and no duplicate keys."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0          # containers open around the node being composed
        self._alias_nodes = 0    # values added by aliases so far
        # id(node) → (values in it, aliases expanded; nesting height), set once the node is composed
        self._sizes: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, keeping count of nesting and of what aliases expand to."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            # PyYAML registers an anchor before composing its children: one not measured yet is still open
            if target is not None and id(target) not in self._sizes:
                raise ComposerError("while composing the anchor &" + str(event.anchor), target.start_mark,
                                    f"the alias *{event.anchor} lies inside its own anchor &{event.anchor}: "
                                    "a structure that contains itself has no end; refer to a finished anchor",
                                    event.start_mark)
            node = super().compose_node(parent, index)  # an undefined alias is PyYAML's error
            size, height = self._sizes[id(node)]
            self._alias_nodes += size
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise ComposerError(None, None,
                                    f"the aliases (*name) up to here expand to more than {MAX_ALIAS_NODES} values: "
                                    "each alias repeats all that its anchor holds, aliases inside anchors multiply; "
                                    "write the values out, or use a generator such as {start, stop, step}",
                                    event.start_mark)
            if self._depth + height > MAX_DEPTH:
                raise ComposerError(None, None, f"the alias *{event.anchor} nests the document more than "
                                    f"{MAX_DEPTH} levels deep", event.start_mark)
            return node
        event = self.peek_event()
        container = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if container:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"the document is nested more than {MAX_DEPTH} levels deep: "
                                    "flatten it", event.start_mark)
        node = super().compose_node(parent, index)
        if container:
            self._depth -= 1
        self._sizes[id(node)] = self._measure(node)
        return node

    def _measure(self, node: Any) -> tuple[int, int]:
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            return 1, 0
        size, height = 1, 0
        for child in children:
            child_size, child_height = self._sizes.get(id(child), (1, 0))
            size += child_size
            height = max(height, child_height)
        return size, height + 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A mapping, refusing a key written twice (PyYAML would keep the last silently)."""
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:  # '<<: *base' merges; keys written beside it override on purpose
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first_line.get(key)
                except TypeError:  # an unhashable key: PyYAML's own error follows
                    continue
                line = key_node.start_mark.line + 1
                if earlier is not None:
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"the key {short_repr(key)} appears twice in one mapping (lines {earlier} and "
                                           f"{line}): only the last would count; keep one, or merge their values",
                                           key_node.start_mark)
                first_line[key] = line
        return super().construct_mapping(node, deep=deep)


# Drop the YAML 1.1 resolvers for bool, int, float, timestamp and '=' (value), then add the 1.2
# core-schema ones: '2024-06-01' and '=' are text, as in JSON.
_DROPPED = {f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "timestamp", "value")}
SweepLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
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


def _unreadable(node: Any, tag: str, expected: str) -> ConstructorError:
    text = short_repr(node.value, 40)
    return ConstructorError(None, None, f"{text} is tagged !!{tag} but is not {expected}: remove the tag, "
                            "or write the value so that it reads as one", node.start_mark)


def _int(loader: SweepLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    try:
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)  # '010' is ten, not octal eight
    except ValueError:  # '!!int 1.5', or more digits than Python converts (4300)
        raise _unreadable(node, "int", "an integer (of at most 4300 digits)") from None


def _float(loader: SweepLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    special = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
    if text.lower() in special:
        return special[text.lower()]
    try:
        return float(text)
    except ValueError:
        raise _unreadable(node, "float", "a number") from None


def _bool(loader: SweepLoader, node: yaml.ScalarNode) -> bool:
    text = loader.construct_scalar(node)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise _unreadable(node, "bool", "true or false")


def _refuse_tag(loader: SweepLoader, node: Any) -> Any:
    tag = node.tag.rsplit(":", 1)[-1]
    raise ConstructorError(None, None, f"the tag !!{tag} is not supported in a sweep spec: its values are JSON data "
                           "(null, true/false, numbers, text, lists, mappings); remove the tag (a date or "
                           "other text without a tag is read as text)", node.start_mark)


SweepLoader.add_constructor("tag:yaml.org,2002:int", _int)
SweepLoader.add_constructor("tag:yaml.org,2002:float", _float)
SweepLoader.add_constructor("tag:yaml.org,2002:bool", _bool)
for _tag in ("timestamp", "binary", "set", "omap", "pairs"):
    SweepLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`SweepLoader` (safe: no arbitrary objects; bounded; no duplicate keys).

    Every problem is a :class:`yaml.YAMLError` with a position, including the few that PyYAML lets
    slip as ValueError (the escape ``"\\U1e400000"`` reaches ``chr()``).
    """
    loader = SweepLoader(text)
    try:
        return loader.get_single_data()
    except (ValueError, OverflowError) as exc:
        raise yaml.MarkedYAMLError(problem=f"cannot be read: {exc}", problem_mark=loader.get_mark()) from None
    finally:
        loader.dispose()


def scalar(token: str) -> Any:
    """Type one command-line token like a YAML 1.2 scalar: 10 → int, 1.0 and 1e-3 → float, true, null, text."""
    try:
        value = load_yaml(token)
    except yaml.YAMLError:
        return token
    return value if isinstance(value, (int, float, str, bool, type(None))) else token
