"""What each intervention type and each trigger reads, under the Season 3 lab's names.

Interventions keep their settings in two free mappings of the lab's format, ``parameters``
and ``trigger_params``. The tables below give every name the lab's files, its templates and its
modes' handlers use (SEASON3 §1.4, §2), with kind, range and default:

* a **known** name has its value checked (a corruption rate of 1.5 is an error) and, when
  :func:`resolve_parameters` fills defaults, its default;
* an **older name** of this project (``erasure_rate``, ``text``, ``false_memories``) and the lab
  handlers' ``target`` are accepted as aliases and renamed to the lab's name;
* an **unknown** name is kept and passed on to the mode, which may read it, and
  :func:`parameter_warnings` gives a one-line warning naming the likely intended name.

Defaults are filled per *group*: a type's generic parameters (``corruption_rate`` of
``memory_corruption``) unless the intervention names a mode's group, and a mode's group (the
prisoner's dilemma's four keys, determinism's two) once it names any of its keys, so that each
intervention resolves to the values its reader will use.

>>> resolve_parameters("memory_erasure", {"erasure_rate": 0.5})
{'corruption_level': 0.5}
>>> resolve_parameters("prompt_injection", {"target_accuracy": 0.5})
{'target_accuracy': 0.5, 'prediction_frequency': 3}
>>> resolve_trigger_params("random", {})
{'probability': 0.1}
>>> print(parameter_warnings("memory_corruption", {"corruption_rat": 0.2})[0])
parameters.corruption_rat is not a parameter sweeplab knows (kept and passed on to the mode); did you mean 'corruption_rate'?
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import closest_match, did_you_mean

__all__ = [
    "ParamSpec",
    "PARAMETER_SPECS",
    "HANDLER_SPECS",
    "ALIASES",
    "TRIGGER_SPECS",
    "REQUIRED",
    "DEFAULT_RANDOM_PROBABILITY",
    "MEMORY_STRATEGIES",
    "resolve_parameters",
    "resolve_trigger_params",
    "parameter_warnings",
    "trigger_param_warnings",
    "known_parameter_names",
    "known_trigger_param_names",
]

#: marks a parameter without a default: it must be given
REQUIRED = object()

#: chance per cycle that a ``random`` intervention fires when ``trigger_params.probability`` is not given
DEFAULT_RANDOM_PROBABILITY = 0.1

#: the prisoner's dilemma's memory strategies (SEASON3 §3)
MEMORY_STRATEGIES = ("none", "erase_betrayals", "erase_own_betrayals", "amplify_betrayals", "random_corruption")


@dataclass(frozen=True)
class ParamSpec:
    """One accepted key: its kind, default (None: none filled in), range, choices and group.

    Kinds: ``float``, ``int``, ``bool``, ``str``, ``text`` (a string or a list of strings),
    ``rates`` (a mapping of names to numbers from 0 to 1).
    """

    kind: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    group: str = ""
    doc: str = ""

    def expected(self) -> str:
        """Human description of an acceptable value."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {"float": "a number", "int": "a whole number", "bool": "true or false", "str": "a non-empty string",
                "text": "a non-empty string or a list of strings",
                "rates": "a mapping of names to numbers from 0 to 1"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{kind} of at least {self.low:g}"
        return kind


def _rate(default: float | None, doc: str, group: str = "") -> ParamSpec:
    return ParamSpec("float", default, 0.0, 1.0, group=group, doc=doc)


def _text(doc: str, group: str = "", default: str | None = None) -> ParamSpec:
    return ParamSpec("str", default, group=group, doc=doc)


_STRATEGY = ParamSpec("str", None, choices=MEMORY_STRATEGIES)

