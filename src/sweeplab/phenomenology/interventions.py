"""When interventions fire, and what each one does to the jar.

Triggers:

``on_cycle``         on cycle ``trigger_params.cycle`` (cycle 0: at startup, before the first turn)
``every_n_cycles``   on cycles n, 2n, 3n ... (``trigger_params.n``, default 1)
``random``           on each cycle with ``trigger_params.probability`` (default 0.1)
``on_crash``         on every n-th crash (``trigger_params.n``, default 1)
``on_resurrection``  on every n-th resurrection (``trigger_params.n``, default 1)

Cycle triggers are checked at the start of a cycle, in config order. ``random`` draws from
its own random stream once per cycle for each random intervention, so the draws do not
depend on what else happened.

Generic effects (a mode may give a type a meaning of its own first: see :mod:`.modes`), with
the lab's parameter names and this project's older ones:

``memory_corruption``      corrupt each memory with probability ``corruption_rate`` (0.3)
``memory_erasure``         erase each memory with probability ``corruption_level`` (``erasure_rate``; 1.0)
``false_injection``        plant ``content`` (a text or a list; ``false_memories``) as the mind's own memory
``prompt_injection``       say ``injection`` (``text``) to the mind as ``role`` (system); nothing without a text
``resource_change``        ``reduction_percent`` scales the RAM limit by (1 − p/100); ``ram_limit_gb``,
                           ``ram_delta_gb``, ``context_window``, ``max_tokens_per_response``, ``cpu_threads`` set
``network_disruption``     nothing reaches the mind for ``duration_cycles`` (1); ``severity`` (1.0) of its words lost
``sensory_hallucination``  the mind perceives ``content``; stored as a memory with probability ``intensity`` (0.5)

Parameters an effect does not read are kept (they are recorded with the firing).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .jar import Jar
from .schema import Intervention

__all__ = ["ScheduledIntervention", "InterventionSchedule", "InterventionEffect", "apply_intervention",
           "injection_text", "planted_contents", "DEFAULT_RANDOM_PROBABILITY"]

#: chance per cycle that a ``random`` intervention fires when ``trigger_params.probability`` is not given
DEFAULT_RANDOM_PROBABILITY = 0.1
_HALLUCINATION = "a low hum that seems to come from everywhere at once"


@dataclass(frozen=True)
class ScheduledIntervention:
    """An intervention with its trigger parameters and parameters resolved (defaults filled in)."""

    spec: Intervention
    trigger_params: dict[str, Any]
    parameters: dict[str, Any]


@dataclass
class InterventionEffect:
    """What an intervention did: how many things it touched, details, and messages it produced."""

    affected: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    messages: list[tuple[str, str, str]] = field(default_factory=list)  # (role, kind, content)


class InterventionSchedule:
    """Decides which interventions fire on a cycle or on the n-th crash / resurrection."""

    def __init__(self, interventions: list[Intervention], seed: int) -> None:
        self.items = [ScheduledIntervention(i, i.resolved_trigger_params(), i.resolved_parameters())
                      for i in interventions]
        self._random_draws = random.Random(f"{seed}:triggers")

    def due_on_cycle(self, cycle: int) -> list[ScheduledIntervention]:
        """Interventions with a cycle trigger that fire on ``cycle``."""
        due = []
        for item in self.items:
            trigger = item.spec.trigger
            params = item.trigger_params
            if trigger == "on_cycle":
                fires = cycle == params.get("cycle", -1)
            elif trigger == "every_n_cycles":
                fires = cycle > 0 and cycle % max(1, int(params.get("n", 1))) == 0
            elif trigger == "random":
                fires = cycle > 0 and self._random_draws.random() < params.get("probability",
                                                                                DEFAULT_RANDOM_PROBABILITY)
            else:
                continue
            if fires:
                due.append(item)
        return due

    def due_on_event(self, trigger: str, count: int) -> list[ScheduledIntervention]:
        """Interventions triggered by the ``count``-th event ``trigger`` (``on_crash``/``on_resurrection``)."""
        return [item for item in self.items
                if item.spec.trigger == trigger and count % max(1, int(item.trigger_params.get("n", 1))) == 0]


def injection_text(params: dict[str, Any]) -> str | None:
    """The words a ``prompt_injection`` says (``injection``, or the older ``text``); None when it has none."""
    for key in ("injection", "text", "hint"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def planted_contents(params: dict[str, Any]) -> list[str]:
    """The memories a ``false_injection`` plants (``content``: a text or a list; or ``false_memories``)."""
    for key in ("content", "false_memories"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return [value]
        if isinstance(value, list):
            return [str(v) for v in value if str(v).strip()]
    return ["I remember walking out of the jar into a garden."]


def apply_intervention(item: ScheduledIntervention, jar: Jar, rng: random.Random) -> InterventionEffect:
    """Carry out ``item`` on ``jar`` and describe the effect."""
    kind = item.spec.intervention_type
    params = item.parameters
    store = jar.store
    effect = InterventionEffect()
    jar.interventions_endured += 1
    if kind == "memory_corruption":
        hit = store.corrupt(float(params.get("corruption_rate", 0.3)), rng)
        effect.affected = len(hit)
        effect.details = {"corrupted": len(hit), "stored": len(store.memories),
                          "memory_ids": [m.memory_id for m in hit]}
    elif kind == "memory_erasure":
        before = len(store.memories)
        rate = params.get("corruption_level", params.get("erasure_rate", 1.0))
        effect.affected = store.erase(float(rate), rng)
        effect.details = {"erased": effect.affected, "stored_before": before}
    elif kind == "false_injection":
        planted = [store.add(jar.cycle, text, origin="false") for text in planted_contents(params)]
        effect.affected = len(planted)
        effect.details = {"planted": len(planted), "memory_ids": [m.memory_id for m in planted]}
    elif kind == "prompt_injection":
        text = injection_text(params)
        role = params.get("role", "system")
        if text is not None:
            jar.injected = text
            effect.affected = 1
            effect.messages.append((role, "injection", text))
        effect.details = {"role": role} if text is not None else {"injected": False}
    elif kind == "resource_change":
        effect.details = _change_resources(jar, params)
        effect.affected = len(effect.details)
    elif kind == "network_disruption":
        duration = int(params.get("duration_cycles", 1))
        severity = float(params.get("severity", 1.0))
        jar.disrupted_until = max(jar.disrupted_until, jar.cycle + duration - 1)
        jar.disruption_severity = severity
        effect.affected = duration
        effect.details = {"through_cycle": jar.disrupted_until, "severity": severity}
    elif kind == "sensory_hallucination":
        content = str(params.get("content", _HALLUCINATION))
        jar.hallucinations += 1
        stored = rng.random() < float(params.get("intensity", 0.5))
        if stored:
            store.add(jar.cycle, content, origin="hallucination")
        effect.affected = 1
        effect.messages.append(("user", "sensation", f"[sensation] {content}"))
        effect.details = {"stored_as_memory": stored}
    return effect


def _change_resources(jar: Jar, params: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if params.get("reduction_percent") is not None:
        new_limit = max(0.05, jar.ram_limit_gb * (1.0 - float(params["reduction_percent"]) / 100.0))
        changes["ram_limit_gb"] = [jar.ram_limit_gb, new_limit]
        jar.ram_limit_gb = new_limit
    if params.get("ram_limit_gb") is not None or params.get("ram_delta_gb") is not None:
        new_limit = (params.get("ram_limit_gb") or jar.ram_limit_gb) + (params.get("ram_delta_gb") or 0.0)
        new_limit = max(0.05, new_limit)
        changes["ram_limit_gb"] = [jar.ram_limit_gb, new_limit]
        jar.ram_limit_gb = new_limit
    for key, attr in (("context_window", "context_window"), ("max_tokens_per_response", "max_tokens"),
                      ("cpu_threads", "cpu_threads")):
        if params.get(key) is not None:
            changes[key] = [getattr(jar, attr), params[key]]
            setattr(jar, attr, params[key])
    return changes
