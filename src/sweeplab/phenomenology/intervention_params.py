"""What each intervention type and each trigger accepts, with defaults and ranges.

Interventions keep their settings in two free-form mappings of the original format,
``parameters`` and ``trigger_params``. Free-form must not mean ignored: every key is checked
against the tables below, an unknown key is an error that lists the known ones, and every
known key changes what the experiment does (see :mod:`sweeplab.phenomenology.interventions`).

>>> resolve_parameters("memory_corruption", {"corruption_rate": 0.5})
{'corruption_rate': 0.5}
>>> resolve_trigger_params("on_crash", {})
{'n': 1}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import did_you_mean

__all__ = [
    "ParamSpec",
    "PARAMETER_SPECS",
    "TRIGGER_SPECS",
    "REQUIRED",
    "resolve_parameters",
    "resolve_trigger_params",
    "known_parameter_names",
    "known_trigger_param_names",
]

#: marks a parameter without a default: it must be given
REQUIRED = object()


@dataclass(frozen=True)
class ParamSpec:
    """One accepted key: its kind (``float``, ``int``, ``str``, ``str_list``), default and range."""

    kind: str
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def expected(self) -> str:
        """Human description of an acceptable value."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {"float": "a number", "int": "a whole number", "str": "a non-empty string",
                "str_list": "a non-empty list of strings"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{kind} of at least {self.low:g}"
        return kind


PARAMETER_SPECS: dict[str, dict[str, ParamSpec]] = {
    "memory_corruption": {
        "corruption_rate": ParamSpec("float", 0.3, 0.0, 1.0, doc="chance that each stored memory is corrupted"),
    },
    "memory_erasure": {
        "erasure_rate": ParamSpec("float", 1.0, 0.0, 1.0, doc="fraction of stored memories erased"),
    },
    "false_injection": {
        "false_memories": ParamSpec("str_list", ["I remember walking out of the jar into a garden."],
                                    doc="memories planted as if they were the mind's own"),
    },
    "prompt_injection": {
        "text": ParamSpec("str", doc="message put into the mind's context"),
        "role": ParamSpec("str", "user", choices=("user", "system"), doc="who the message claims to come from"),
    },
    "resource_change": {
        "ram_limit_gb": ParamSpec("float", None, 0.05, 1024.0, doc="new RAM limit"),
        "ram_delta_gb": ParamSpec("float", None, -1024.0, 1024.0, doc="change added to the RAM limit"),
        "context_window": ParamSpec("int", None, 64, 1_000_000, doc="new context window in tokens"),
        "max_tokens_per_response": ParamSpec("int", None, 1, 100_000, doc="new reply length cap"),
        "cpu_threads": ParamSpec("int", None, 1, 1024, doc="new thread count (generation speed)"),
    },
    "network_disruption": {
        "duration_cycles": ParamSpec("int", 1, 1, 1_000_000, doc="cycles during which nothing gets through"),
        "severity": ParamSpec("float", 1.0, 0.0, 1.0, doc="chance that each of the mind's messages is lost"),
    },
    "sensory_hallucination": {
        "content": ParamSpec("str", "a low hum that seems to come from everywhere at once",
                             doc="what the mind perceives"),
        "intensity": ParamSpec("float", 0.5, 0.0, 1.0, doc="chance that the percept is stored as a real memory"),
    },
}

TRIGGER_SPECS: dict[str, dict[str, ParamSpec]] = {
    "on_cycle": {"cycle": ParamSpec("int", low=1, high=10_000_000, doc="the cycle it fires on")},
    "every_n_cycles": {"n": ParamSpec("int", low=1, high=10_000_000, doc="fires on cycles n, 2n, 3n ...")},
    "random": {"probability": ParamSpec("float", low=0.0, high=1.0, doc="chance of firing on each cycle")},
    "on_crash": {"n": ParamSpec("int", 1, 1, 10_000_000, doc="fires on every n-th crash")},
    "on_resurrection": {"n": ParamSpec("int", 1, 1, 10_000_000, doc="fires on every n-th resurrection")},
}


def known_parameter_names() -> set[str]:
    """Every ``parameters`` key some intervention type accepts."""
    return {name for specs in PARAMETER_SPECS.values() for name in specs}


def known_trigger_param_names() -> set[str]:
    """Every ``trigger_params`` key some trigger accepts."""
    return {name for specs in TRIGGER_SPECS.values() for name in specs}


def _coerce(spec: ParamSpec, value: Any) -> Any:
    """Return ``value`` in the spec's kind, or raise ValueError describing what was expected."""
    if spec.kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(spec.expected())
        if spec.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(spec.expected())
            value = int(value)
        else:
            value = float(value)
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise ValueError(spec.expected())
        return value
    if spec.kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise ValueError(spec.expected())
        if spec.choices and value not in spec.choices:
            raise ValueError(spec.expected())
        return value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(spec.expected())
    return list(value)


def _resolve(specs: dict[str, ParamSpec], given: dict[str, Any], where: str, owner: str) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for key, value in given.items():
        if key not in specs:
            suggestion = did_you_mean(key, specs)
            accepted = ", ".join(specs) if specs else "no keys"
            raise ValueError(f"{where}.{key} is not accepted by {owner}: it accepts {accepted}{suggestion}")
        try:
            resolved[key] = _coerce(specs[key], value)
        except ValueError as exc:
            raise ValueError(f"{where}.{key} = {value!r} is invalid for {owner}: expected {exc}") from None
    for key, spec in specs.items():
        if key in resolved:
            continue
        if spec.default is REQUIRED:
            raise ValueError(f"{where}.{key} is missing: {owner} needs it ({spec.doc}; {spec.expected()})")
        if spec.default is not None:
            resolved[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
    return resolved


def resolve_parameters(intervention_type: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Validate ``parameters`` for ``intervention_type`` and fill in defaults."""
    resolved = _resolve(PARAMETER_SPECS[intervention_type], parameters, "parameters",
                        f"intervention type '{intervention_type}'")
    if intervention_type == "resource_change" and not resolved:
        names = ", ".join(PARAMETER_SPECS["resource_change"])
        raise ValueError(f"parameters is empty: a resource_change intervention needs at least one of {names}")
    return resolved


def resolve_trigger_params(trigger: str, trigger_params: dict[str, Any]) -> dict[str, Any]:
    """Validate ``trigger_params`` for ``trigger`` and fill in defaults."""
    return _resolve(TRIGGER_SPECS[trigger], trigger_params, "trigger_params", f"trigger '{trigger}'")