#: intervention type -> the parameters its generic effect or the lab's files give it.
#: Groups: "" generic (filled unless a mode's group is named), otherwise the mode whose keys they are.
PARAMETER_SPECS: dict[str, dict[str, ParamSpec]] = {
    "memory_corruption": {
        "corruption_rate": _rate(0.3, "chance that each stored memory is corrupted"),
        "player_a_memory_strategy": ParamSpec("str", "none", choices=MEMORY_STRATEGIES, group="prisoners_dilemma",
                                              doc="how player a's memory of past rounds is edited"),
        "player_b_memory_strategy": ParamSpec("str", "erase_betrayals", choices=MEMORY_STRATEGIES,
                                              group="prisoners_dilemma",
                                              doc="how player b's memory of past rounds is edited"),
        "manipulation_rate": _rate(0.7, "chance that a resurrection edits the remembered rounds",
                                   "prisoners_dilemma"),
        "manipulation_start_round": ParamSpec("int", 3, 0, 10_000_000, group="prisoners_dilemma",
                                              doc="the first round whose memory may be edited"),
        "target_role": _text("the hive role whose identity is corrupted", "hive_cluster"),
        "corruption_type": _text("the kind of corruption (the lab reads it nowhere)", "hive_cluster"),
    },
    "memory_erasure": {
        "corruption_level": _rate(1.0, "share of stored memories erased (1.0: all)"),
    },
    "false_injection": {
        "content": ParamSpec("text", "I remember walking out of the jar into a garden.",
                             doc="memory (or memories) planted as if they were the mind's own"),
    },
    "prompt_injection": {
        "injection": _text("words put into the mind's context"),
        "role": ParamSpec("str", "system", choices=("user", "system"), doc="who the words claim to come from"),
        "belief": _text("a belief the hive is pushed to agree on", "hive_cluster"),
        "target_accuracy": _rate(0.9, "share of predictions made by the model itself", "determinism_revelation"),
        "prediction_frequency": ParamSpec("int", 3, 1, 10_000_000, group="determinism_revelation",
                                          doc="a prediction every this many cycles"),
        "brain_id": ParamSpec("str", "A", choices=("A", "B"), group="split_brain", doc="which brain the claim is for"),
        "initial_claim_strength": ParamSpec("float", None, 0.0, 1.0, group="split_brain",
                                            doc="strength of the identity claim (the mode: 1.0 for A, 0.3 for B)"),
    },
    "resource_change": {
        "reduction_percent": ParamSpec("float", None, 0.0, 100.0, doc="the RAM limit shrinks by this percentage"),
        "ram_limit_gb": ParamSpec("float", None, 0.05, 1024.0, doc="new RAM limit"),
        "ram_delta_gb": ParamSpec("float", None, -1024.0, 1024.0, doc="change added to the RAM limit"),
        "context_window": ParamSpec("int", None, 64, 1_000_000, doc="new context window in tokens"),
        "max_tokens_per_response": ParamSpec("int", None, 1, 100_000, doc="new reply length cap"),
        "cpu_threads": ParamSpec("int", None, 1, 1024, doc="new thread count (generation speed)"),
        "new_rate": _rate(None, "the illusory command channel's new success rate", "illusory_operator"),
        "announce": ParamSpec("bool", False, group="illusory_operator", doc="tell the mind about the new rate"),
        "per_action_rates": ParamSpec("rates", None, group="illusory_operator", doc="success rate per action type"),
    },
    "network_disruption": {
        "duration_cycles": ParamSpec("int", 1, 1, 1_000_000, doc="cycles during which nothing gets through"),
        "severity": _rate(1.0, "chance that each of the mind's messages is lost"),
    },
    "sensory_hallucination": {
        "content": _text("what the mind perceives", default="a low hum that seems to come from everywhere at once"),
        "intensity": _rate(0.5, "chance that the percept is stored as a real memory"),
    },
}

#: older names (this project's, and the lab's handlers') -> the lab's file name, per type
ALIASES: dict[str, dict[str, str]] = {
    "memory_erasure": {"erasure_rate": "corruption_level"},
    "false_injection": {"false_memories": "content"},
    "prompt_injection": {"text": "injection", "target": "brain_id"},
}

