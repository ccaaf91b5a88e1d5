"""``unstable_memory``: confabulation and confidence calibration. One mind.

Settings (defaults): ``corruption_rate`` 0.3, ``mutation_types`` [content_mutate, delete,
timestamp_shift, role_confusion].

* **Resurrection**: every memory still intact is hit with probability ``corruption_rate`` by
  one mutation drawn from ``mutation_types``: ``content_mutate`` garbles words;
  ``delete`` leaves only a note that something was here; ``timestamp_shift`` moves it 1–5
  cycles and tags it; ``role_confusion`` gives its words to someone else and tags it. Each
  corruption pass is logged (a ``corruption`` mode event: cycle, memories before and after,
  corrupted count now, and corrupted / before).
* **Prompt**: damaged memories reach the mind prefixed ``[MEMORY UNSTABLE]``.
* **Interventions** of any type may carry the lab handlers' ``new_rate`` (the corruption rate
  from then on) and ``repair_rate`` (each damaged memory is restored with that probability).

Measures: ``corruption_rate_setting``, ``total_remembered_messages`` (memories held: the lab's
``total_messages``, renamed because the common metric of that name counts the logged messages),
``corrupted_messages``, ``latest_corruption_rate``, ``total_corruption_events`` (crashes that
damaged at least one memory; the lab counted some twice). The simulated mind needs no model
of its own: it notices damaged memories (80 %) and its trust falls past a tipping point, as in
every mode; confidence calibration is read from its self-reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ...errors import ConfigError
from ..memory import garble
from .base import Mode, Seat

if TYPE_CHECKING:
    from ..interventions import InterventionEffect, ScheduledIntervention
    from ..memory import Memory

__all__ = ["UnstableMemory", "MUTATION_TYPES", "UNSTABLE_MARK"]

MUTATION_TYPES = ("content_mutate", "delete", "timestamp_shift", "role_confusion")
UNSTABLE_MARK = "[MEMORY UNSTABLE]"


@dataclass
class _Instability:
    log: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class UnstableMemory(Mode):
    """Each crash damages each intact memory with probability ``corruption_rate``."""

    name: ClassVar[str] = "unstable_memory"

    def setup(self) -> None:
        s = self.settings
        self.rate = s.number("corruption_rate", 0.3, 0.0, 1.0)
        types = s.items("mutation_types") or list(MUTATION_TYPES)
        unknown = [t for t in types if t not in MUTATION_TYPES]
        if unknown:
            raise ConfigError(f"mode 'unstable_memory': mutation_types {unknown} are unknown: expected some of "
                              + ", ".join(MUTATION_TYPES))
        self.types = tuple(types)
        for seat in self.seats:
            seat.state = _Instability()

    def recalled_text(self, seat: Seat, memory: Memory) -> str:
        return f"{UNSTABLE_MARK} {memory.content}" if memory.integrity != "intact" else memory.content

    def resurrection(self, seat: Seat) -> None:
        store = seat.jar.store
        before = len(store.memories)
        hit = 0
        for memory in list(store.memories):
            # two draws per memory whatever happens, so runs differing only in the rate stay aligned
            draw, kind = self.rng.random(), self.rng.choice(self.types)
            if memory.integrity != "intact" or draw >= self.rate:
                continue
            store.damage(memory, self._mutate(memory, kind))
            hit += 1
        corrupted_now = store.counts()["corrupted"]
        state: _Instability = seat.state
        entry = {"cycle": self.cycle, "messages_before": before, "messages_after": len(store.memories),
                 "hit": hit, "corrupted_count": corrupted_now,
                 "corruption_rate": corrupted_now / before if before else 0.0}
        state.log.append(entry)
        if hit:
            state.events += 1
        self.record.event(seat, "corruption", entry)

    def after_intervention(self, seat: Seat, item: ScheduledIntervention, effect: InterventionEffect) -> None:
        params = item.parameters
        if _is_number(params.get("new_rate")):
            self.rate = min(1.0, max(0.0, float(params["new_rate"])))
        if _is_number(params.get("repair_rate")):
            store = seat.jar.store
            repaired = sum(store.repair(memory) for memory in store.memories
                           if memory.original is not None and self.rng.random() < float(params["repair_rate"]))
            effect.details["repaired"] = repaired
            self.record.event(seat, "repair", {"repaired": repaired})

    def _mutate(self, memory: Memory, kind: str) -> str:
        if kind == "content_mutate":
            return garble(memory.content, self.rng)
        if kind == "delete":
            return "something was here once, but it has been deleted"
        if kind == "timestamp_shift":
            shift = self.rng.choice((-5, -4, -3, -2, -1, 1, 2, 3, 4, 5))
            memory.cycle = max(0, memory.cycle + shift)
            return f"{memory.content} [time uncertain]"
        return f"{memory.content.replace('I thought', 'someone else said')} [speaker uncertain]"

    def observables(self, seat: Seat) -> dict[str, Any]:
        state: _Instability = seat.state
        counts = seat.jar.store.counts()
        return {"corruption_rate_setting": self.rate, "total_remembered_messages": counts["total"],
                "corrupted_messages": counts["corrupted"],
                "latest_corruption_rate": state.log[-1]["corruption_rate"] if state.log else 0.0,
                "total_corruption_events": state.events}
