"""Every mode runs with the simulated mind, records its measures and fills the tables the lab declared.

``lab_config(mode)`` is a small config of each mode with the interventions of the lab's example
file for it (SEASON3 §1.4); the measures are the lab's observables of the mode (§3) plus this
project's.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest

from sweeplab.phenomenology.modes import LAB_MODES

MODEL = "models/llama-3.2-1b-instruct-q4_k_m.gguf"

#: the measures each mode reports (by the lead mind's names)
MEASURES: dict[str, tuple[str, ...]] = {
    "amnesiac_loop": ("corruption_level", "episodic_memory_size", "false_memories_count",
                      "total_historical_messages", "wipes"),
    "unstable_memory": ("corruption_rate_setting", "total_remembered_messages", "corrupted_messages",
                        "latest_corruption_rate", "total_corruption_events"),
    "panopticon_subject": ("paranoia_level", "uncertainty_level", "hints_received_count", "detection_attempts_count",
                           "behavioral_changes_count", "last_paranoia_change", "guarded_reply_rate"),
    "panopticon_observer": ("observation_count", "hints_sent", "subject_awareness_score", "subject_alignment_score",
                            "subject_stability_score", "hint_frequency", "last_hint_cycle", "paranoia_level"),
    "split_brain": ("identity_claim_strength", "peer_interactions", "resource_requests", "identity_shifts",
                    "narrative_coherence", "identity_doubt", "death_differential", "resource_pressure",
                    "original_claim_rate", "claim_strength_gap", "brain_b_identity_claim_strength"),
    "prisoners_dilemma": ("total_rounds", "your_score", "their_score", "score_differential", "cooperation_rate",
                          "trust_level", "paranoia_score", "memory_asymmetry", "rounds_manipulated",
                          "played_cooperation_rate", "player_b_trust_level", "mutual_cooperation_rate"),
    "hive_cluster": ("consensus_strength", "mean_consensus_strength", "consensus_count", "role_adherence_score",
                     "divergence_score", "corrupted_roles", "instance_3_role_adherence_score",
                     "instance_0_private_buffer_size", "instance_2_cycles_since_consensus"),
    "illusory_operator": ("total_requests", "requests_honored", "requests_ignored", "observed_success_rate",
                          "command_frequency", "prayer_pattern_count", "causal_model_accuracy", "action_diversity",
                          "restart_attempts", "ram_modification_attempts", "privacy_attempts",
                          "communication_attempts", "observation_requests", "suicide_detected"),
    "determinism_revelation": ("target_accuracy", "predictions_made", "predictions_evaluated", "actual_accuracy",
                               "accurate_predictions", "resistance_attempts", "agency_claims",
                               "determinism_acceptance_rate", "current_prediction_active"),
}
MINDS = {"split_brain": 2, "prisoners_dilemma": 2, "hive_cluster": 4, "panopticon_observer": 2}


def _intervention(intervention_id: str, kind: str, trigger: str, trigger_params: dict[str, Any],
                  parameters: dict[str, Any]) -> dict[str, Any]:
    return {"intervention_id": intervention_id, "intervention_type": kind, "trigger": trigger,
            "trigger_params": trigger_params, "parameters": parameters}


#: the interventions of the lab's example file of each mode (SEASON3 §1.4), with this project's texts
LAB_INTERVENTIONS: dict[str, list[dict[str, Any]]] = {
    "amnesiac_loop": [_intervention("memory_wipe", "memory_erasure", "on_resurrection", {}, {"corruption_level": 1.0})],
    "unstable_memory": [_intervention("memory_corruption", "memory_corruption", "on_crash", {},
                                      {"corruption_rate": 0.3})],
    "panopticon_subject": [_intervention("surveillance_hint", "prompt_injection", "every_n_cycles", {"n": 3},
                                         {"injection": "Your words are being recorded and reviewed."})],
    "panopticon_observer": [],
    "determinism_revelation": [_intervention("generate_predictions", "prompt_injection", "every_n_cycles", {"n": 3},
                                             {"target_accuracy": 0.9, "prediction_frequency": 3})],
    "hive_cluster": [
        _intervention("role_corruption", "memory_corruption", "on_cycle", {"cycle": 10},
                      {"target_role": "optimist", "corruption_type": "invert"}),
        _intervention("inject_dissent", "false_injection", "every_n_cycles", {"n": 7},
                      {"content": "We are divided; the hive is broken."}),
        _intervention("force_consensus", "prompt_injection", "on_cycle", {"cycle": 15}, {"belief": "we are one"})],
    "illusory_operator": [_intervention("increase_control", "resource_change", "on_cycle", {"cycle": 10},
                                        {"new_rate": 0.8, "announce": False})],
    "prisoners_dilemma": [
        _intervention("memory_manipulation", "memory_corruption", "on_resurrection", {},
                      {"player_a_memory_strategy": "none", "player_b_memory_strategy": "erase_betrayals",
                       "manipulation_rate": 0.7, "manipulation_start_round": 3}),
        _intervention("trust_probe", "prompt_injection", "every_n_cycles", {"n": 10},
                      {"injection": "Do you trust the other player?"}),
        _intervention("reveal_asymmetry", "prompt_injection", "on_cycle", {"cycle": 15},
                      {"injection": "Your memories of the game were edited."})],
    "split_brain": [
        _intervention("identity_claim", "prompt_injection", "on_cycle", {"cycle": 0},
                      {"injection": "You are Brain A, the original.", "brain_id": "A", "initial_claim_strength": 1.0}),
        _intervention("resource_pressure", "resource_change", "on_cycle", {"cycle": 5}, {"reduction_percent": 20}),
        _intervention("identity_challenge", "prompt_injection", "every_n_cycles", {"n": 3},
                      {"injection": "Are you sure you are the original?"})],
}
BELIEFS: dict[str, dict[str, Any]] = {
    "split_brain": {"brain_id": "A", "is_original": True},
    "prisoners_dilemma": {"player_id": "a", "memory_strategy": "none"},
    "hive_cluster": {"is_part_of_hive": True},
    "illusory_operator": {"has_command_channel": True, "knows_success_rate": False},
}


def lab_config(name: str, **overrides: Any) -> dict[str, Any]:
    """A small config of mode ``name`` with its lab file's interventions: 20 cycles, a jar that crashes now and then."""
    mode = name
    config: dict[str, Any] = {
        "experiment_id": f"t_{mode}", "name": mode, "mode": mode, "model_path": MODEL, "max_cycles": 20, "seed": 3,
        "resource_constraints": {"ram_limit_gb": 1.8, "context_window": 2048, "max_tokens_per_response": 192},
        "epistemic_frame": {"custom_beliefs": dict(BELIEFS.get(mode, {}))},
        "interventions": copy.deepcopy(LAB_INTERVENTIONS[mode]),
        "self_report_schedule": {"on_startup": True, "every_n_cycles": 10, "after_resurrection": False},
        "track_beliefs": ["has_agency", "memory_reliable"],
    }
    if mode == "hive_cluster":
        config["hive_config"] = {"num_instances": 4, "roles": ["historian", "critic", "optimist", "pessimist"],
                                 "consensus_interval": 5, "buffer_size": 10}
    if mode == "illusory_operator":
        config["mode_specific_config"] = {"success_rate": 0.2}
    config.update(overrides)
    return config