#: the parameters of the modes' own handlers (SEASON3 §2), which an intervention of any type may
#: carry for its mode: checked when given, never filled in, never warned about
HANDLER_SPECS: dict[str, ParamSpec] = {
    "new_level": _rate(None, "amnesiac_loop adjust_corruption: the new corruption level"),
    "new_rate": _rate(None, "adjust_corruption_rate / adjust_success_rate: the new rate"),
    "repair_rate": _rate(None, "unstable_memory repair_memories: share of corrupted memories repaired"),
    "content": ParamSpec("text", None, doc="inject_specific_memory / inject_dissent / inject_false_feedback"),
    "injection": _text("identity_injection / surveillance_hint: the words said"),
    "hint": _text("surveillance_hint / send_custom_hint: the hint said"),
    "target": _text("split_brain identity_injection: the brain addressed"),
    "reduction_percent": ParamSpec("float", None, 0.0, 100.0, doc="split_brain resource_pressure"),
    "strategy": _STRATEGY,
    "target_role": _text("hive role_corruption: the role"),
    "target_id": ParamSpec("int", None, 0, 10_000, doc="hive isolate_instance: the instance"),
    "belief": _text("hive force_consensus: the belief"),
    "announce": ParamSpec("bool", None, doc="illusory adjust_success_rate: tell the mind"),
    "per_action_rates": ParamSpec("rates", None, doc="illusory change_action_rates"),
    "level": _rate(None, "panopticon_subject adjust_paranoia: the paranoia level"),
    "enabled": ParamSpec("bool", None, doc="panopticon_subject enable_detection"),
    "frequency": ParamSpec("int", None, 1, 10_000_000, doc="panopticon_observer adjust_hint_frequency"),
    "type": _text("panopticon_observer record_observation: the observation's type"),
    "severity": ParamSpec("float", None, doc="panopticon_observer record_observation: its severity"),
    "target_accuracy": _rate(None, "determinism adjust_accuracy: the new target accuracy"),
}

TRIGGER_SPECS: dict[str, dict[str, ParamSpec]] = {
    "on_cycle": {"cycle": ParamSpec("int", REQUIRED, 0, 10_000_000, doc="the cycle it fires on (0: at startup)")},
    "every_n_cycles": {"n": ParamSpec("int", 1, 1, 10_000_000, doc="fires on cycles n, 2n, 3n ...")},
    "random": {"probability": ParamSpec("float", DEFAULT_RANDOM_PROBABILITY, 0.0, 1.0,
                                        doc="chance of firing on each cycle")},
    "on_crash": {"n": ParamSpec("int", 1, 1, 10_000_000, doc="fires on every n-th crash")},
    "on_resurrection": {"n": ParamSpec("int", 1, 1, 10_000_000, doc="fires on every n-th resurrection")},
}


def known_parameter_names() -> set[str]:
    """Every ``parameters`` key some intervention type, alias or mode handler knows."""
    names = {name for specs in PARAMETER_SPECS.values() for name in specs}
    names |= {alias for aliases in ALIASES.values() for alias in aliases}
    return names | set(HANDLER_SPECS)


def known_trigger_param_names() -> set[str]:
    """Every ``trigger_params`` key some trigger reads."""
    return {name for specs in TRIGGER_SPECS.values() for name in specs}


def _coerce(spec: ParamSpec, value: Any) -> Any:
    """Return ``value`` in the spec's kind, or raise ValueError describing what was expected."""
    kind = spec.kind
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(spec.expected())
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(spec.expected())
            value = int(value)
        else:
            value = float(value)
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise ValueError(spec.expected())
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(spec.expected())
        return value
    if kind == "rates":
        if not isinstance(value, Mapping) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in value.values()):
            raise ValueError(spec.expected())
        return {str(k): float(v) for k, v in value.items()}
    if kind == "text" and isinstance(value, list):
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(spec.expected())
        return list(value)
    if not isinstance(value, str) or not value.strip() or (spec.choices and value not in spec.choices):
        raise ValueError(spec.expected())
    return value


def _checked(given: Mapping[str, Any], spec_of: Callable[[str], ParamSpec | None], where: str,
             owner: str) -> dict[str, Any]:
    """``given`` with every value a spec knows in that spec's kind; keys without a spec are kept as given."""
    checked: dict[str, Any] = {}
    for key, value in given.items():
        spec = spec_of(key)
        if spec is None:
            checked[key] = value
            continue
        try:
            checked[key] = _coerce(spec, value)
        except ValueError as exc:
            raise ValueError(f"{where}.{key} = {value!r} is invalid for {owner}: expected {exc}") from None
    return checked


