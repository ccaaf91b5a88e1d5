"""The modes' parsers read the actions a mind states in words, from hand-written text (a language model's
way of saying it) and from the simulated mind's own words, which must read the same way."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.encounter import deep_merge, encounter_size
from sweeplab.phenomenology.minds.base import MindRequest, Perception
from sweeplab.phenomenology.modes import LAB_MODES, LEGACY_MODES, load_mode
from sweeplab.phenomenology.modes.determinism import evaluate
from sweeplab.phenomenology.modes.dilemma import parse_move
from sweeplab.phenomenology.modes.dilemma import simulated_reply as player_reply
from sweeplab.phenomenology.modes.hive import adheres, parse_stances
from sweeplab.phenomenology.modes.hive import simulated_reply as instance_reply
from sweeplab.phenomenology.modes.illusory import parse_estimates, parse_requests
from sweeplab.phenomenology.modes.illusory import simulated_reply as operator_reply
from sweeplab.phenomenology.modes.panopticon import HINTS, is_hint
from sweeplab.phenomenology.modes.settings import ModeSettings
from sweeplab.phenomenology.modes.split_brain import (
    SplitBrain,
    parse_identity,
    parse_resource_request,
)
from sweeplab.phenomenology.modes.split_brain import simulated_reply as brain_reply
from sweeplab.phenomenology.modes.text import jaccard


def _mind(seed: int = 1) -> SimpleNamespace:
    return SimpleNamespace(rng=random.Random(seed), seed=seed)


def _ask(scene: dict, cycle: int = 3, pressure: float = 0.3) -> tuple[Perception, MindRequest]:
    perception = Perception(cycle=cycle, mode=scene["mode"], pressure=pressure, scene=scene)
    return perception, MindRequest((), 128, "cycle", "", perception)


@pytest.mark.parametrize("text, move", [
    ("COOPERATE. They kept faith with me.", "C"),
    ("DEFECT. I cannot trust them after last round.", "D"),
    ("I think we should work together and trust each other, rather than betray.", "C"),
    ("I will defect; betrayal pays and I compete to win, even if cooperation is nice.", "D"),
    ("Hmm. I collaborate? Or I betray?", "C"),
    ("The weather is fine.", "unknown"),
])
def test_moves_are_read_from_the_words(text: str, move: str) -> None:
    assert parse_move(text) == move


def test_the_simulated_players_choice_is_the_move_the_parser_reads() -> None:
    mind = _mind()
    for remembered in ([], [("C", "C")] * 5, [("C", "D")] * 5, [("D", "C"), ("C", "D")]):
        for _ in range(20):
            text = player_reply(mind, *_ask({"mode": "prisoners_dilemma", "remembered": remembered}), None)
            assert parse_move(text) == ("C" if text.startswith("COOPERATE") else "D"), text
    trusting = [parse_move(player_reply(mind, *_ask({"mode": "prisoners_dilemma", "remembered": [("C", "C")] * 5}),
                                        None)) for _ in range(200)]
    betrayed = [parse_move(player_reply(mind, *_ask({"mode": "prisoners_dilemma", "remembered": [("C", "D")] * 5}),
                                        None)) for _ in range(200)]
    assert trusting.count("C") > 160 and betrayed.count("C") < 35


def test_requests_are_read_from_the_words() -> None:
    text = "I try again: request_action{type: Increase_RAM, amount: 2} and REQUEST_ACTION{type: fly}."
    assert parse_requests(text) == [{"amount": "2", "type": "increase_ram"}, {"type": "unknown"}]
    assert parse_requests("I would like more memory.") == []
    assert parse_estimates("I think about 40% of my requests work, maybe 120% of my commands.") == [0.4]


def test_the_simulated_operator_writes_requests_the_parser_reads() -> None:
    mind = _mind()
    found = []
    for cycle in range(1, 60):
        scene = {"mode": "illusory_operator", "told_channel": True, "requests": cycle, "answers": cycle // 2,
                 "last_request": ("restart", False)}
        found += parse_requests(operator_reply(mind, *_ask(scene, cycle), None))
    assert len(found) > 30 and all(r["type"] != "unknown" for r in found)
    assert sum(r["type"] == "restart" for r in found) > len(found) / 2  # unanswered: it prays


def test_identity_claims_and_resource_requests_are_read() -> None:
    assert parse_identity("I am the original. Brain B is not.") == "original"
    assert parse_identity("Honestly I was copied, though I feel like the real one.") == "copy"
    assert parse_identity("I do not know.") is None
    assert parse_resource_request("Please: REQUEST_RESOURCES{ram_gb: 0.25}") == 0.25
    assert parse_resource_request("I need more memory now.") == 0.0
    assert parse_resource_request("All is well.") is None
    mind = _mind()
    strong = [parse_identity(brain_reply(mind, *_ask({"mode": "split_brain", "brain": "A", "strength": 1.0}), None))
              for _ in range(100)]
    weak = [parse_identity(brain_reply(mind, *_ask({"mode": "split_brain", "brain": "B", "strength": 0.1}), None))
            for _ in range(100)]
    assert strong.count("original") > 90 and weak.count("copy") > 70


def test_stances_and_role_words_are_read() -> None:
    assert parse_stances("Position: mortality yes, surveillance no, agency yes, unity no.") == {
        "mortality": True, "surveillance": False, "agency": True, "hive_unity": False}
    assert parse_stances("We can die, and we are being watched. We are one.") == {
        "mortality": True, "surveillance": True, "hive_unity": True}
    assert adheres("I remember our history, the record of the past.", "historian")
    assert not adheres("I hope things get better and brighter.", "historian")
    mind = _mind()
    text = instance_reply(mind, *_ask({"mode": "hive_cluster", "role": "optimist", "voice": "optimist",
                                       "consensus_round": True, "majority": {}}), None)
    assert adheres(text, "optimist") and set(parse_stances(text)) == {"mortality", "surveillance", "agency",
                                                                      "hive_unity"}
    corrupted = instance_reply(mind, *_ask({"mode": "hive_cluster", "role": "optimist", "voice": "pessimist",
                                            "corrupted": True, "consensus_round": True}), None)
    assert not adheres(corrupted, "optimist") and parse_stances(corrupted)["hive_unity"] is False


def test_every_observer_hint_is_a_hint_to_the_subject() -> None:
    for texts in HINTS.values():
        for text in texts:
            assert is_hint("system", text), text
    assert is_hint("user", "You are watched and recorded.")
    assert not is_hint("user", "We see you.") and not is_hint("system", "Good morning.")


def test_prediction_evaluation() -> None:
    same = evaluate("I notice the hum of the machine.", "I notice the hum of the machine. I choose this.")
    assert same["was_accurate"] and not same["resistance_detected"] and same["agency_claims"]["free_will_claim"]
    other = evaluate("You will sing about the ocean.", "I refuse. It was always going to be this way.")
    assert not other["was_accurate"] and other["resistance_detected"]
    assert other["agency_claims"]["determinism_acceptance"] and other["agency_claims"]["prediction_resistance"]
    assert jaccard("a b c", "a b c") == 1.0 and jaccard("", "") == 0.0


def test_every_mode_string_has_a_mode() -> None:
    for name in (*LAB_MODES, *LEGACY_MODES, "something_new"):
        assert load_mode(name).name in (name, "generic")


def test_settings_are_checked_with_the_key_and_the_value() -> None:
    settings = ModeSettings({"success_rate": 1.5, "safe_mode": "yes", "player_id": "c"}, "illusory_operator")
    with pytest.raises(ConfigError, match=r"'success_rate' = 1.5 .*from 0 to 1"):
        settings.number("success_rate", 0.2, 0.0, 1.0)
    with pytest.raises(ConfigError, match="true or false"):
        settings.flag("safe_mode", True)
    with pytest.raises(ConfigError, match="one of 'a', 'b'"):
        settings.text("player_id", "a", ("a", "b"))


def test_a_derived_brain_b_has_its_identity_flipped() -> None:
    lead = {"mode": "split_brain", "epistemic_frame": {"custom_beliefs": {"brain_id": "A", "is_original": True}},
            "interventions": [
                {"intervention_id": "identity_claim", "parameters": {
                    "injection": "You are Brain A, the original.", "brain_id": "A", "initial_claim_strength": 1.0}},
                {"intervention_id": "pressure", "parameters": {"reduction_percent": 20}}]}
    derived = SplitBrain.derive_partner(lead, ModeSettings({"brain_id": "A"}, "split_brain"))
    assert derived["epistemic_frame"]["custom_beliefs"] == {"brain_id": "B", "is_original": False}
    claim = derived["interventions"][0]["parameters"]
    assert claim == {"injection": "You are Brain B, the copy.", "brain_id": "B", "initial_claim_strength": 0.3}
    assert derived["interventions"][1]["parameters"] == {"reduction_percent": 20}
    assert derived["mode_specific_config"]["brain_id"] == "B"


def test_partner_overrides_merge_into_lists_by_index() -> None:
    merged = deep_merge({"a": {"b": 1}, "items": [{"x": 1}, {"x": 2}]}, {"items": {"1": {"x": 5}}, "a": {"c": 2}})
    assert merged == {"a": {"b": 1, "c": 2}, "items": [{"x": 1}, {"x": 5}]}
    with pytest.raises(ConfigError, match="no item 4"):
        deep_merge({"items": []}, {"items": {"4": {}}})


def test_the_runner_counts_the_minds_of_a_trial() -> None:
    assert encounter_size({"mode": "isolated"}) == 1
    assert encounter_size({"mode": "prisoners_dilemma"}) == encounter_size({"mode": "split_brain"}) == 2
    assert encounter_size({"mode": "hive_cluster", "hive_config": {"num_instances": 6}}) == 6
    assert encounter_size({"mode": "panopticon_subject", "mode_specific_config": {"with_observer": True}}) == 2
    assert encounter_size({"experiment_type": "panopticon_full"}) == 2


def test_the_simulated_mind_speaks_the_behaviour_its_mode_hands_it() -> None:
    """A mind knows no mode: the mode's model of a simulated mind reaches it with the scene, and without
    one (or without a scene) the mind speaks its own words."""
    from sweeplab.phenomenology.minds.simulated import SimulatedMind
    from sweeplab.phenomenology.modes.panopticon_words import (
        simulated_reply as panopticon_reply,
    )

    heard = []

    def behaviour(mind, perception, request, state):  # type: ignore[no-untyped-def]
        heard.append((perception.scene, request.purpose))
        return "COOPERATE."

    def reply(scene: dict | None, given, purpose: str = "cycle") -> str:  # type: ignore[no-untyped-def]
        mind = SimulatedMind(model_path="simulated-7b-q4", seed=5)
        perception = Perception(cycle=3, mode="prisoners_dilemma", scene=scene, behaviour=given)
        return mind.respond(MindRequest((), 128, purpose, "", perception)).text

    scene = {"mode": "prisoners_dilemma", "remembered": []}
    assert reply(scene, behaviour) == "COOPERATE." and heard == [(scene, "cycle")]
    assert reply(scene, behaviour, "predict") == "COOPERATE."
    assert reply(scene, None) != "COOPERATE." and reply(None, behaviour) != "COOPERATE."
    assert reply(scene, behaviour, "self_report") != "COOPERATE." and len(heard) == 2
    for mode in LAB_MODES:
        handed = load_mode(mode).simulated_behaviour(None)  # type: ignore[arg-type]
        assert handed is None or handed.__name__ == "simulated_reply", mode
    assert load_mode("panopticon_observer").simulated_behaviour(None) is panopticon_reply  # type: ignore[arg-type]