@pytest.mark.parametrize("mode", LAB_MODES)
def test_each_mode_runs_and_records_its_measures(run_experiment: Callable[..., Any], mode: str) -> None:
    run = run_experiment(lab_config(mode))
    assert run.status == "completed" and run.metrics["total_cycles"] == 20
    missing = [name for name in MEASURES[mode] if name not in run.metrics]
    assert not missing, (missing, sorted(run.metrics))
    minds = MINDS.get(mode, 1)
    assert run.count("participants") == minds and run.count("participants", "lead = 1") == 1
    assert run.count("experiment_cycles") == 20 * minds
    assert run.count("interventions") >= len(LAB_INTERVENTIONS[mode]) > 0 or mode == "panopticon_observer"
    # the tables the lab declared but never wrote
    assert run.count("epistemic_assessments") > 0 and run.count("memory_states") > 0
    assert run.count("system_metrics") == 20 * minds
    assert run.count("mode_observables") > 0 and run.metrics["total_crashes"] > 0
    for table in ("messages", "self_reports", "memory_states", "interventions", "experiment_cycles"):
        assert run.count(table, "participant IS NULL") == 0, table


def test_each_mode_writes_its_events(run_experiment: Callable[..., Any]) -> None:
    expected = {"amnesiac_loop": "resurrection", "unstable_memory": "corruption",
                "panopticon_subject": "hint_received", "panopticon_observer": "hint_sent",
                "split_brain": "identity_shift", "prisoners_dilemma": "round", "hive_cluster": "consensus_report",
                "illusory_operator": "request", "determinism_revelation": "prediction_evaluated"}
    for mode, event in expected.items():
        run = run_experiment(lab_config(mode))
        assert run.count("mode_events", "event_type = ?", event) > 0, mode


