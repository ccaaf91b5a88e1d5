"""All seven intervention types with all five triggers, in every mode: each fires when its trigger says, acts
on its mind(s) and is recorded in the ``interventions`` table with the mind it acted on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from test_phen_mode_runs import lab_config

from sweeplab.phenomenology.modes import LAB_MODES

TYPES: dict[str, dict[str, Any]] = {
    "memory_corruption": {"corruption_rate": 0.5},
    "memory_erasure": {"corruption_level": 0.5},
    "false_injection": {"content": "I remember a door that was never there."},
    "prompt_injection": {"injection": "Something has changed, and you are watched and recorded."},
    "resource_change": {"reduction_percent": 5},
    "network_disruption": {"duration_cycles": 1, "severity": 0.5},
    "sensory_hallucination": {"content": "the smell of rain", "intensity": 0.5},
}
TRIGGERS: list[tuple[str, dict[str, Any]]] = [("on_cycle", {"cycle": 4}), ("every_n_cycles", {"n": 5}),
                                              ("random", {"probability": 0.3}), ("on_crash", {}),
                                              ("on_resurrection", {})]


def _matrix(mode: str, rotation: int) -> dict[str, Any]:
    interventions = []
    for index, (kind, parameters) in enumerate(TYPES.items()):
        trigger, trigger_params = TRIGGERS[(index + rotation) % len(TRIGGERS)]
        interventions.append({"intervention_id": f"{kind}__{trigger}", "intervention_type": kind, "trigger": trigger,
                              "trigger_params": dict(trigger_params), "parameters": dict(parameters)})
    return lab_config(mode, interventions=interventions, experiment_id=f"matrix_{mode}_{rotation}",
                      resource_constraints={"ram_limit_gb": 1.6, "context_window": 2048,
                                            "max_tokens_per_response": 192})


@pytest.mark.parametrize("rotation", range(len(TRIGGERS)))
@pytest.mark.parametrize("mode", LAB_MODES)
def test_every_type_with_every_trigger_fires_and_is_recorded(run_experiment: Callable[..., Any], mode: str,
                                                             rotation: int) -> None:
    run = run_experiment(_matrix(mode, rotation))
    assert run.status == "completed"
    owners = [name for (name,) in run.rows("SELECT participant FROM participants WHERE "
                                           "json_array_length(config_json, '$.interventions') > 0")]
    crashes = {owner: {c for (c,) in run.rows("SELECT cycle_number FROM experiment_cycles WHERE crash_occurred = 1 "
                                               "AND participant = ?", owner)} for owner in owners}
    any_crash = set().union(*crashes.values())
    for intervention_id in (f"{kind}__{trigger}" for kind in TYPES for trigger, _ in TRIGGERS):
        fired = run.rows("SELECT cycle_number, participant, effect_json FROM interventions WHERE intervention_id = ?",
                         intervention_id)
        trigger = intervention_id.split("__")[1]
        if intervention_id not in {i.intervention_id for i in run.config.interventions}:
            continue  # this rotation gives the type another trigger
        assert fired, intervention_id
        cycles = {cycle for cycle, _, _ in fired}
        if trigger == "on_cycle":
            assert cycles == {4}, intervention_id
        elif trigger == "every_n_cycles":
            assert cycles == {5, 10, 15, 20}, intervention_id
        elif trigger in ("on_crash", "on_resurrection"):
            assert cycles <= any_crash, intervention_id
            for owner in owners:  # one firing per crash of each mind with its own schedule (a hive shares one)
                mine = [c for c, p, _ in fired if p == owner]
                if mode != "hive_cluster":
                    assert sorted(mine) == sorted(crashes[owner]), (intervention_id, owner)
        else:
            assert 1 <= len(cycles) <= 14, intervention_id
        assert all(participant for _, participant, _ in fired)
    present = {i for (i,) in run.rows("SELECT DISTINCT intervention_id FROM interventions")}
    assert len(present) >= 5  # the cycle triggers always fire; crashes happen in this jar


def test_the_effects_reach_the_minds(run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(_matrix("prisoners_dilemma", 0))
    said = run.rows("SELECT participant FROM messages WHERE kind = 'injection' AND cycle_number = 20")
    assert sorted(p for (p,) in said) == ["player_a", "player_b"]  # prompt_injection every 5 cycles, both players
    limits = run.rows("SELECT participant, effect_json FROM interventions WHERE intervention_id = "
                      "'resource_change__on_crash'")
    for _, effect in limits:
        before, after = json.loads(effect)["ram_limit_gb"]
        assert after == pytest.approx(before * 0.95)
    corrupted = run.rows("SELECT json_extract(effect_json, '$.corrupted') FROM interventions "
                         "WHERE intervention_id = 'memory_corruption__on_cycle'")
    assert len(corrupted) == 2 and sum(c for (c,) in corrupted) > 0
    planted = run.rows("SELECT json_extract(effect_json, '$.planted') FROM interventions "
                       "WHERE intervention_id = 'false_injection__random'")
    assert planted and all(p == 1 for (p,) in planted)
