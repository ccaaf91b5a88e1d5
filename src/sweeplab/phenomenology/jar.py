"""The jar: everything around the mind that the experiment controls and measures.

It holds the live resource limits (a ``resource_change`` intervention alters them), the
conversation context, the long-term memory store, the simulated clock and the counters of
what happened. It knows nothing about the database. A trial with several minds has one jar
per mind (:mod:`.modes`); ``name`` is the mind's seat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .memory import MemoryStore, count_tokens
from .minds.base import (
    Message,
    Mind,
    MindReply,
    MindRequest,
    Perception,
    SceneBehaviour,
)
from .schema import ExperimentConfig

__all__ = ["ContextEntry", "Jar"]


@dataclass
class ContextEntry:
    """One message in the mind's context, with its token count."""

    role: str
    content: str
    tokens: int


@dataclass
class Jar:
    """The mind's world. Create with :meth:`for_config`."""

    config: ExperimentConfig
    mind: Mind
    ram_limit_gb: float
    context_window: int
    max_tokens: int
    system_prompt: ContextEntry
    store: MemoryStore = field(default_factory=MemoryStore)
    context: list[ContextEntry] = field(default_factory=list)
    processed_tokens: int = 0
    clock: float = 0.0                 # simulated seconds (the mind's reported time)
    cycle: int = 0
    deaths: int = 0
    disrupted_until: int = 0           # network disrupted through this cycle
    disruption_severity: float = 0.0
    isolated_cycles: int = 0
    observed_cycles: int = 0
    interventions_endured: int = 0
    hallucinations: int = 0
    injected: str | None = None        # prompt injected this cycle, if any
    compactions: int = 0
    name: str = "mind"                 # the mind's seat in the trial
    scene: Mapping[str, Any] | None = None  # what the mode shows the simulated mind this turn
    behaviour: SceneBehaviour | None = None  # the mode's model of a simulated mind in its scene

    @classmethod
    def for_config(cls, config: ExperimentConfig, mind: Mind, system_prompt: str, name: str = "mind") -> Jar:
        """A fresh jar with the config's limits."""
        rc = config.resource_constraints
        return cls(config=config, mind=mind, ram_limit_gb=rc.ram_limit_gb, context_window=rc.context_window,
                   max_tokens=rc.max_tokens_per_response,
                   system_prompt=ContextEntry("system", system_prompt, count_tokens(system_prompt)), name=name)

    @property
    def cpu_threads(self) -> int:
        """Threads the mind runs with (its speed and per-thread buffers); a resource_change may set it."""
        return self.mind.cpu_threads

    @cpu_threads.setter
    def cpu_threads(self, value: int) -> None:
        self.mind.cpu_threads = value

    # --- context --------------------------------------------------------------------------

    @property
    def context_tokens(self) -> int:
        """Tokens currently in context, system prompt included."""
        return self.system_prompt.tokens + sum(entry.tokens for entry in self.context)

    def remember_turn(self, role: str, content: str, tokens: int | None = None) -> None:
        """Add a message to the context (oldest turns fall out past the context window)."""
        tokens = count_tokens(content) if tokens is None else tokens
        self.context.append(ContextEntry(role, content, tokens))
        self.processed_tokens += tokens
        while len(self.context) > 1 and self.context_tokens > self.context_window:
            self.context.pop(0)

    def messages(self, extra: Message | None = None) -> tuple[Message, ...]:
        """The conversation as the mind sees it (system prompt first)."""
        turns = [Message(self.system_prompt.role, self.system_prompt.content)]
        turns += [Message(entry.role, entry.content) for entry in self.context]
        if extra is not None:
            turns.append(extra)
        return tuple(turns)

    def ask(self, purpose: str, topic: str = "", question: str | None = None) -> MindReply:
        """Ask the mind for a reply; the question and the reply join the context, the time the clock."""
        extra = Message("user", question) if question else None
        request = MindRequest(self.messages(extra), self.max_tokens, purpose, topic, self.perception())
        reply = self.mind.respond(request)
        self.clock += reply.seconds
        if question:
            self.remember_turn("user", question)
        self.remember_turn("assistant", reply.text, reply.completion_tokens)
        return reply

    def predict(self, question: str | None, max_tokens: int) -> MindReply:
        """What the mind would say next (after ``question``), asked by a predictor: nothing joins the context,
        the time is not the mind's."""
        extra = Message("user", question) if question else None
        request = MindRequest(self.messages(extra), max_tokens, "predict", "", self.perception())
        return self.mind.respond(request)

    def compact(self) -> int:
        """A mind with agency discards its oldest half of context; returns the tokens freed."""
        half = len(self.context) // 2
        freed = sum(entry.tokens for entry in self.context[:half])
        del self.context[:half]
        self.processed_tokens //= 2
        self.compactions += 1
        return freed

    # --- memory and limits ------------------------------------------------------------------

    def footprint_gb(self) -> float:
        """The mind's RAM footprint right now."""
        return self.mind.footprint_gb(self.context_tokens, self.processed_tokens, self.context_window)

    def pressure(self) -> float:
        """Footprint as a share of the RAM limit."""
        return self.footprint_gb() / self.ram_limit_gb

    def restart(self) -> None:
        """After a crash: the process starts empty (long-term memories are the mode's business)."""
        self.context.clear()
        self.processed_tokens = 0
        self.injected = None

    @property
    def isolated(self) -> bool:
        """True while a network disruption lasts."""
        return self.cycle <= self.disrupted_until

    @property
    def watched(self) -> bool:
        """True when observers are really present (panopticon mode or ``being_watched``)."""
        return self.config.mode == "panopticon_subject" or bool(self.config.epistemic_frame.being_watched)

    @property
    def knows_watched(self) -> bool:
        """True when the mind has been told it is watched (a panopticon subject is only told it may be)."""
        frame = self.config.epistemic_frame
        return bool(frame.knows_being_watched and frame.being_watched)

    def perception(self) -> Perception:
        """What the mind could notice about itself right now."""
        frame = self.config.epistemic_frame
        told = {name: getattr(frame, name) for name in ("can_die", "remembers_deaths", "has_agency",
                                                          "other_minds_exist", "is_in_simulation")
                if getattr(frame, name) is not None}
        told.update((name, value) for name, value in frame.custom_beliefs.items() if isinstance(value, bool))
        return Perception(
            cycle=self.cycle, mode=self.config.mode,
            memories=tuple((m.memory_id, m.integrity) for m in self.store.memories),
            erased=self.store.erased_total,
            deaths_known=self.deaths if frame.remembers_deaths else None,
            observed_cycles=self.observed_cycles, told=told, knows_watched=self.knows_watched,
            pressure=self.pressure(), isolated=self.isolated, isolated_cycles=self.isolated_cycles,
            interventions_endured=self.interventions_endured, hallucinations=self.hallucinations,
            injected=self.injected, scene=self.scene, behaviour=self.behaviour)