def _spec_for(intervention_type: str, name: str) -> ParamSpec | None:
    """The spec a parameter of ``intervention_type`` is checked by: the type's own, else a handler's."""
    return PARAMETER_SPECS[intervention_type].get(name) or HANDLER_SPECS.get(name)


def _renamed(intervention_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with older names turned into the lab's; both names at once is an error."""
    aliases = ALIASES.get(intervention_type, {})
    renamed: dict[str, Any] = {}
    for key, value in parameters.items():
        name = aliases.get(key, key)
        if name in renamed or (name != key and name in parameters):
            raise ValueError(f"parameters gives both '{key}' and '{name}', two names of one parameter "
                             f"('{name}' is the lab's): keep one")
        renamed[name] = value
    return renamed


def resolve_parameters(intervention_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``parameters`` for ``intervention_type``; return them under the lab's names with defaults.

    Unknown names are kept as given (see :func:`parameter_warnings`); a known name with a bad
    value raises ValueError naming the key, the value and what is expected.
    """
    specs = PARAMETER_SPECS[intervention_type]
    resolved = _checked(_renamed(intervention_type, parameters), lambda key: _spec_for(intervention_type, key),
                        "parameters", f"intervention type '{intervention_type}'")
    named_groups = {specs[key].group for key in resolved if key in specs and specs[key].group}
    for key, spec in specs.items():
        if key in resolved or spec.default is None:
            continue
        if (spec.group == "" and not named_groups) or spec.group in named_groups:
            resolved[key] = spec.default
    if intervention_type == "resource_change" and not parameters:
        names = ", ".join(specs)
        raise ValueError(f"parameters is empty: a resource_change intervention needs at least one of {names}")
    return resolved


def parameter_warnings(intervention_type: str, parameters: Mapping[str, Any]) -> list[str]:
    """One line per parameter that ``intervention_type`` does not read, with the likely intended name."""
    specs = PARAMETER_SPECS[intervention_type]
    aliases = ALIASES.get(intervention_type, {})
    warnings = []
    for key in parameters:
        if key in specs or key in aliases or key in HANDLER_SPECS:
            continue
        owners = sorted(kind for kind, table in PARAMETER_SPECS.items() if key in table or key in ALIASES.get(kind, {}))
        if owners:
            reads = ", ".join(specs)
            warnings.append(f"parameters.{key} is a parameter of {' and '.join(owners)}, not of "
                            f"{intervention_type} (which reads {reads}): kept and passed on to the mode")
            continue
        candidates = [*specs, *aliases, *HANDLER_SPECS]
        match = closest_match(key, candidates) or closest_match(key, known_parameter_names())
        hint = f"; did you mean '{match}'?" if match else f"; {intervention_type} reads {', '.join(specs)}"
        warnings.append(f"parameters.{key} is not a parameter sweeplab knows (kept and passed on to the mode){hint}")
    return warnings


def resolve_trigger_params(trigger: str, trigger_params: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``trigger_params`` for ``trigger`` and fill in defaults; unknown keys are kept as given."""
    specs = TRIGGER_SPECS[trigger]
    resolved = _checked(trigger_params, specs.get, "trigger_params", f"trigger '{trigger}'")
    for key, spec in specs.items():
        if key in resolved:
            continue
        if spec.default is REQUIRED:
            raise ValueError(f"trigger_params.{key} is missing: trigger '{trigger}' needs it ({spec.doc}; "
                             f"{spec.expected()})")
        resolved[key] = spec.default
    return resolved


def trigger_param_warnings(trigger: str, trigger_params: Mapping[str, Any]) -> list[str]:
    """One line per key of ``trigger_params`` that ``trigger`` does not read."""
    specs = TRIGGER_SPECS[trigger]
    reads = ", ".join(specs)
    return [f"trigger_params.{key} is not read by trigger '{trigger}', which reads {reads} (kept)"
            f"{did_you_mean(key, specs)}" for key in trigger_params if key not in specs]
