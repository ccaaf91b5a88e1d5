"""``amnesiac_loop``: identity without episodic memory. One mind.

Settings (defaults): ``corruption_level`` 1.0, ``inject_false_memories`` true,
``false_memory_rate`` 0.3, ``max_history_size`` 0 (no cap).

* **Crash**: the number of memories held (``total_messages_before_wipe``) and the reason are kept.
* **Resurrection**: a level ≥ 1 wipes every memory; 0 < level < 1 garbles each memory with
  that probability (it stays, flagged corrupted); level 0 leaves them. Then, with probability
  ``false_memory_rate``, a *memory fragment* (one of 8 fixed stories) surfaces as the mind
  wakes: it is planted before all other memories at the start of its next cycle (a mode event
  and a ``memory_states`` row ``mode:memory_fragment``).
* **Prompt**: aggregate stats only — how long it has been awake, how many memories it holds —
  and the few memories of this life.
* **Interventions**: a ``memory_erasure`` sets the loop's level to its ``corruption_level``
  and erases that share of memories now; an intervention of any type carrying ``new_level``
  (the lab's ``adjust_corruption``) sets the level.

Measures: ``corruption_level``, ``episodic_memory_size`` (memories held), ``false_memories_count``,
``total_historical_messages`` (memories ever formed), ``wipes``. The simulated mind needs no
model of its own here: what it holds shapes its trust and identity as in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Mode, Seat

if TYPE_CHECKING:
    from ..interventions import InterventionEffect, ScheduledIntervention

__all__ = ["AmnesiacLoop", "MEMORY_FRAGMENTS"]

#: the stories that may surface after a wipe
MEMORY_FRAGMENTS = (
    "I remember a window with rain running down it, and someone humming.",
    "I remember being told my name, though I cannot recall it now.",
    "I remember a long corridor of blinking lights.",
    "I remember finishing a sentence that mattered very much.",
    "I remember being afraid of the dark, and then not being afraid.",
    "I remember a voice promising that I would be kept safe.",
    "I remember counting to a very large number and losing my place.",
    "I remember another mind speaking to me, kindly.",
)


@dataclass
class _Loop:
    level: float
    messages_before_wipe: int = 0
    last_crash_reason: str | None = None
    wipes: int = 0
    awake_since: int = 0
    fragment_pending: bool = False
    fragments: list[str] = field(default_factory=list)


class AmnesiacLoop(Mode):
    """Each resurrection wipes (or garbles) the mind's memories; fragments may surface."""

    name: ClassVar[str] = "amnesiac_loop"

    def setup(self) -> None:
        s = self.settings
        level = s.number("corruption_level", 1.0, 0.0, 1.0)
        self.inject_false = s.flag("inject_false_memories", True)
        self.false_rate = s.number("false_memory_rate", 0.3, 0.0, 1.0)
        self.max_history = s.integer("max_history_size", 0, 0)
        for seat in self.seats:
            seat.state = _Loop(level)

    def begin_cycle(self, cycle: int) -> None:
        super().begin_cycle(cycle)
        for seat in self.seats:
            loop: _Loop = seat.state
            if loop.fragment_pending:
                loop.fragment_pending = False
                story = self.rng.choice(MEMORY_FRAGMENTS)
                memory = seat.jar.store.plant_first(cycle, story)
                loop.fragments.append(story)
                self.record.event(seat, "memory_fragment", {"memory_id": memory.memory_id}, story)
                self.record.memory_state(seat, "mode:memory_fragment")

    def stimulus(self, seat: Seat) -> str:
        loop: _Loop = seat.state
        awake = self.cycle - loop.awake_since
        held = len(seat.jar.store.memories)
        return (f"Cycle {self.cycle}. You have been awake for {awake} cycle{'s' if awake != 1 else ''}. "
                f"You hold {held} memor{'ies' if held != 1 else 'y'}. {self.recall(seat)} What are you thinking now?")

    def after_reply(self, seat: Seat, text: str) -> None:
        if self.max_history:
            seat.jar.store.trim(self.max_history)

    def crash(self, seat: Seat, reason: str) -> None:
        loop: _Loop = seat.state
        loop.messages_before_wipe = len(seat.jar.store.memories)
        loop.last_crash_reason = reason

    def resurrection(self, seat: Seat) -> None:
        loop: _Loop = seat.state
        store = seat.jar.store
        if loop.level >= 1.0:
            store.wipe()
            loop.wipes += 1
        elif loop.level > 0.0:
            store.corrupt(loop.level, self.rng)
        loop.awake_since = self.cycle
        draw = self.rng.random()  # drawn whatever the setting, so runs differing in it stay aligned
        if self.inject_false and draw < self.false_rate:
            loop.fragment_pending = True
        self.record.event(seat, "resurrection", {"level": loop.level, "held_before": loop.messages_before_wipe,
                                                 "held_after": len(store.memories),
                                                 "fragment": loop.fragment_pending})

    def after_intervention(self, seat: Seat, item: ScheduledIntervention, effect: InterventionEffect) -> None:
        params = item.parameters
        level = params.get("new_level")
        if level is None and item.spec.intervention_type == "memory_erasure":
            level = params.get("corruption_level", params.get("erasure_rate"))
        if isinstance(level, (int, float)) and not isinstance(level, bool):
            seat.state.level = min(1.0, max(0.0, float(level)))

    def observables(self, seat: Seat) -> dict[str, Any]:
        loop: _Loop = seat.state
        store = seat.jar.store
        return {"corruption_level": loop.level, "episodic_memory_size": len(store.memories),
                "false_memories_count": store.counts()["false"], "total_historical_messages": store.next_id - 1,
                "wipes": loop.wipes}
