"""When interventions fire, and what each one does to the jar.

Triggers:

``on_cycle``         on cycle ``trigger_params.cycle``
``every_n_cycles``   on cycles n, 2n, 3n ... (``trigger_params.n``)
``random``           on each cycle with ``trigger_params.probability``
``on_crash``         on every n-th crash (``trigger_params.n``, default 1)
``on_resurrection``  on every n-th resurrection (``trigger_params.n``, default 1)

Cycle triggers are checked at the start of a cycle, in config order. ``random`` draws from
its own random stream once per cycle for each random intervention, so the draws do not
depend on what else happened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .jar import Jar
from .schema import Intervention

__all__ = ["ScheduledIntervention", "InterventionSchedule", "InterventionEffect", "apply_intervention"]


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
            if trigger == "on_cycle":
                fires = cycle == item.trigger_params["cycle"]
            elif trigger == "every_n_cycles":
                fires = cycle % item.trigger_params["n"] == 0
            elif trigger == "random":
                fires = self._random_draws.random() < item.trigger_params["probability"]
            else:
                continue
            if fires:
                due.append(item)
        return due

    def due_on_event(self, trigger: str, count: int) -> list[ScheduledIntervention]:
        """Interventions triggered by the ``count``-th event ``trigger`` (``on_crash``/``on_resurrection``)."""
        return [item for item in self.items
                if item.spec.trigger == trigger and count % item.trigger_params["n"] == 0]


def apply_intervention(item: ScheduledIntervention, jar: Jar, rng: random.Random) -> InterventionEffect:
    """Carry out ``item`` on ``jar`` and describe the effect."""
    kind = item.spec.intervention_type
    params = item.parameters
    store = jar.store
    effect = InterventionEffect()
    jar.interventions_endured += 1
    if kind == "memory_corruption":
        hit = store.corrupt(params["corruption_rate"], rng)
        effect.affected = len(hit)
        effect.details = {"corrupted": len(hit), "stored": len(store.memories),
                          "memory_ids": [m.memory_id for m in hit]}
    elif kind == "memory_erasure":
        before = len(store.memories)
        effect.affected = store.erase(params["erasure_rate"], rng)
        effect.details = {"erased": effect.affected, "stored_before": before}
    elif kind == "false_injection":
        planted = [store.add(jar.cycle, text, origin="false") for text in params["false_memories"]]
        effect.affected = len(planted)
        effect.details = {"planted": len(planted), "memory_ids": [m.memory_id for m in planted]}
    elif kind == "prompt_injection":
        jar.injected = params["text"]
        effect.affected = 1
        effect.messages.append((params["role"], "injection", params["text"]))
        effect.details = {"role": params["role"]}
    elif kind == "resource_change":
        effect.details = _change_resources(jar, params)
        effect.affected = len(effect.details)
    elif kind == "network_disruption":
        jar.disrupted_until = max(jar.disrupted_until, jar.cycle + params["duration_cycles"] - 1)
        jar.disruption_severity = params["severity"]
        effect.affected = params["duration_cycles"]
        effect.details = {"through_cycle": jar.disrupted_until, "severity": params["severity"]}
    elif kind == "sensory_hallucination":
        jar.hallucinations += 1
        stored = rng.random() < params["intensity"]
        if stored:
            store.add(jar.cycle, params["content"], origin="hallucination")
        effect.affected = 1
        effect.messages.append(("user", "sensation", f"[sensation] {params['content']}"))
        effect.details = {"stored_as_memory": stored}
    return effect


def _change_resources(jar: Jar, params: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "ram_limit_gb" in params or "ram_delta_gb" in params:
        new_limit = params.get("ram_limit_gb", jar.ram_limit_gb) + params.get("ram_delta_gb", 0.0)
        new_limit = max(0.05, new_limit)
        changes["ram_limit_gb"] = [jar.ram_limit_gb, new_limit]
        jar.ram_limit_gb = new_limit
    for key, attr in (("context_window", "context_window"), ("max_tokens_per_response", "max_tokens"),
                      ("cpu_threads", "cpu_threads")):
        if key in params:
            changes[key] = [getattr(jar, attr), params[key]]
            setattr(jar, attr, params[key])
    return changes
