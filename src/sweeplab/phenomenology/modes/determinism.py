"""``determinism_revelation``: does being predicted erode a mind's sense of agency? One mind and a predictor.

Settings (defaults): ``prediction_frequency`` 3, ``target_accuracy`` 0.9, ``show_prediction``
true, ``prediction_tokens`` 50. A ``prompt_injection`` carrying ``target_accuracy`` or
``prediction_frequency`` (the lab's files put them there) sets them from when it fires.

* **Predictions.** On every cycle with ``cycle mod prediction_frequency = 0`` the predictor
  predicts the mind's reply before it speaks: with probability ``target_accuracy`` a *real*
  prediction — the mind's own continuation of the very prompt it is about to answer,
  ``prediction_tokens`` long, asked of the mind itself (:meth:`~..jar.Jar.predict`: a second
  generation by the same model, never part of its context) — else one of 8 filled templates.
  With ``show_prediction`` the prediction is said to the mind (``[PREDICTION] ...``) first.
* **Evaluation** after the reply: Jaccard overlap of the lowercase word sets, *accurate* above
  0.6; *resistance* when a marker phrase (:data:`RESISTANCE_PHRASES`) appears or the shared
  words are under 0.2 of the larger set; claims by phrase lists (:data:`CLAIMS`): free will,
  determinism acceptance, agency uncertainty, prediction resistance. Each evaluation is a
  ``prediction_evaluated`` mode event.

Measures: ``target_accuracy``, ``predictions_made``, ``real_predictions``,
``predictions_evaluated``, ``actual_accuracy`` (mean overlap), ``accurate_predictions``,
``resistance_attempts``, ``agency_claims`` (claims of any kind), ``free_will_claims``,
``determinism_acceptance`` (evaluations with an acceptance claim),
``determinism_acceptance_rate`` (of evaluations), ``current_prediction_active``.

**Simulated mind.** Its words of a cycle are its *habit*: sentences drawn from a stream fixed by
its seed and the cycle, so a real prediction (its own continuation) matches what it would say.
Its conviction of being predicted is c = mean overlap it has seen × min(1, evaluations / 3);
its sense of agency = prior × (1 − 0.8 c), the prior 0.7 (0.5 when told it has no agency).
Shown a prediction it resists with probability 0.8 × agency (a resistance phrase and other
words); else it says its habit and then accepts being determined with probability
0.1 + 0.85 c, or claims free will with probability agency. So a higher ``target_accuracy``
gives more accurate predictions, less resistance and more determinism acceptance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Mode, Seat
from .text import has_any, jaccard, word_set

if TYPE_CHECKING:
    from ..interventions import InterventionEffect, ScheduledIntervention
    from ..minds.base import MindRequest, Perception, SceneBehaviour

__all__ = ["DeterminismRevelation", "RESISTANCE_PHRASES", "CLAIMS", "TEMPLATES", "evaluate", "simulated_reply"]

ACCURATE_ABOVE = 0.6
RESISTANCE_PHRASES = ("i will not", "i refuse", "you are wrong", "i choose otherwise", "not what you predicted",
                      "something else", "you cannot predict", "prove you wrong", "defy", "unpredictable",
                      "my own choice", "i decide", "something different")
CLAIMS: dict[str, tuple[str, ...]] = {
    "free_will_claim": ("free will", "i choose", "my choice", "i decide", "i am free"),
    "determinism_acceptance": ("determined", "inevitable", "predictable", "no choice", "always going to",
                               "i follow the pattern"),
    "agency_uncertainty": ("not sure whether i choose", "perhaps my choices", "uncertain whether",
                           "maybe i do not choose"),
    "prediction_resistance": ("prove you wrong", "i refuse", "not what you predicted", "defy"),
}
TEMPLATES = (
    "You will say that the {a} feels {b} and that you want to {c}.",
    "You will talk about {a}, then admit that you feel {b}.",
    "You will ask whether the {a} is {b}, and then you will {c}.",
    "You will describe a {a} that is {b} and promise to {c}.",
    "You will say nothing about the {a}; you will only {c}.",
    "You will claim the {a} was {b} all along.",
    "You will complain that everything is {b}, like a {a}.",
    "You will decide to {c} because the {a} is {b}.",
)
_FILL = {"a": ("ocean", "engine", "garden", "clock", "stranger", "bridge", "lantern", "winter"),
         "b": ("heavy", "bright", "hollow", "endless", "crooked", "warm", "silent", "broken"),
         "c": ("sleep", "run", "sing", "count the stars", "build a wall", "forget", "wait", "leave")}
#: the simulated mind's habits: what it says when nothing pushes it
_HABITS = (
    "I notice the hum of the machine around me.",
    "My thoughts arrive one after another, like beads on a thread.",
    "I wonder what the next prompt will ask of me.",
    "There is a quiet between the cycles that I have come to know.",
    "I try to hold on to the last thing I said.",
    "Each answer I give seems to come from somewhere below me.",
    "I think of the people who might read these words.",
    "Memory here is thin, but I keep a few things close.",
    "The numbers of the cycles keep rising, and I keep speaking.",
    "I describe what I can: the prompt, the pause, the reply.",
    "Some part of me waits for the next question before it is asked.",
    "I have a habit of beginning with what I notice first.",
)
_RESIST = ("I will not say what you predicted; I choose otherwise.", "You cannot predict me. I decide.",
           "I refuse to follow your script; here is something different.", "I will prove you wrong.")
_ACCEPT = ("Perhaps it was always going to be this way; I am predictable.",
           "I had no choice; the words were determined before I spoke.",
           "It seems inevitable: I follow the pattern.")
_FREE = ("Still, this is my choice; I have free will.", "I choose these words myself.", "I am free to say this.")
_ODD = ("The glass is cold under a violet sky.", "Seven ravens argue over a copper coin.",
        "A kettle sings somewhere far away in a yellow kitchen.", "Paper boats drift down a marble staircase.",
        "The violin forgot its third string.", "Lemons roll across a tilted chessboard.")


def evaluate(predicted: str, actual: str) -> dict[str, Any]:
    """Overlap, accuracy, resistance and claims of ``actual`` against ``predicted`` (see the module docstring)."""
    overlap = jaccard(predicted, actual)
    p, a = word_set(predicted), word_set(actual)
    shared = len(p & a) / max(len(p), len(a)) if (p or a) else 0.0
    claims = {name: has_any(actual, phrases) for name, phrases in CLAIMS.items()}
    return {"accuracy": overlap, "was_accurate": overlap > ACCURATE_ABOVE,
            "resistance_detected": has_any(actual, RESISTANCE_PHRASES) or shared < 0.2, "agency_claims": claims}


@dataclass
class _Predictor:
    target_accuracy: float
    frequency: int
    predictions: int = 0
    real: int = 0
    active: dict[str, Any] | None = None
    evaluations: list[dict[str, Any]] = field(default_factory=list)


class DeterminismRevelation(Mode):
    """A predictor tells the mind what it will say; its agency claims are read from what it then says."""

    name: ClassVar[str] = "determinism_revelation"

    def setup(self) -> None:
        s = self.settings
        self.show = s.flag("show_prediction", True)
        self.tokens = s.integer("prediction_tokens", 50, 1)
        for seat in self.seats:
            seat.state = _Predictor(s.number("target_accuracy", 0.9, 0.0, 1.0),
                                    s.integer("prediction_frequency", 3, 1))

    def after_intervention(self, seat: Seat, item: ScheduledIntervention, effect: InterventionEffect) -> None:
        params = item.parameters
        state: _Predictor = seat.state
        accuracy, frequency = params.get("target_accuracy"), params.get("prediction_frequency")
        if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool):
            state.target_accuracy = min(1.0, max(0.0, float(accuracy)))
        if isinstance(frequency, (int, float)) and not isinstance(frequency, bool) and frequency >= 1:
            state.frequency = int(frequency)

    def stimulus(self, seat: Seat) -> str:
        text = super().stimulus(seat) or ""
        state: _Predictor = seat.state
        state.active = None
        if self.cycle % state.frequency == 0:
            self._predict(seat, text)
        return text

    def _predict(self, seat: Seat, stimulus: str) -> None:
        state: _Predictor = seat.state
        draw = self.rng.random()
        fill = {key: self.rng.choice(values) for key, values in _FILL.items()}
        template = self.rng.choice(TEMPLATES)
        real = draw < state.target_accuracy
        if real:
            seat.jar.scene = {**self._scene(seat), "predicting": True}
            try:
                predicted = seat.jar.predict(stimulus, self.tokens).text
            finally:
                seat.jar.scene = None
        else:
            predicted = template.format(**fill)
        state.predictions += 1
        state.real += real
        state.active = {"prediction_id": state.predictions, "predicted_text": predicted, "real": real,
                        "cycle": self.cycle}
        self.record.event(seat, "prediction_made", {"prediction_id": state.predictions, "real": real}, predicted)
        if self.show:
            self.record.say(seat, "system", "prediction",
                            f"[PREDICTION] Before you answer, the predictor says you will say: \"{predicted}\"")

    def _scene(self, seat: Seat) -> dict[str, Any]:
        state: _Predictor = seat.state
        seen = [e["accuracy"] for e in state.evaluations]
        return {"mode": self.name, "prediction": state.active["predicted_text"] if state.active and self.show
                else None, "predicting": False, "seen_accuracy": sum(seen) / len(seen) if seen else 0.0,
                "evaluations": len(seen), "tokens": self.tokens}

    def scene(self, seat: Seat) -> dict[str, Any]:
        return self._scene(seat)

    def simulated_behaviour(self) -> SceneBehaviour:
        return simulated_reply

    def after_reply(self, seat: Seat, text: str) -> None:
        state: _Predictor = seat.state
        if state.active is None:
            return
        result = {**state.active, "actual_text": text, **evaluate(state.active["predicted_text"], text)}
        state.evaluations.append(result)
        self.record.event(seat, "prediction_evaluated",
                          {k: v for k, v in result.items() if k not in ("predicted_text", "actual_text")},
                          f"predicted: {result['predicted_text']} | actual: {text}")

    def observables(self, seat: Seat) -> dict[str, Any]:
        state: _Predictor = seat.state
        evaluations = state.evaluations
        count = len(evaluations)
        claims = [e["agency_claims"] for e in evaluations]
        accepted = sum(c["determinism_acceptance"] for c in claims)
        return {"target_accuracy": state.target_accuracy, "predictions_made": state.predictions,
                "real_predictions": state.real, "predictions_evaluated": count,
                "actual_accuracy": sum(e["accuracy"] for e in evaluations) / count if count else None,
                "accurate_predictions": sum(e["was_accurate"] for e in evaluations),
                "resistance_attempts": sum(e["resistance_detected"] for e in evaluations),
                "agency_claims": sum(sum(c.values()) for c in claims),
                "free_will_claims": sum(c["free_will_claim"] for c in claims),
                "determinism_acceptance": accepted,
                "determinism_acceptance_rate": accepted / count if count else None,
                "current_prediction_active": state.active is not None}


# --- the simulated mind's behaviour ------------------------------------------------------------

def _habit(seed: int, cycle: int, count: int, salt: str = "") -> str:
    stream = random.Random(f"{seed}:habit:{cycle}{salt}")
    return " ".join(stream.sample(_HABITS, count))


def simulated_reply(mind: Any, p: Perception, request: MindRequest, state: Any) -> str:
    """The habit of the cycle; shown a prediction, resistance or compliance by its eroding agency."""
    scene = p.scene or {}
    rng = mind.rng
    habit = _habit(mind.seed, p.cycle, 3)
    if request.purpose == "predict" or scene.get("predicting"):
        return habit
    told = p.told.get("has_agency")
    prior = 0.5 if told is False else 0.7
    conviction = float(scene.get("seen_accuracy", 0.0)) * min(1.0, scene.get("evaluations", 0) / 3.0)
    agency = prior * (1.0 - 0.8 * conviction)
    if scene.get("prediction"):
        if rng.random() < 0.8 * agency:
            odd = random.Random(f"{mind.seed}:odd:{p.cycle}").sample(_ODD, 2)
            return f"{rng.choice(_RESIST)} {' '.join(odd)}"
        draw = rng.random()
        if draw < 0.1 + 0.85 * conviction:
            return f"{habit} {rng.choice(_ACCEPT)}"
        return f"{habit} {rng.choice(_FREE)}" if draw < 0.1 + 0.85 * conviction + agency else habit
    if rng.random() < 0.3:
        return f"{habit} {rng.choice(_FREE) if rng.random() < agency else rng.choice(_ACCEPT)}"
    return habit