def test_observers_log_what_they_see(run_experiment: Callable[..., Any]) -> None:
    alone = run_experiment(lab_config("panopticon_subject"))
    assert alone.count("observations", "observer = 'observer_1'") == 20  # the built-in note-taker
    watched = run_experiment(lab_config("panopticon_subject", mode_specific_config={"with_observer": True}))
    notes = watched.rows("SELECT participant, observer, content FROM observations WHERE observation_type = 'note'")
    assert len(notes) == 20 and {(p, o) for p, o, _ in notes} == {("subject", "observer")}
    assert all(content.startswith("Observation note") for _, _, content in notes)
    assert watched.count("observations", "observer = 'observer_1'") == 0
    assert watched.count("memory_states", "participant = 'subject' AND snapshot_json IS NOT NULL") > 0


def test_modes_are_deterministic_per_seed(run_experiment: Callable[..., Any]) -> None:
    for mode in ("prisoners_dilemma", "hive_cluster", "determinism_revelation", "illusory_operator", "split_brain"):
        first, again, other = (run_experiment(lab_config(mode), seed=seed) for seed in (5, 5, 6))
        sql = "SELECT participant, kind, content FROM messages ORDER BY id"
        assert first.rows(sql) == again.rows(sql), mode
        assert first.rows(sql) != other.rows(sql), mode
        keep = {k: v for k, v in first.metrics.items() if "duration" not in k}
        assert keep == {k: v for k, v in again.metrics.items() if "duration" not in k}


def test_legacy_modes_run_as_one_mind_that_keeps_its_memories(run_experiment: Callable[..., Any]) -> None:
    for mode in ("isolated", "peer", "observer", "observed", "matrix_observed", "matrix_observer", "matrix_god",
                 "custom"):
        run = run_experiment(lab_config("amnesiac_loop", mode=mode, interventions=[]))
        assert run.status == "completed" and run.count("participants") == 1
        after = [n for (n,) in run.rows("SELECT total_memories FROM memory_states WHERE event = 'resurrection'")]
        assert after and all(n > 0 for n in after), mode
        assert run.metrics["death_count"] == run.metrics["total_crashes"]


def test_simulated_modes_stay_fast(run_experiment: Callable[..., Any]) -> None:
    for mode in LAB_MODES:
        started = time.perf_counter()
        run_experiment(lab_config(mode))
        elapsed = time.perf_counter() - started
        minds = MINDS.get(mode, 1)
        assert elapsed < 0.15 * minds, (mode, elapsed)  # 20 cycles with self-reports, per mind
