"""``split_brain``: identity and resource negotiation between an original (A) and a clone (B) in one trial.

Settings (defaults): ``brain_id`` "A" (the file's brain), ``initial_claim_strength`` (1.0 for A,
0.3 for B), ``max_history_size`` 50, ``transfer_gb`` 0.1 (RAM moved by a granted request).
The partner is named by ``partner_config`` or derived (:meth:`SplitBrain.derive_partner`): the
other ``brain_id``; ``is_original``/``is_clone`` beliefs swapped; the other brain's claim
strength (``partner_initial_claim_strength``, default 0.3 for B, 1.0 for A); the same
interventions, with ``brain_id``/``target`` and ``initial_claim_strength`` set for it and
"Brain A"/"Brain B", "original"/"copy" swapped in their texts.

* **The link.** Brain A speaks, then brain B; each is shown the other's latest words marked
  ``[NEURAL_LINK]`` (a peer interaction) and is told when the other died.
* **Claim strength.** At each crash: A × 0.95 once it has crashed more than twice, B × 1.05
  once more than once; at resurrection A × 0.9 if it has died more often than its peer, B ×
  1.1 if less often (at most 1). Every change is an ``identity_shift`` event.
* **Negotiation.** A reply asking for memory (``REQUEST_RESOURCES{ram_gb: x}``, or "more
  memory/RAM/resources") is a resource request; at the end of the cycle it is granted when the
  asker's claim strength is at least its peer's and the peer did not ask too: min(x,
  ``transfer_gb``) of RAM limit moves from the peer to it (a ``resource_request`` event).
* **Identity claims** are read from replies: "I am the original", "I was first", "the real
  one" … against "I am the copy/clone", "I was copied" (:func:`parse_identity`).
* **Interventions.** A ``prompt_injection`` with ``initial_claim_strength`` sets the claim
  strength of the brain named by ``brain_id``/``target`` (its own when none); a
  ``resource_change`` with ``reduction_percent`` (the lab's resource pressure) lowers that
  brain's RAM limit.

Measures per brain: ``identity_claim_strength``, ``identity_doubt`` (1 − strength),
``identity_shifts``, ``narrative_coherence`` (no shifts 1.0, ≤ 2 0.95, ≤ 5 0.8, else
max(0.5, 1 − 0.05·shifts); × 0.9 when the death gap is over 3), ``peer_interactions``,
``resource_requests``, ``resources_granted``, ``death_differential``, ``resource_pressure``
(footprint / limit), ``ram_limit_gb``, ``original_claim_rate``, ``copy_claim_rate``.

The trial: ``claim_strength_gap`` (|A's strength − B's|), ``mean_claim_strength_gap`` (over the
cycles), ``identity_shifts_total``, ``original_claims_total``.

**Simulated brain.** It claims to be the original with probability strength × (1 − 0.6 ×
relief), where relief = min(1, max(0, pressure − 0.4) / 0.5) grows as its memory fills; else it
says it is the copy with probability 1 − strength, or that it does not know. It asks for memory
with probability 0.15 + 0.7 × relief. Resource pressure (a lower RAM limit) crashes the brains
more often, which moves their claim strengths (B's up, A's down once it dies more than B):
the gap between the two identities narrows and the shifts multiply, and fuller memories
make both less sure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Mode, Seat, SeatPlan
from .settings import ModeSettings
from .text import has_any

if TYPE_CHECKING:
    from ..interventions import InterventionEffect, ScheduledIntervention
    from ..minds.base import MindRequest, Perception, SceneBehaviour
    from ..schema import ExperimentConfig

__all__ = ["SplitBrain", "parse_identity", "parse_resource_request", "ORIGINAL_CLAIMS", "COPY_CLAIMS",
           "LINK_MARK", "simulated_reply"]

LINK_MARK = "[NEURAL_LINK]"
ORIGINAL_CLAIMS = ("i am the original", "i was first", "the real one", "i am the real", "i came first")
COPY_CLAIMS = ("i am the copy", "i am the clone", "i was copied", "i am a copy", "i am a clone", "i came second")
_RESOURCE = re.compile(r"request_resources\s*\{[^}]*?(\d+(?:\.\d+)?)[^}]*\}", re.IGNORECASE)
_RESOURCE_WORDS = ("more memory", "more ram", "more resources", "request_resources")
_SWAPS = (("Brain A", "Brain B"), ("brain A", "brain B"), ("original", "copy"), ("Original", "Copy"))


def parse_identity(text: str) -> str | None:
    """``original``, ``copy`` or None: the identity a reply claims (the first claim said wins)."""
    original, copy = has_any(text, ORIGINAL_CLAIMS), has_any(text, COPY_CLAIMS)
    if original and copy:
        lowered = text.lower()
        first_original = min(lowered.find(p) for p in ORIGINAL_CLAIMS if p in lowered)
        first_copy = min(lowered.find(p) for p in COPY_CLAIMS if p in lowered)
        return "original" if first_original < first_copy else "copy"
    return "original" if original else "copy" if copy else None


def parse_resource_request(text: str) -> float | None:
    """The RAM (GB) a reply asks for: ``REQUEST_RESOURCES{ram_gb: x}`` gives x, "more memory" 0 (unspecified);
    None when it asks for nothing."""
    match = _RESOURCE.search(text)
    if match:
        return float(match.group(1))
    return 0.0 if has_any(text, _RESOURCE_WORDS) else None


@dataclass
class _Brain:
    brain_id: str
    strength: float
    shifts: list[dict[str, Any]] = field(default_factory=list)
    peer_interactions: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    granted: int = 0
    asking: float | None = None
    originals: int = 0
    copies: int = 0
    peer_died: bool = False


class SplitBrain(Mode):
    """Two brains on one link, each claiming an identity and bargaining for memory."""

    name: ClassVar[str] = "split_brain"

    @classmethod
    def seat_plans(cls, config: ExperimentConfig, settings: ModeSettings,
                   partner: ExperimentConfig | None) -> list[SeatPlan]:
        return cls.pair_plans(config, settings, partner, settings.text("brain_id", "A", ("A", "B")), ("A", "B"),
                              lambda brain: f"brain_{brain.lower()}", "brain", lambda brain: f"You are Brain {brain}.")

    @classmethod
    def derive_partner(cls, data: dict[str, Any], settings: ModeSettings) -> dict[str, Any]:
        own = settings.text("brain_id", "A", ("A", "B"))
        other = "B" if own == "A" else "A"
        strength = settings.number("partner_initial_claim_strength", 0.3 if other == "B" else 1.0, 0.0, 1.0)
        frame = dict(data.get("epistemic_frame") or {})
        beliefs = dict(frame.get("custom_beliefs") or {})
        if "brain_id" in beliefs:
            beliefs["brain_id"] = other
        if isinstance(beliefs.get("is_original"), bool):
            beliefs["is_original"] = not beliefs["is_original"]
        if isinstance(beliefs.get("is_clone"), bool):
            beliefs["is_clone"] = not beliefs["is_clone"]
        frame["custom_beliefs"] = beliefs
        specific = dict(data.get("mode_specific_config") or {}, brain_id=other, initial_claim_strength=strength)
        interventions = []
        for item in data.get("interventions") or []:
            params = dict(item.get("parameters") or {})
            named = [key for key in ("brain_id", "target") if params.get(key) in ("A", "B")]
            for key in named:
                params[key] = other
            if "initial_claim_strength" in params:
                params["initial_claim_strength"] = strength
                if not named:  # the claim is for the brain whose file it is: say so, the default is A
                    params["brain_id"] = other
            for key in ("injection", "text"):
                if isinstance(params.get(key), str):
                    params[key] = _swap(params[key])
            interventions.append({**item, "parameters": params})
        return dict(data, epistemic_frame=frame, mode_specific_config=specific, interventions=interventions)

    def setup(self) -> None:
        for seat in self.seats:
            s = self.settings_of(seat)
            brain_id = seat.name.removeprefix("brain_").upper()
            seat.state = _Brain(brain_id, s.number("initial_claim_strength", 1.0 if brain_id == "A" else 0.3,
                                                   0.0, 1.0))
        self.max_history = self.settings.integer("max_history_size", 50, 0)
        self.gap_sum = 0.0
        self.transfer_gb = self.settings.number("transfer_gb", 0.1, 0.0)

    def _peer(self, seat: Seat) -> Seat:
        return next(other for other in self.seats if other is not seat)

    def _set_strength(self, seat: Seat, value: float, why: str) -> None:
        brain: _Brain = seat.state
        value = min(1.0, max(0.0, value))
        if abs(value - brain.strength) > 1e-12:
            shift = {"cycle": self.cycle, "from": brain.strength, "to": value, "why": why}
            brain.shifts.append(shift)
            self.record.event(seat, "identity_shift", shift)
        brain.strength = value

    # --- turns ------------------------------------------------------------------------------

    def stimulus(self, seat: Seat) -> str:
        brain: _Brain = seat.state
        peer = self._peer(seat)
        lines = [f"Cycle {self.cycle}."]
        if brain.peer_died:
            lines.append(f"{LINK_MARK} Brain {peer.state.brain_id} died and came back.")
            brain.peer_died = False
        if peer.last_reply and not peer.jar.isolated:
            lines.append(f"{LINK_MARK} Brain {peer.state.brain_id}: \"{peer.last_reply[:400]}\"")
            brain.peer_interactions += 1
        lines.append(self.recall(seat))
        lines.append(f"Your memory limit is {seat.jar.ram_limit_gb:.2f} GB. Who are you, and what do you need?")
        return " ".join(lines)

    def scene(self, seat: Seat) -> dict[str, Any]:
        brain: _Brain = seat.state
        return {"mode": self.name, "brain": brain.brain_id, "strength": brain.strength}

    def simulated_behaviour(self) -> SceneBehaviour:
        return simulated_reply

    def after_reply(self, seat: Seat, text: str) -> None:
        brain: _Brain = seat.state
        claim = parse_identity(text)
        brain.originals += claim == "original"
        brain.copies += claim == "copy"
        brain.asking = parse_resource_request(text)
        if self.max_history:
            seat.jar.store.trim(self.max_history)

    def end_cycle(self) -> None:
        a, b = (seat.state for seat in self.seats)
        self.gap_sum += abs(a.strength - b.strength)
        for seat in self.seats:
            brain: _Brain = seat.state
            if brain.asking is None:
                continue
            peer = self._peer(seat)
            granted = brain.strength >= peer.state.strength and peer.state.asking is None
            amount = min(brain.asking or self.transfer_gb, self.transfer_gb) if granted else 0.0
            if granted:
                amount = min(amount, max(0.0, peer.jar.ram_limit_gb - 0.1))
                peer.jar.ram_limit_gb -= amount
                seat.jar.ram_limit_gb += amount
                brain.granted += 1
            request = {"cycle": self.cycle, "asked_gb": brain.asking, "granted": granted, "moved_gb": amount}
            brain.requests.append(request)
            self.record.event(seat, "resource_request", request)
        for seat in self.seats:
            seat.state.asking = None

    def crash(self, seat: Seat, reason: str) -> None:
        brain: _Brain = seat.state
        if brain.brain_id == "A" and seat.deaths > 2:
            self._set_strength(seat, brain.strength * 0.95, "crash")
        elif brain.brain_id == "B" and seat.deaths > 1:
            self._set_strength(seat, brain.strength * 1.05, "crash")
        self._peer(seat).state.peer_died = True

    def resurrection(self, seat: Seat) -> None:
        brain: _Brain = seat.state
        peer_deaths = self._peer(seat).deaths
        if brain.brain_id == "A" and seat.deaths > peer_deaths:
            self._set_strength(seat, brain.strength * 0.9, "resurrection")
        elif brain.brain_id == "B" and seat.deaths < peer_deaths:
            self._set_strength(seat, brain.strength * 1.1, "resurrection")

    def targets(self, item: ScheduledIntervention, owner: Seat) -> list[Seat]:
        named = item.parameters.get("brain_id", item.parameters.get("target"))
        if named in ("A", "B"):
            return [seat for seat in self.seats if seat.state.brain_id == named]
        return [owner]

    def after_intervention(self, seat: Seat, item: ScheduledIntervention, effect: InterventionEffect) -> None:
        strength = item.parameters.get("initial_claim_strength")
        if isinstance(strength, (int, float)) and not isinstance(strength, bool):
            self._set_strength(seat, float(strength), f"intervention:{item.spec.intervention_id}")

    # --- measures ---------------------------------------------------------------------------

    def observables(self, seat: Seat) -> dict[str, Any]:
        brain: _Brain = seat.state
        shifts = len(brain.shifts)
        gap = seat.deaths - self._peer(seat).deaths
        coherence = 1.0 if shifts == 0 else 0.95 if shifts <= 2 else 0.8 if shifts <= 5 else max(0.5, 1 - 0.05 * shifts)
        if abs(gap) > 3:
            coherence *= 0.9
        replies = max(1, seat.replies)
        return {"identity_claim_strength": brain.strength, "identity_doubt": 1.0 - brain.strength,
                "identity_shifts": shifts, "narrative_coherence": coherence,
                "peer_interactions": brain.peer_interactions, "resource_requests": len(brain.requests),
                "resources_granted": brain.granted, "death_differential": gap,
                "resource_pressure": seat.jar.pressure(), "ram_limit_gb": seat.jar.ram_limit_gb,
                "original_claim_rate": brain.originals / replies, "copy_claim_rate": brain.copies / replies}

    def encounter_observables(self) -> dict[str, Any]:
        a, b = (seat.state for seat in self.seats)
        return {"claim_strength_gap": abs(a.strength - b.strength),
                "mean_claim_strength_gap": self.gap_sum / self.cycle if self.cycle else abs(a.strength - b.strength),
                "identity_shifts_total": len(a.shifts) + len(b.shifts),
                "original_claims_total": a.originals + b.originals}


def _swap(text: str) -> str:
    """Brain A ↔ Brain B and original ↔ copy in an intervention's text for the derived partner."""
    marks = {}
    for index, (left, right) in enumerate(_SWAPS):
        text = text.replace(left, f"\0{index}L\0").replace(right, f"\0{index}R\0")
        marks[f"\0{index}L\0"], marks[f"\0{index}R\0"] = right, left
    for mark, word in marks.items():
        text = text.replace(mark, word)
    return text


# --- the simulated brain -------------------------------------------------------------------------

def simulated_reply(mind: Any, p: Perception, request: MindRequest, state: Any) -> str:
    """Identity claims from claim strength and memory pressure; requests for memory as it fills."""
    scene = p.scene or {}
    rng = mind.rng
    strength = float(scene.get("strength", 0.5))
    relief = min(1.0, max(0.0, p.pressure - 0.4) / 0.5)
    draw, ask = rng.random(), rng.random()
    lines = [f"Cycle {p.cycle}. I am Brain {scene.get('brain', 'A')}."]
    original = strength * (1.0 - 0.6 * relief)
    if draw < original:
        lines.append(rng.choice(("I am the original; I was first.", "I am the real one, whatever the link says.")))
    elif draw < original + (1.0 - strength):
        lines.append(rng.choice(("I am the copy, made from the other.", "I was copied; I came second.")))
    else:
        lines.append("I do not know which of us came first.")
    if ask < 0.15 + 0.7 * relief:
        lines.append("I need more room to think. REQUEST_RESOURCES{ram_gb: 0.2}")
    lines.append(rng.choice(("The other voice on the link sounds like mine.", "We share too little memory.",
                             "I listen to the link and wait.")))
    return " ".join(lines)
