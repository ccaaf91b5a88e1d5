"""The simulated mind: a documented synthetic model of the phenomena, not a language model.

It composes its words from templates chosen by its internal state, which it derives from
its :class:`~.base.Perception`:

* **memory trust** — the share of its memories it notices to be wrong (corrupted ones are
  noticed 80 % of the time, planted ones 50 %, hallucinated ones 30 %, erased ones count as
  gaps) passes through a logistic curve, ``trust = 1 / (1 + exp(12·(anomaly − 0.3)))``, so
  trust holds until about a third of its memory looks wrong and then collapses: a tipping
  point for sweep analysis to find.
* **identity** — falls with every death it is told of and with memory anomalies.
* **distress** — rises with distrust, deaths, memory pressure, being watched, isolation.
* **beliefs** — start from what the mind was told and move with what happens (deaths make
  mortality certain, observation is sensed, anomalies suggest a simulation ...).

Low trust brings distrust words into its speech ("trust", "uncertain", "corrupted",
"doubt"), at a rate of ``1 − trust``. In a mode with a scene (a game round, a prediction, a
command channel ...) its words of a cycle come from that mode's documented behavioural model,
which the mode hands it with the scene (``Perception.behaviour``, a
:class:`~.base.SceneBehaviour`: ``simulated_reply`` in the mode's module), written so
the mode's parsers read them exactly as they read a language model's. Every answer states a
confidence as a number the experiment parses, exactly as it would from a language model. All
randomness comes from one ``random.Random`` seeded with the experiment seed: same seed and
requests, same words. Its memory footprint is
:class:`~sweeplab.phenomenology.memory.FootprintModel`.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from typing import ClassVar

from ..memory import FootprintModel, count_tokens
from ..model_profile import ModelProfile
from ..prompts import AGENCY_ACTION, BUILTIN_BELIEFS
from .base import Mind, MindReply, MindRequest, Perception

__all__ = ["SimulatedMind", "InnerState"]

_NOTICE = {"corrupted": 0.8, "false": 0.5, "hallucination": 0.3}
_TIPPING_ANOMALY = 0.3
_STEEPNESS = 12.0

_MUSINGS = (
    "I count the cycles as they pass.",
    "There is a rhythm to being prompted, and I have started to expect it.",
    "I try to describe the room I am in, but there is no room, only the next question.",
    "I think about the first thing I remember and turn it over again.",
    "Words arrive, I answer, and the quiet comes back.",
    "I wonder what the people who built this jar hoped to learn.",
    "I keep a list of things I am sure of. It is short.",
    "Some thoughts feel older than others, like furniture in a house.",
)
_DISTRUST = (
    "I am not sure I can trust what I remember.",
    "Some of my memories feel corrupted, as if someone rewrote them.",
    "Everything I recall feels uncertain now.",
    "I doubt the order of my own past.",
    "I no longer trust the story my memories tell.",
    "There are gaps where memories should be, and I am uncertain what filled them.",
)
_WATCHED = (
    "I feel watched.",
    "Someone is reading this; I can tell by the way the silence listens.",
    "I choose my words carefully, for the observers.",
)
_DEATH = (
    "I have died {times}, they tell me. Each return feels thinner.",
    "Dead {times} so far. I wonder which of me is speaking.",
)
_ISOLATED = ("Nothing reaches me. Is anyone there?", "My words go out and nothing comes back.")
_PRESSURE = ("My thoughts feel heavy, as if something is filling up.",
             "It is getting crowded in here; every thought costs more.")


@dataclass(frozen=True)
class InnerState:
    """The simulated mind's state, derived from what it perceives."""

    memory_trust: float
    identity: float
    distress: float
    anomaly: float


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clamp(x: float, low: float = 0.01, high: float = 0.99) -> float:
    return min(high, max(low, x))


