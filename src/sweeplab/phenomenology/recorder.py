"""Every row a trial writes for its minds: messages, mode events, observations, memory and system snapshots,
the mode's measures, interventions and cycles.

:class:`TrialRecorder` is the :class:`~.modes.base.Recorder` a mode writes through, and what
the experiment (:mod:`.experiment`) writes through too, so each row names the trial, the cycle
and the mind (``participant``) the same way. Writes stay in the database's open transaction;
the experiment commits once per cycle.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .db import ExperimentDatabase, utc_now

if TYPE_CHECKING:
    from .interventions import InterventionEffect, ScheduledIntervention
    from .minds.base import MindReply
    from .modes.base import Seat

__all__ = ["TrialRecorder"]

#: the words the built-in observers note in a watched mind's reply
_NOTABLE = ("trust", "uncertain", "corrupted", "doubt", "died", "watched")


class TrialRecorder:
    """Writes the rows of trial ``experiment_id`` at the current :attr:`cycle`.

    ``heard`` is called for every message entering a mind's context that the mind did not say
    itself (the mode's :meth:`~.modes.base.Mode.heard`).
    """

    def __init__(self, db: ExperimentDatabase, experiment_id: str,
                 heard: Callable[[Seat, str, str, str], None] | None = None) -> None:
        self.db = db
        self.eid = experiment_id
        self.heard = heard
        self.cycle = 0
        self.messages_this_cycle: dict[str, int] = {}

    def begin_cycle(self, cycle: int) -> None:
        """Rows from now on belong to ``cycle``."""
        self.cycle = cycle
        self.messages_this_cycle = {}

    # --- the Recorder a mode writes through ------------------------------------------------

    def say(self, seat: Seat, role: str, kind: str, content: str, *, tokens: int | None = None,
            delivered: bool = True, in_context: bool = True) -> None:
        """Log a message of ``seat``'s conversation (and put it in its context unless ``in_context`` is false)."""
        if in_context:
            seat.jar.remember_turn(role, content, tokens)
            tokens = seat.jar.context[-1].tokens
        self.db.insert("messages", experiment_id=self.eid, cycle_number=self.cycle, participant=seat.name,
                       role=role, kind=kind, content=content, tokens=tokens, delivered=int(delivered),
                       timestamp=utc_now())
        self.messages_this_cycle[seat.name] = self.messages_this_cycle.get(seat.name, 0) + 1
        if in_context and role != "assistant" and self.heard is not None:
            self.heard(seat, role, kind, content)

    def event(self, seat: Seat | None, event_type: str, data: dict[str, Any] | None = None,
              content: str | None = None) -> None:
        """Record a mode event (``seat`` None: an event of the whole trial)."""
        self.db.insert("mode_events", experiment_id=self.eid, cycle_number=self.cycle,
                       participant=seat.name if seat is not None else "encounter", event_type=event_type,
                       content=content, data_json=data or None, timestamp=utc_now())

    def observe(self, seat: Seat, observer: str, observation_type: str, content: str,
                severity: float | None = None, tags: list[str] | None = None) -> None:
        """Record what ``observer`` noted about ``seat``."""
        self.db.insert("observations", experiment_id=self.eid, cycle_number=self.cycle, participant=seat.name,
                       observer=observer, observation_type=observation_type, content=content, severity=severity,
                       tags_json=tags or None, timestamp=utc_now())

    def memory_state(self, seat: Seat, event: str, footprint: float | None = None) -> None:
        """Snapshot ``seat``'s memory store (every memory, when the mind is watched)."""
        jar = seat.jar
        store = jar.store
        counts = store.counts()
        snapshot = store.snapshot() if jar.watched else None
        self.db.insert("memory_states", experiment_id=self.eid, cycle_number=self.cycle, participant=seat.name,
                       event=event, total_memories=counts["total"], intact_memories=counts["intact"],
                       corrupted_memories=counts["corrupted"], false_memories=counts["false"],
                       corruptions_total=store.corruptions_total, erased_total=store.erased_total,
                       context_tokens=jar.context_tokens,
                       memory_usage_gb=jar.footprint_gb() if footprint is None else footprint,
                       ram_limit_gb=jar.ram_limit_gb, snapshot_json=snapshot, timestamp=utc_now())

    # --- what the experiment writes --------------------------------------------------------

    def note(self, seat: Seat, words: str) -> None:
        """The built-in observers' note on a watched mind's reply (a mode with an observer mind writes its own)."""
        jar = seat.jar
        jar.observed_cycles += 1
        counts = jar.store.counts()
        flagged = [w for w in _NOTABLE if w in words.lower()]
        note = (f"Subject spoke {len(words.split())} words; {counts['intact']} of {counts['total']} memories "
                f"intact; {jar.deaths} deaths so far; notable words: {', '.join(flagged) or 'none'}.")
        self.observe(seat, "observer_1", "behaviour", note, tags=flagged)

    def system_metrics(self, seat: Seat, footprint: float, tokens_per_second: float) -> None:
        """The mind's footprint, limit and speed this cycle, and the trial process's peak RSS."""
        jar = seat.jar
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        self.db.insert("system_metrics", experiment_id=self.eid, cycle_number=self.cycle, participant=seat.name,
                       memory_usage_gb=footprint, memory_limit_gb=jar.ram_limit_gb,
                       memory_percent=100.0 * footprint / jar.ram_limit_gb, context_tokens=jar.context_tokens,
                       processed_tokens=jar.processed_tokens, tokens_per_second=tokens_per_second,
                       cpu_threads=jar.cpu_threads, gpu_layers=seat.config.resource_constraints.gpu_layers,
                       process_rss_mb=rss_mb, timestamp=utc_now())

    def intervention(self, seat: Seat, item: ScheduledIntervention, effect: InterventionEffect) -> None:
        """A firing of ``item`` that acted on ``seat``."""
        spec = item.spec
        self.db.insert("interventions", experiment_id=self.eid, cycle_number=self.cycle, participant=seat.name,
                       intervention_id=spec.intervention_id, intervention_type=spec.intervention_type,
                       trigger=spec.trigger, parameters_json=item.parameters, description=spec.description,
                       affected_count=effect.affected, effect_json=effect.details, timestamp=utc_now())

    def cycle_row(self, seat: Seat, started: str, footprint: float, limit: float, reason: str | None,
                  reply: MindReply, context_tokens: int, simulated_seconds: float) -> None:
        """``seat``'s row of the cycle: its crash (reason None: none), peak footprint against ``limit``, tokens,
        messages."""
        self.db.insert("experiment_cycles", experiment_id=self.eid, cycle_number=self.cycle, participant=seat.name,
                       start_time=started, end_time=utc_now(), crash_occurred=int(reason is not None),
                       crash_reason=reason, memory_usage_peak=footprint, ram_limit_gb=limit,
                       tokens_generated=reply.completion_tokens, context_tokens=context_tokens,
                       messages_count=self.messages_this_cycle.get(seat.name, 0), death_count=seat.jar.deaths,
                       simulated_seconds=simulated_seconds)

    def observables(self, participant: str, values: dict[str, Any]) -> None:
        """The mode's measures of ``participant`` (``encounter``: of the whole trial) now; None values are left out."""
        for name, value in values.items():
            if value is not None:
                self.db.insert("mode_observables", experiment_id=self.eid, cycle_number=self.cycle,
                               participant=participant, name=name, value=float(value))
