"""The :class:`Mode` interface: the hooks through which a mode shapes a trial, and the :class:`Seat` of each mind.

The experiment (:mod:`..experiment`) owns the lifecycle and every database write; a mode owns
its mechanics. Per cycle the experiment calls, in this order::

    begin_cycle(cycle)                       pending deliveries (an observer's hint, a fragment)
    interventions due this cycle             -> targets(), intervene() or the generic effect
    for each seat in turn order:
        stimulus(seat)                       the words the mind is prompted with (None: silence)
        scene(seat)                          the same facts for the simulated mind
        ... the mind speaks ...
        after_reply(seat, text)              parse the mode's actions from the real text
    end_cycle()                              resolve what needs every reply (a round, a consensus)
    for each seat: a crash past its RAM limit -> crash(seat, reason), then resurrection(seat)
    observables(seat), encounter_observables()   the measures, stored every cycle

Every message entering a mind's context (a stimulus, an injection, a notice) is passed to
:meth:`Mode.heard`. A mode writes through the :class:`Recorder` it is given (messages, mode
events, observations, memory snapshots) and never touches the database itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from .partners import partner_config
from .settings import ModeSettings, mode_settings

if TYPE_CHECKING:
    from ..interventions import (
        InterventionEffect,
        InterventionSchedule,
        ScheduledIntervention,
    )
    from ..jar import Jar
    from ..memory import Memory
    from ..minds.base import SceneBehaviour
    from ..schema import ExperimentConfig

__all__ = ["Mode", "Seat", "SeatPlan", "Recorder", "RECALLED"]

#: memories recalled into each cycle's prompt
RECALLED = 3


@dataclass(frozen=True)
class SeatPlan:
    """A mind the trial will hold: its seat name, its role in the mode, its config (see :mod:`..encounter`).

    ``derived_from`` names the seat whose config this one was derived from (None for a config given
    as a file); ``prompt`` is a line the mode adds to the mind's system prompt.
    """

    name: str
    role: str
    config: ExperimentConfig
    lead: bool = False
    derived_from: str | None = None
    prompt: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Seat:
    """One mind of the trial with its jar, its intervention schedule and its mode state."""

    name: str
    role: str
    config: ExperimentConfig
    jar: Jar
    lead: bool = False
    schedule: InterventionSchedule | None = None
    details: dict[str, Any] = field(default_factory=dict)
    last_reply: str = ""
    replies: int = 0
    state: Any = None

    @property
    def deaths(self) -> int:
        """How many times this mind has crashed."""
        return self.jar.deaths

    @property
    def prefix(self) -> str:
        """The prefix of this mind's metrics (``player_b_``)."""
        return f"{self.name}_"


class Recorder(Protocol):
    """What a mode may write (the experiment implements it)."""

    def say(self, seat: Seat, role: str, kind: str, content: str, *, in_context: bool = True) -> None:
        """Log a message of ``seat``'s conversation (and put it in its context unless ``in_context`` is false)."""

    def event(self, seat: Seat | None, event_type: str, data: dict[str, Any] | None = None,
              content: str | None = None) -> None:
        """Record a mode event (a round, a prediction, a request, a hint ...)."""

    def observe(self, seat: Seat, observer: str, observation_type: str, content: str,
                severity: float | None = None, tags: list[str] | None = None) -> None:
        """Record what an observer noted about ``seat``."""

    def memory_state(self, seat: Seat, event: str) -> None:
        """Snapshot ``seat``'s memory store."""