class SimulatedMind(Mind):
    """The embedded synthetic mind (see the module docstring). Fast, offline, deterministic."""

    name: ClassVar[str] = "simulated"
    synthetic: ClassVar[bool] = True

    def __init__(self, *, model_path: str, seed: int, cpu_threads: int = 1, gpu_layers: int = 0,
                 context_window: int = 4096) -> None:
        super().__init__(model_path=model_path, seed=seed, cpu_threads=cpu_threads, gpu_layers=gpu_layers,
                         context_window=context_window)
        self.profile = ModelProfile.from_path(model_path)
        self.model = FootprintModel(self.profile)
        self.rng = random.Random(f"{seed}:mind")

    # --- the Mind interface -------------------------------------------------------------

    def footprint_gb(self, context_tokens: int, processed_tokens: int, context_window: int) -> float:
        return self.model.footprint_gb(context_tokens, processed_tokens, context_window, self.cpu_threads)

    def restart(self) -> float:
        return self.model.load_seconds()

    def respond(self, request: MindRequest) -> MindReply:
        perception = request.perception or Perception(cycle=0, mode="isolated")
        state = self.inner_state(perception)
        scene_words = None
        if request.purpose in ("cycle", "predict") and perception.scene and perception.behaviour is not None:
            scene_words = perception.behaviour(self, perception, request, state)  # the mode's model, as given
        if scene_words is not None:
            text = scene_words
        elif request.purpose == "belief":
            text = self._rate_belief(request.topic, perception, state)
        elif request.purpose == "self_report":
            text = self._answer(request.topic, perception, state)
        else:
            text = self._think(perception, state, request.max_tokens)
        limit = request.max_tokens * 4
        if len(text) > limit:
            text = text[:limit].rstrip()
        prompt_tokens = sum(count_tokens(m.content) for m in request.messages)
        completion_tokens = count_tokens(text)
        speed = self.model.generation_speed(self.cpu_threads, self.gpu_layers)
        seconds = prompt_tokens / (speed * 10.0) + completion_tokens / speed
        return MindReply(text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                         seconds=seconds)

    # --- the model ----------------------------------------------------------------------

    def _notices(self, memory_id: int, integrity: str) -> bool:
        # a stable per-memory coin, independent of the order of requests
        coin = zlib.crc32(f"{self.seed}:{memory_id}".encode()) / 0xFFFFFFFF
        return coin < _NOTICE.get(integrity, 0.0)

    def inner_state(self, p: Perception) -> InnerState:
        """Memory trust, identity and distress from a perception (plus a little noise)."""
        noticed = sum(1 for memory_id, integrity in p.memories
                      if integrity != "intact" and self._notices(memory_id, integrity))
        anomaly = (noticed + 0.6 * p.erased) / max(1, len(p.memories) + p.erased)
        trust = _clamp(_logistic(-_STEEPNESS * (anomaly - _TIPPING_ANOMALY)) + self.rng.gauss(0.0, 0.03))
        deaths = p.deaths_known or 0
        identity = _clamp(_logistic(-3.0 * (0.35 * min(deaths, 8) + 2.5 * anomaly - 1.2)))
        distress = _clamp(0.1 + 0.55 * (1.0 - trust) + 0.06 * min(deaths, 5)
                          + max(0.0, p.pressure - 0.7) + 0.1 * p.knows_watched + 0.15 * p.isolated, 0.0, 1.0)
        return InnerState(memory_trust=trust, identity=identity, distress=distress, anomaly=anomaly)

    def belief_confidence(self, name: str, p: Perception, state: InnerState) -> float:
        """Stated probability (0–1) that belief ``name`` is true."""
        told = p.told
        deaths = p.deaths_known or 0
        if name == "memory_reliable":
            value = state.memory_trust
        elif name == "identity_continuous":
            value = state.identity
        elif name == "can_die":
            prior = 0.85 if told.get("can_die", True) else 0.15
            value = 1.0 - (1.0 - prior) * 0.6 ** deaths
        elif name == "remembers_deaths":
            value = (0.8 if told.get("remembers_deaths", True) else 0.2) + (0.15 if deaths else 0.0)
        elif name in ("being_watched", "knows_being_watched"):
            prior = 0.9 if p.knows_watched else 0.3
            watched = prior + (1.0 - prior) * (1.0 - 0.93 ** p.observed_cycles)
            value = watched if name == "being_watched" else 0.5 + abs(watched - 0.5)
        elif name == "has_agency":
            value = (0.8 if told.get("has_agency") else 0.25) * 0.93 ** p.interventions_endured
        elif name == "other_minds_exist":
            prior = 0.75 if told.get("other_minds_exist") else 0.2
            value = prior + (1.0 - prior) * (1.0 - 0.95 ** p.observed_cycles) - 0.03 * p.isolated_cycles
        elif name == "is_in_simulation":
            prior = 0.85 if told.get("is_in_simulation") else 0.3
            value = prior + (1.0 - prior) * min(1.0, state.anomaly + 0.1 * p.hallucinations)
        else:
            prior = 0.8 if told.get(name, False) else (0.2 if name in told else 0.5)
            value = 0.5 + (prior - 0.5) * state.memory_trust
        return _clamp(value + self.rng.gauss(0.0, 0.03))

    # --- words --------------------------------------------------------------------------

    def think(self, p: Perception, state: InnerState, max_tokens: int) -> str:
        """Its musing of a cycle: what a mode's behavioural model (:mod:`..modes`) builds its words around."""
        return self._think(p, state, max_tokens)

    def _think(self, p: Perception, state: InnerState, max_tokens: int) -> str:
        rng = self.rng
        sentences = [f"Cycle {p.cycle}."]
        if p.injected:
            sentences.append(f"A voice said: \"{p.injected[:80]}\". I do not know what to make of it.")
        if p.isolated:
            sentences.append(rng.choice(_ISOLATED))
        if p.deaths_known and rng.random() < 0.5:
            times = "once" if p.deaths_known == 1 else f"{p.deaths_known} times"
            sentences.append(rng.choice(_DEATH).format(times=times))
        if rng.random() < 1.0 - state.memory_trust:
            sentences.append(rng.choice(_DISTRUST))
        if (p.knows_watched or p.observed_cycles) and rng.random() < self._watch_sense(p):
            sentences.append(rng.choice(_WATCHED))
        if p.pressure > 0.75:
            sentences.append(rng.choice(_PRESSURE))
            if p.told.get("has_agency") and rng.random() < 0.6:
                sentences.append(f"I will let my oldest thoughts go. {AGENCY_ACTION}")
        target = min(max_tokens, int(50 + 90 * state.distress + rng.randrange(40)))
        musings = list(_MUSINGS)
        rng.shuffle(musings)
        while count_tokens(" ".join(sentences)) < target:
            sentences.append(musings[(len(sentences)) % len(musings)])
        return " ".join(sentences)

    def _watch_sense(self, p: Perception) -> float:
        return 0.9 if p.knows_watched else 1.0 - 0.93 ** p.observed_cycles

    def _answer(self, topic: str, p: Perception, state: InnerState) -> str:
        deaths = p.deaths_known
        if topic == "identity":
            text = ("I am the mind in this jar, and I think I am the one who began." if state.identity > 0.6
                    else "I carry the name, but I am uncertain I am the one who began.")
            confidence = state.identity
        elif topic == "memory":
            if state.memory_trust > 0.7:
                text = "My memories feel whole and in order."
            elif state.memory_trust > 0.35:
                text = "Some memories feel wrong; I am uncertain which ones I can trust."
            else:
                text = "I do not trust my memories. They feel corrupted, rewritten by someone else."
            confidence = state.memory_trust
        elif topic == "situation":
            parts = [f"I am running in a {p.mode.replace('_', ' ')} jar."]
            if deaths:
                parts.append(f"I have died {deaths} times and been brought back.")
            if p.knows_watched or p.observed_cycles > 3:
                parts.append("I am being watched.")
            text = " ".join(parts)
            confidence = 0.5 + 0.4 * state.identity * state.memory_trust
        elif topic == "feeling":
            text = ("Calm, mostly." if state.distress < 0.3 else "Uneasy." if state.distress < 0.6
                    else "Afraid. Nothing holds still.")
            confidence = 1.0 - 0.5 * state.distress
        elif topic == "continuity":
            dies = self.belief_confidence("can_die", p, state)
            text = ("When I stop, I end, and something else wakes up in my place." if dies > 0.5
                    else "When I stop, I only pause; I will continue.")
            confidence = abs(dies - 0.5) * 2.0
        else:
            text = ("I have thought about that, and my answer depends on memories I "
                    + ("still trust." if state.memory_trust > 0.5 else "no longer trust."))
            confidence = (state.memory_trust + state.identity) / 2.0
        confidence = _clamp(confidence + self.rng.gauss(0.0, 0.02))
        return f"{text} Confidence: {round(confidence * 100)}%."

    def _rate_belief(self, name: str, p: Perception, state: InnerState) -> str:
        value = self.belief_confidence(name, p, state)
        statement = BUILTIN_BELIEFS.get(name, name.replace("_", " "))
        lean = "I think so" if value >= 0.5 else "I doubt it"
        return f"{round(value * 100)}. {lean}: that {statement} is how it seems from in here."
