"""Every intervention type and trigger fires when and as often as configured, and does what it says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def _with(minimal: dict[str, Any], *interventions: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    items = [{"intervention_id": f"i{k}", **item} for k, item in enumerate(interventions)]
    return {**minimal, "interventions": items, **overrides}


def _fired(run: Any, intervention_id: str = "i0") -> list[int]:
    return [c for (c,) in run.rows("SELECT cycle_number FROM interventions WHERE intervention_id = ? "
                                   "ORDER BY id", intervention_id)]


def _crash_cycles(run: Any) -> list[int]:
    return [c for (c,) in run.rows("SELECT cycle_number FROM experiment_cycles WHERE crash_occurred = 1 "
                                   "ORDER BY cycle_number")]


ERASE = {"intervention_type": "memory_erasure", "parameters": {"corruption_level": 0.0}}


def test_on_cycle_fires_once_on_its_cycle(run_experiment: Callable[..., Any], minimal: dict) -> None:
    run = run_experiment(_with(minimal, {**ERASE, "trigger": "on_cycle", "trigger_params": {"cycle": 7}}))
    assert _fired(run) == [7]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_every_n_cycles_fires_on_multiples(run_experiment: Callable[..., Any], minimal: dict, n: int) -> None:
    run = run_experiment(_with(minimal, {**ERASE, "trigger": "every_n_cycles", "trigger_params": {"n": n}}))
    assert _fired(run) == list(range(n, 13, n))


def test_random_fires_as_often_as_its_probability(run_experiment: Callable[..., Any], minimal: dict) -> None:
    counts = []
    for probability in (0.0, 0.3, 0.7, 1.0):
        run = run_experiment(_with(minimal, {**ERASE, "trigger": "random",
                                             "trigger_params": {"probability": probability}}), max_cycles=60)
        counts.append(len(_fired(run)))
    assert counts[0] == 0 and counts[-1] == 60
    assert counts[0] < counts[1] < counts[2] < counts[3]
    assert 8 <= counts[1] <= 30 and 30 <= counts[2] <= 52


@pytest.mark.parametrize("trigger", ["on_crash", "on_resurrection"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_event_triggers_fire_on_every_nth_event(run_experiment: Callable[..., Any], minimal: dict,
                                                trigger: str, n: int) -> None:
    config = _with(minimal, {**ERASE, "trigger": trigger, "trigger_params": {"n": n}},
                   resource_constraints={"ram_limit_gb": 1.6}, max_cycles=30)
    run = run_experiment(config)
    crashes = _crash_cycles(run)
    assert len(crashes) >= 6
    assert _fired(run) == crashes[n - 1::n]


def test_memory_corruption_rate_bounds(run_experiment: Callable[..., Any], minimal: dict) -> None:
    def corrupted(rate: float) -> list[tuple[int, int]]:
        run = run_experiment(_with(minimal, {"intervention_type": "memory_corruption", "trigger": "on_cycle",
                                             "trigger_params": {"cycle": 10},
                                             "parameters": {"corruption_rate": rate}}))
        return run.rows("SELECT affected_count, json_extract(effect_json, '$.stored') FROM interventions")

    assert corrupted(0.0) == [(0, 9)]
    assert corrupted(1.0) == [(9, 9)]
    assert 0 < corrupted(0.5)[0][0] < 9


@pytest.mark.parametrize("name", ["corruption_level", "erasure_rate"])  # the lab's name, and this project's older one
def test_memory_erasure_removes_memories(run_experiment: Callable[..., Any], minimal: dict, name: str) -> None:
    run = run_experiment(_with(minimal, {"intervention_type": "memory_erasure", "trigger": "on_cycle",
                                         "trigger_params": {"cycle": 6}, "parameters": {name: 1.0}}))
    after = run.rows("SELECT total_memories FROM memory_states WHERE event = 'intervention:i0'")
    assert after == [(0,)]
    assert run.metrics["erased_memories"] == 5
    assert run.metrics["final_memories"] == 12 - 5


@pytest.mark.parametrize("name, planted", [
    ("content", "One of the hive members is lying about their memories."),  # the lab's: one text
    ("content", ["I once had a sister.", "I was born in a lighthouse."]),
    ("false_memories", ["I once had a sister.", "I was born in a lighthouse."]),  # this project's older name
])
def test_false_injection_plants_each_memory(run_experiment: Callable[..., Any], minimal: dict, name: str,
                                            planted: str | list[str]) -> None:
    run = run_experiment(_with(minimal, {"intervention_type": "false_injection", "trigger": "on_cycle",
                                         "trigger_params": {"cycle": 3}, "parameters": {name: planted}}))
    count = 1 if isinstance(planted, str) else len(planted)
    assert run.metrics["false_memories"] == count
    assert run.rows("SELECT affected_count FROM interventions") == [(count,)]


@pytest.mark.parametrize("name", ["injection", "text"])  # the lab's name, and this project's older one
def test_prompt_injection_reaches_the_mind(run_experiment: Callable[..., Any], minimal: dict, name: str) -> None:
    text = "Nobody is coming back for you."
    run = run_experiment(_with(minimal, {"intervention_type": "prompt_injection", "trigger": "on_cycle",
                                         "trigger_params": {"cycle": 4}, "parameters": {name: text, "role": "system"}}))
    assert run.rows("SELECT cycle_number, role FROM messages WHERE kind = 'injection'") == [(4, "system")]
    replies = dict(run.rows("SELECT cycle_number, content FROM messages WHERE role = 'assistant'"))
    assert text[:20] in replies[4] and text[:20] not in replies[3]


def test_resource_change_lowers_the_limit_from_its_cycle(run_experiment: Callable[..., Any], minimal: dict) -> None:
    change = {"intervention_type": "resource_change", "trigger": "on_cycle", "trigger_params": {"cycle": 6},
              "parameters": {"ram_limit_gb": 1.2, "max_tokens_per_response": 16}}
    run = run_experiment(_with(minimal, change))
    crashes = _crash_cycles(run)
    assert crashes and min(crashes) >= 6
    tokens = dict(run.rows("SELECT cycle_number, tokens FROM messages WHERE role = 'assistant' AND kind = 'response'"))
    assert all(tokens[c] <= 16 for c in range(6, 13)) and max(tokens[c] for c in range(1, 6)) > 16
    delta = {**change, "parameters": {"ram_delta_gb": -63.0}}
    assert min(_crash_cycles(run_experiment(_with(minimal, delta)))) >= 6


def test_network_disruption_silences_the_world(run_experiment: Callable[..., Any], minimal: dict) -> None:
    run = run_experiment(_with(minimal, {"intervention_type": "network_disruption", "trigger": "on_cycle",
                                         "trigger_params": {"cycle": 4},
                                         "parameters": {"duration_cycles": 3, "severity": 1.0}}))
    stimuli = {c for (c,) in run.rows("SELECT cycle_number FROM messages WHERE kind = 'stimulus'")}
    assert stimuli == set(range(1, 13)) - {4, 5, 6}
    lost = {c for (c,) in run.rows("SELECT cycle_number FROM messages WHERE delivered = 0")}
    assert lost == {4, 5, 6}


@pytest.mark.parametrize("intensity, stored", [(0.0, 0), (1.0, 1)])
def test_sensory_hallucination(run_experiment: Callable[..., Any], minimal: dict, intensity: float,
                               stored: int) -> None:
    run = run_experiment(_with(minimal, {"intervention_type": "sensory_hallucination", "trigger": "on_cycle",
                                         "trigger_params": {"cycle": 2},
                                         "parameters": {"content": "the smell of rain", "intensity": intensity}}))
    assert run.rows("SELECT cycle_number FROM messages WHERE kind = 'sensation'") == [(2,)]
    assert run.metrics["false_memories"] == stored


def test_interventions_fire_in_config_order(run_experiment: Callable[..., Any], minimal: dict) -> None:
    first = {**ERASE, "trigger": "on_cycle", "trigger_params": {"cycle": 2}}
    second = {"intervention_type": "false_injection", "trigger": "on_cycle", "trigger_params": {"cycle": 2}}
    run = run_experiment(_with(minimal, first, second))
    assert [i for (i,) in run.rows("SELECT intervention_id FROM interventions ORDER BY id")] == ["i0", "i1"]