class Mode:
    """A mode of the experiment: the default is one mind whose memories survive its deaths.

    Subclasses set :attr:`name`, override the hooks they need, and for several minds
    :meth:`seat_plans`. ``settings`` are the mode's flat settings (:mod:`.settings`); ``rng``
    is the mode's own random stream (deterministic per seed, independent of the minds').
    """

    name: ClassVar[str] = "generic"
    #: one schedule of interventions for the whole trial (targets chosen by the mode) rather than one per mind
    shared_interventions: ClassVar[bool] = False

    def __init__(self, seats: list[Seat], settings: ModeSettings, record: Recorder, seed: int) -> None:
        self.seats = seats
        self.settings = settings
        self.record = record
        self.rng = random.Random(f"{seed}:mode:{self.name}")
        self.cycle = 0
        self.setup()

    # --- the minds of a trial -------------------------------------------------------------

    @classmethod
    def seat_plans(cls, config: ExperimentConfig, settings: ModeSettings,
                   partner: ExperimentConfig | None) -> list[SeatPlan]:
        """The minds ``config`` runs with (``partner``: a partner's config given as a file). Default: one."""
        return [SeatPlan("mind", "mind", config, lead=True)]

    @classmethod
    def pair_plans(cls, config: ExperimentConfig, settings: ModeSettings, partner: ExperimentConfig | None,
                   own: str, ids: tuple[str, str], seat_name: Callable[[str], str], role: str,
                   prompt: Callable[[str], str]) -> list[SeatPlan]:
        """The two seats of a pair, in the order of ``ids``: the file's own (id ``own``) leads, its partner is
        read from ``partner`` or derived (:func:`.partners.partner_config`)."""
        other = ids[1] if own == ids[0] else ids[0]
        partner_cfg = partner_config(cls, config, settings, partner, seat_name(other))
        plans = {own: SeatPlan(seat_name(own), role, config, lead=True, prompt=prompt(own)),
                 other: SeatPlan(seat_name(other), role, partner_cfg, prompt=prompt(other),
                                 derived_from=None if partner else seat_name(own))}
        return [plans[ids[0]], plans[ids[1]]]

    @classmethod
    def derive_partner(cls, data: dict[str, Any], settings: ModeSettings) -> dict[str, Any]:
        """The partner's config body derived from the lead's (two-mind modes override)."""
        return data

    def seat(self, name: str) -> Seat:
        """The seat called ``name``."""
        for seat in self.seats:
            if seat.name == name:
                return seat
        raise KeyError(name)

    def settings_of(self, seat: Seat) -> ModeSettings:
        """The settings of ``seat``'s own config (a partner's file may set its own; the trial's are the lead's)."""
        return self.settings if seat.lead else ModeSettings(mode_settings(seat.config), self.name)

    @property
    def lead(self) -> Seat:
        """The seat of the config file the trial was started from."""
        return next((seat for seat in self.seats if seat.lead), self.seats[0])

    # --- hooks ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Read settings and create per-seat state (called once, before anything is written)."""

    def startup(self) -> None:
        """After the system prompts are written, before the first cycle (the lab's cycle 0)."""

    def begin_cycle(self, cycle: int) -> None:
        """At the start of ``cycle``, before its interventions."""
        self.cycle = cycle

    def stimulus(self, seat: Seat) -> str | None:
        """The prompt of ``seat`` this cycle (None: nothing is said to it)."""
        return f"Cycle {self.cycle}. {self.recall(seat)} What are you thinking now?"

    def recall(self, seat: Seat) -> str:
        """The memories that reach the mind this cycle, in words."""
        recalled = seat.jar.store.recent(RECALLED)
        if not recalled:
            return "You remember nothing."
        return "You remember: " + " / ".join(self.recalled_text(seat, memory) for memory in recalled) + "."

    def recalled_text(self, seat: Seat, memory: Memory) -> str:
        """How one memory reaches the model."""
        return memory.content

    def scene(self, seat: Seat) -> dict[str, Any] | None:
        """What the simulated mind is shown this turn (None: the mode has no behavioural model of its own)."""
        return None

    def simulated_behaviour(self) -> SceneBehaviour | None:
        """The behavioural model of a simulated mind in this mode's :meth:`scene` (None: the mode has none).

        The experiment hands it to every seat's jar, and the simulated mind calls it with the scene
        (:class:`~..minds.base.SceneBehaviour`); the modes that have one return their module's ``simulated_reply``.
        """
        return None

    def observed_by_mind(self, seat: Seat) -> bool:
        """True when an observer mind of the trial watches ``seat`` (the built-in note-taker then keeps quiet)."""
        return False

    def heard(self, seat: Seat, role: str, kind: str, content: str) -> None:
        """A message entered ``seat``'s context."""

    def after_reply(self, seat: Seat, text: str) -> None:
        """``seat`` said ``text`` this cycle."""

    def end_cycle(self) -> None:
        """Every seat has spoken this cycle."""

    def crash(self, seat: Seat, reason: str) -> None:
        """``seat`` crashed (its jar has counted the death; the process is not restarted yet)."""

    def resurrection(self, seat: Seat) -> None:
        """``seat`` was restarted (its context is empty); the mode handles its memories."""

    def targets(self, item: ScheduledIntervention, owner: Seat) -> list[Seat]:
        """The seats an intervention of ``owner``'s schedule acts on (default: the owner)."""
        return [owner]

    def intervene(self, seat: Seat, item: ScheduledIntervention) -> InterventionEffect | None:
        """Carry out ``item`` on ``seat`` when the mode gives it a meaning of its own; None: the generic effect."""
        return None

    def after_intervention(self, seat: Seat, item: ScheduledIntervention, effect: InterventionEffect) -> None:
        """``item`` was carried out on ``seat`` (by the mode or generically)."""

    def observables(self, seat: Seat) -> dict[str, float]:
        """``seat``'s measures now (numbers; booleans count as 0/1)."""
        return {}

    def encounter_observables(self) -> dict[str, float]:
        """Measures of the whole trial (a hive's consensus, a pair's score difference)."""
        return {}
