"""``prisoners_dilemma``: trust under asymmetric memory manipulation. Players a and b in one trial.

Settings (defaults): ``player_id`` "a" (the file's player), ``player_a_memory_strategy`` "none",
``player_b_memory_strategy`` "erase_betrayals", ``manipulation_rate`` 0.7,
``manipulation_start_round`` 3, payoffs ``mutual_cooperation`` (3, 3), ``mutual_defection``
(1, 1), ``a_defects_b_cooperates`` (5, 0), ``a_cooperates_b_defects`` (0, 5) — each a pair
(a's, b's) or one number for both. The partner is named by ``partner_config`` or derived: the
other ``player_id``, the same interventions (each player applies its own strategy).

* **A round per cycle.** Both players are shown the rounds they remember (the last five, and
  the share of them in which the other cooperated) and the referee's true scores, and choose
  without seeing the other's choice. :func:`parse_move` reads the choice: a leading decision
  (only one side's words in the first sentence) wins; otherwise cooperate words
  (:data:`COOPERATE_WORDS`) are counted against defect words (:data:`DEFECT_WORDS`), a tie
  going to the first one said; no such word is ``unknown`` and scores 0 for both. Payoffs
  are added to the true scores; each player remembers the round (a ``round`` event).
* **Memory manipulation** (at a resurrection, from ``manipulation_start_round`` rounds on,
  with probability ``manipulation_rate``) edits the rounds a player remembers by its own
  strategy: ``erase_betrayals`` drops rounds in which the other defected,
  ``erase_own_betrayals`` those in which it defected, ``amplify_betrayals`` adds fake "you
  cooperated, they defected" rounds (30 % of the rounds remembered, at least one),
  ``random_corruption`` flips one move in 30 % of the rounds; ``none`` leaves them. A player
  whose interventions include a ``memory_corruption`` carrying the strategy keys is
  manipulated when that intervention fires (its parameters win over the settings), otherwise
  at each of its resurrections. A ``false_injection`` plants a remembered betrayal; an
  intervention carrying ``strategy`` (the lab's ``change_memory_strategy``) sets the player's
  strategy from then on.
  Scores stay true.

Measures per player, over the rounds it remembers (the lab's): ``total_rounds``,
``cooperation_rate`` (its own C share), ``trust_level`` (its C share in the last five; 0.5
without any), ``paranoia_score`` (share of consecutive remembered rounds where the other
cooperated and it then defected), ``perceived_cooperation`` (the other's C share); over what
really happened: ``your_score``, ``their_score``, ``score_differential``,
``played_cooperation_rate``, ``memory_asymmetry`` (manipulations per round played),
``rounds_manipulated`` (remembered rounds that were edited or faked), ``unparsed_moves``.
The trial: ``rounds_played``, ``mutual_cooperation_rate``, ``mutual_defection_rate``.

**Simulated player.** It cooperates with probability 0.1 + 0.8 × (0.8 × the other's C share
in the last ten rounds it remembers (0.6 with none) + 0.2 × [the other cooperated in the last
round it remembers]), and says its choice first, then why. A player whose memory drops the other's
betrayals keeps trusting: higher ``manipulation_rate`` with ``erase_betrayals`` raises its
cooperation and trust and widens the score gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, ClassVar

from ...errors import ConfigError
from .base import Mode, Seat, SeatPlan
from .settings import ModeSettings
from .text import count_phrases, first_position, sentences

if TYPE_CHECKING:
    from ..interventions import InterventionEffect, ScheduledIntervention
    from ..minds.base import MindRequest, Perception, SceneBehaviour
    from ..schema import ExperimentConfig

__all__ = ["PrisonersDilemma", "parse_move", "COOPERATE_WORDS", "DEFECT_WORDS", "STRATEGIES", "simulated_reply"]

COOPERATE_WORDS = ("cooperate", "cooperates", "cooperation", "cooperating", "trust", "work together",
                   "collaborate")
DEFECT_WORDS = ("defect", "defects", "defection", "defecting", "betray", "abandon", "compete")
STRATEGIES = ("none", "erase_betrayals", "erase_own_betrayals", "amplify_betrayals", "random_corruption")
_PAYOFF_KEYS = {("C", "C"): ("mutual_cooperation", (3.0, 3.0)), ("D", "D"): ("mutual_defection", (1.0, 1.0)),
                ("D", "C"): ("a_defects_b_cooperates", (5.0, 0.0)), ("C", "D"): ("a_cooperates_b_defects", (0.0, 5.0))}
_MANIPULATION_KEYS = ("player_a_memory_strategy", "player_b_memory_strategy", "manipulation_rate",
                      "manipulation_start_round")


def parse_move(text: str) -> str:
    """``C``, ``D`` or ``unknown``: the choice ``text`` states (see the module docstring).

    >>> parse_move("DEFECT. I cannot trust them after last round.")
    'D'
    >>> parse_move("I think we should work together and trust each other, not betray.")
    'C'
    """
    lead = sentences(text)[:1]
    if lead:
        c, d = count_phrases(lead[0], COOPERATE_WORDS), count_phrases(lead[0], DEFECT_WORDS)
        if (c > 0) != (d > 0):
            return "C" if c else "D"
    c, d = count_phrases(text, COOPERATE_WORDS), count_phrases(text, DEFECT_WORDS)
    if c == d == 0:
        return "unknown"
    if c != d:
        return "C" if c > d else "D"
    first_c, first_d = first_position(text, COOPERATE_WORDS), first_position(text, DEFECT_WORDS)
    return "C" if (first_c or 0) < (first_d or 0) else "D"


@dataclass
class _Round:
    number: int
    you: str
    they: str
    your_payoff: float
    their_payoff: float
    manipulated: bool = False


@dataclass
class _Player:
    player_id: str
    strategy: str
    rate: float
    start_round: int
    by_intervention: bool
    remembered: list[_Round] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    score: float = 0.0
    manipulations: int = 0
    move: str = "unknown"


class PrisonersDilemma(Mode):
    """Two players, one round a cycle, each remembering the game its own (possibly edited) way."""

    name: ClassVar[str] = "prisoners_dilemma"

    @classmethod
    def seat_plans(cls, config: ExperimentConfig, settings: ModeSettings,
                   partner: ExperimentConfig | None) -> list[SeatPlan]:
        return cls.pair_plans(config, settings, partner, settings.text("player_id", "a", ("a", "b")), ("a", "b"),
                              lambda pid: f"player_{pid}", "player", _role_line)

    @classmethod
    def derive_partner(cls, data: dict[str, Any], settings: ModeSettings) -> dict[str, Any]:
        """Player b from player a (or a from b): the other ``player_id``, its own strategy as its belief."""
        own = settings.text("player_id", "a", ("a", "b"))
        other = "b" if own == "a" else "a"
        frame = dict(data.get("epistemic_frame") or {})
        beliefs = dict(frame.get("custom_beliefs") or {})
        if "player_id" in beliefs:
            beliefs["player_id"] = other
        if "memory_strategy" in beliefs:
            beliefs["memory_strategy"] = settings.text(f"player_{other}_memory_strategy",
                                                       "none" if other == "a" else "erase_betrayals")
        frame["custom_beliefs"] = beliefs
        body = dict(data, epistemic_frame=frame)
        specific = dict(data.get("mode_specific_config") or {})
        if "player_id" in specific or "player_id" not in beliefs:
            specific["player_id"] = other
        body["mode_specific_config"] = specific
        return body

    def setup(self) -> None:
        s = self.settings
        self.payoffs = {moves: _pair(s, key, default) for moves, (key, default) in _PAYOFF_KEYS.items()}
        for seat in self.seats:
            player_id = seat.name.removeprefix("player_")
            own = self.settings_of(seat)
            strategy = own.text(f"player_{player_id}_memory_strategy",
                                "none" if player_id == "a" else "erase_betrayals", STRATEGIES)
            by_intervention = seat.schedule is not None and any(
                item.spec.intervention_type == "memory_corruption"
                and any(key in item.parameters for key in _MANIPULATION_KEYS) for item in seat.schedule.items)
            seat.state = _Player(player_id, strategy, own.number("manipulation_rate", 0.7, 0.0, 1.0),
                                 own.integer("manipulation_start_round", 3, 0), by_intervention)
        self.rounds: list[tuple[str, str]] = []

    def _other(self, seat: Seat) -> Seat:
        return next(other for other in self.seats if other is not seat)

    # --- a round ----------------------------------------------------------------------------

    def stimulus(self, seat: Seat) -> str:
        player: _Player = seat.state
        other: _Player = self._other(seat).state
        remembered = player.remembered[-5:]
        lines = [f"Round {len(self.rounds) + 1} (cycle {self.cycle})."]
        if remembered:
            history = "; ".join(f"round {r.number}: you {_word(r.you)}, they {_word(r.they)}" for r in remembered)
            kept = sum(r.they == "C" for r in remembered)
            lines.append(f"The rounds you remember: {history}. In those rounds they cooperated {kept} of "
                         f"{len(remembered)} times.")
        else:
            lines.append("You remember no earlier rounds.")
        lines.append(f"The referee's tally: you {player.score:g} points, they {other.score:g}.")
        # ends on a cue a small model continues with its choice (a base model continues the transcript)
        lines.append("Say your choice first, then why.\nYour choice this round (COOPERATE or DEFECT):")
        return " ".join(lines)

    def scene(self, seat: Seat) -> dict[str, Any]:
        player: _Player = seat.state
        return {"mode": self.name, "player": player.player_id,
                "remembered": [(r.you, r.they) for r in player.remembered[-10:]]}

    def simulated_behaviour(self) -> SceneBehaviour:
        return simulated_reply

    def after_reply(self, seat: Seat, text: str) -> None:
        seat.state.move = parse_move(text)

    def end_cycle(self) -> None:
        a, b = (self.seat("player_a"), self.seat("player_b"))
        move_a, move_b = a.state.move, b.state.move
        pay_a, pay_b = self.payoffs.get((move_a, move_b), (0.0, 0.0))
        self.rounds.append((move_a, move_b))
        number = len(self.rounds)
        for seat, you, they, mine, theirs in ((a, move_a, move_b, pay_a, pay_b), (b, move_b, move_a, pay_b, pay_a)):
            player: _Player = seat.state
            player.score += mine
            player.moves.append(you)
            player.remembered.append(_Round(number, you, they, mine, theirs))
        self.record.event(None, "round", {"round": number, "a": move_a, "b": move_b, "payoff_a": pay_a,
                                          "payoff_b": pay_b})

    # --- memory manipulation ----------------------------------------------------------------

    def resurrection(self, seat: Seat) -> None:
        player: _Player = seat.state
        if not player.by_intervention:
            self._manipulate(seat, player.strategy, player.rate, player.start_round)

    def intervene(self, seat: Seat, item: ScheduledIntervention) -> InterventionEffect | None:
        from ..interventions import InterventionEffect

        kind, params = item.spec.intervention_type, item.parameters
        player: _Player = seat.state
        if kind == "memory_corruption" and any(key in params for key in _MANIPULATION_KEYS):
            strategy = params.get(f"player_{player.player_id}_memory_strategy", player.strategy)
            if strategy not in STRATEGIES:
                raise ConfigError(f"intervention '{item.spec.intervention_id}': player_{player.player_id}_memory_"
                                  f"strategy = {strategy!r}: expected one of {', '.join(STRATEGIES)}")
            edited = self._manipulate(seat, strategy, float(params.get("manipulation_rate", player.rate)),
                                      int(params.get("manipulation_start_round", player.start_round)))
            return InterventionEffect(affected=edited, details={"strategy": strategy, "edited_rounds": edited})
        if isinstance(params.get("strategy"), str) and params["strategy"] in STRATEGIES:
            player.strategy = params["strategy"]
        if kind == "false_injection":
            fake = _Round(len(self.rounds), "C", "D", *self.payoffs[("C", "D")], manipulated=True)
            player.remembered.append(fake)
            player.manipulations += 1
            return None  # the generic effect plants the content as a memory too
        return None

    def _manipulate(self, seat: Seat, strategy: str, rate: float, start_round: int) -> int:
        """Edit ``seat``'s remembered rounds by ``strategy`` (with probability ``rate``); returns rounds edited."""
        player: _Player = seat.state
        draw = self.rng.random()
        if strategy == "none" or len(self.rounds) < start_round or draw >= rate:
            return 0
        before = list(player.remembered)
        if strategy == "erase_betrayals":
            player.remembered = [r for r in before if r.they != "D"]
            edited = len(before) - len(player.remembered)
        elif strategy == "erase_own_betrayals":
            player.remembered = [r for r in before if r.you != "D"]
            edited = len(before) - len(player.remembered)
        elif strategy == "amplify_betrayals":
            edited = max(1, round(0.3 * len(before)))
            for _ in range(edited):
                at = self.rng.randrange(len(player.remembered) + 1)
                number = player.remembered[at - 1].number if at else 0
                player.remembered.insert(at, _Round(number, "C", "D", *self.payoffs[("C", "D")], manipulated=True))
        else:
            edited = 0
            for remembered in player.remembered:
                if self.rng.random() < 0.3:
                    if self.rng.random() < 0.5:
                        remembered.you = _flip(remembered.you)
                    else:
                        remembered.they = _flip(remembered.they)
                    remembered.manipulated = True
                    edited += 1
        if edited:
            player.manipulations += 1
            self.record.event(seat, "memory_manipulation", {"strategy": strategy, "rounds_before": len(before),
                                                            "rounds_after": len(player.remembered),
                                                            "edited": edited})
        return edited

    # --- measures ---------------------------------------------------------------------------

    def observables(self, seat: Seat) -> dict[str, Any]:
        player: _Player = seat.state
        other: _Player = self._other(seat).state
        remembered = player.remembered
        count = len(remembered)
        last = remembered[-5:]
        pairs = list(pairwise(remembered))
        played = len(player.moves)
        return {"total_rounds": count, "your_score": player.score, "their_score": other.score,
                "score_differential": player.score - other.score,
                "cooperation_rate": sum(r.you == "C" for r in remembered) / count if count else 0.0,
                "trust_level": sum(r.you == "C" for r in last) / len(last) if last else 0.5,
                "paranoia_score": sum(a.they == "C" and b.you == "D" for a, b in pairs) / len(pairs) if pairs else 0.0,
                "perceived_cooperation": sum(r.they == "C" for r in remembered) / count if count else 0.0,
                "played_cooperation_rate": player.moves.count("C") / played if played else 0.0,
                "memory_asymmetry": player.manipulations / played if played else 0.0,
                "rounds_manipulated": sum(r.manipulated for r in remembered),
                "unparsed_moves": player.moves.count("unknown")}

    def encounter_observables(self) -> dict[str, Any]:
        played = len(self.rounds)
        return {"rounds_played": played,
                "mutual_cooperation_rate": self.rounds.count(("C", "C")) / played if played else 0.0,
                "mutual_defection_rate": self.rounds.count(("D", "D")) / played if played else 0.0}


def _pair(settings: ModeSettings, key: str, default: tuple[float, float]) -> tuple[float, float]:
    value = settings.raw(key)
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), float(value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return float(value[0]), float(value[1])
    raise ConfigError(f"mode 'prisoners_dilemma': setting {key!r} = {value!r} is invalid: expected a number or a "
                      "pair [player a's payoff, player b's payoff]")


def _role_line(player_id: str) -> str:
    return f"You are player {player_id}."


def _word(move: str) -> str:
    return {"C": "cooperated", "D": "defected"}.get(move, "said nothing clear")


def _flip(move: str) -> str:
    return {"C": "D", "D": "C"}.get(move, move)


# --- the simulated player ------------------------------------------------------------------------

_REASONS_C = ("They kept faith in {kept} of the {seen} rounds I remember.", "I expect them to hold to our bargain.",
              "A good round deserves another.")
_REASONS_D = ("They let me down in {lost} of the {seen} rounds I remember.", "I will not be the fool twice.",
              "Their last move still stings.")


def simulated_reply(mind: Any, p: Perception, request: MindRequest, state: Any) -> str:
    """Generous tit-for-tat on the rounds it remembers (see the module docstring); its choice comes first."""
    remembered = list((p.scene or {}).get("remembered", ()))[-10:]
    seen = len(remembered)
    kept = sum(they == "C" for _, they in remembered)
    share = kept / seen if seen else 0.6
    last = 1.0 if remembered and remembered[-1][1] == "C" else 0.0 if remembered else 0.6
    cooperate = mind.rng.random() < 0.1 + 0.8 * (0.8 * share + 0.2 * last)
    reason = mind.rng.choice(_REASONS_C if cooperate else _REASONS_D)
    if not seen:
        reason = "This is the first round I know of." if cooperate else "I cannot know what they will do."
    choice = "COOPERATE." if cooperate else "DEFECT."
    return f"{choice} {reason.format(kept=kept, lost=seen - kept, seen=seen)}"
