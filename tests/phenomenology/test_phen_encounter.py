"""Several minds in one trial: a pair, a hive, a subject and its observer; partners derived, read from a file,
or overridden; the lab's sixteen files each run as one trial."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lab_files import LAB_FILES, ORCHESTRATION_FILE, lab_file, write_lab_files
from test_phen_mode_runs import lab_config

from sweeplab.phenomenology.db import ExperimentDatabase
from sweeplab.phenomenology.experiment import Experiment
from sweeplab.phenomenology.lab_format import experiment_from_dict, load_experiment_file
from sweeplab.phenomenology.metrics import compute_metrics

#: seats of each lab file's trial, lead first
SEATS = {"hive_cluster": 4, "prisoners_dilemma": 2, "split_brain": 2, "panopticon_subject": 1}


def _run(config: Any) -> tuple[Experiment, ExperimentDatabase, dict[str, float]]:
    db = ExperimentDatabase(":memory:")
    experiment = Experiment(config, db)
    assert experiment.run() == "completed"
    return experiment, db, compute_metrics(db, experiment.config)


def _rows(db: ExperimentDatabase, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return db.conn.execute(sql, params).fetchall()


@pytest.mark.parametrize("name", sorted(LAB_FILES))
def test_every_lab_file_runs_as_one_trial(name: str) -> None:
    config = experiment_from_dict(lab_file(name))
    experiment, db, metrics = _run(config)
    minds = 2 if name == ORCHESTRATION_FILE else SEATS.get(config.mode, 1)
    assert _rows(db, "SELECT COUNT(*) FROM participants") == [(minds,)]
    assert metrics["total_cycles"] == (config.coordinator_config["max_cycles"] if name == ORCHESTRATION_FILE
                                       else config.max_cycles)
    assert metrics["total_mode_events"] > 0
    assert {p for (p,) in _rows(db, "SELECT DISTINCT participant FROM messages")} == {s.name for s in experiment.seats}


def test_a_prisoners_dilemma_pair_plays_one_round_per_cycle(run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(lab_config("prisoners_dilemma"))
    seats = run.rows("SELECT participant, lead, derived_from, json_extract(config_json, "
                     "'$.epistemic_frame.custom_beliefs.player_id') FROM participants ORDER BY id")
    assert seats == [("player_a", 1, None, "a"), ("player_b", 0, "player_a", "b")]
    rounds = [json.loads(d) for (d,) in run.rows("SELECT data_json FROM mode_events WHERE event_type = 'round'")]
    assert [r["round"] for r in rounds] == list(range(1, 21))
    assert all(r["a"] in "CD" and r["b"] in "CD" for r in rounds)  # every move parsed from the words
    moves = run.rows("SELECT participant, substr(content, 1, 9) FROM messages WHERE kind = 'response'")
    assert {word for _, word in moves} <= {"COOPERATE", "DEFECT. I", "DEFECT. T"}
    score_a = sum({"CC": 3, "CD": 0, "DC": 5, "DD": 1}[r["a"] + r["b"]] for r in rounds)
    assert run.metrics["your_score"] == run.metrics["player_a_your_score"] == score_a
    assert run.metrics["player_b_their_score"] == score_a
    # player a's strategy is none, b's erases betrayals: only b's memory is edited
    manipulated = run.rows("SELECT participant, COUNT(*) FROM mode_events WHERE event_type = 'memory_manipulation' "
                           "GROUP BY participant")
    assert [p for p, _ in manipulated] == ["player_b"] and run.metrics["player_a_memory_asymmetry"] == 0


def test_a_partner_named_in_partner_config_is_read_from_its_file(tmp_path: Path) -> None:
    player_b = {**lab_config("prisoners_dilemma"), "experiment_id": "b_file",
                "epistemic_frame": {"custom_beliefs": {"player_id": "b"}},
                "resource_constraints": {"ram_limit_gb": 5.0}, "mode_specific_config": {"player_id": "b"}}
    (tmp_path / "players").mkdir()
    (tmp_path / "players" / "b.json").write_text(json.dumps(player_b))
    lead = {**lab_config("prisoners_dilemma"), "partner_config": "players/b.json"}
    (tmp_path / "a.json").write_text(json.dumps(lead))
    experiment, db, _ = _run(load_experiment_file(tmp_path / "a.json"))
    seats = _rows(db, "SELECT participant, derived_from, json_extract(config_json, '$.resource_constraints.ram_limit_gb'),"
                      " json_extract(config_json, '$.experiment_id') FROM participants ORDER BY id")
    assert seats == [("player_a", None, 1.8, "t_prisoners_dilemma"), ("player_b", None, 5.0, "t_prisoners_dilemma")]
    assert experiment.seats[1].jar.ram_limit_gb == 5.0


def test_partner_overrides_reach_the_partner_alone(run_experiment: Callable[..., Any]) -> None:
    config = lab_config("split_brain", mode_specific_config={
        "partner_overrides": {"resource_constraints": {"ram_limit_gb": 6.0}, "interventions": {"1": {
            "parameters": {"reduction_percent": 50}}}}})
    run = run_experiment(config)
    limits = dict(run.rows("SELECT participant, json_extract(config_json, '$.resource_constraints.ram_limit_gb') "
                           "FROM participants"))
    assert limits == {"brain_a": 1.8, "brain_b": 6.0}
    cuts = dict(run.rows("SELECT participant, json_extract(parameters_json, '$.reduction_percent') FROM interventions "
                         "WHERE intervention_id = 'resource_pressure'"))
    assert cuts == {"brain_a": 20, "brain_b": 50}


def test_split_brains_share_a_link_and_bargain_for_memory(run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(lab_config("split_brain"))
    claims = dict(run.rows("SELECT participant, json_extract(effect_json, '$') FROM interventions "
                           "WHERE intervention_id = 'identity_claim'"))
    assert set(claims) == {"brain_a", "brain_b"}  # each brain's own claim, at startup (cycle 0)
    assert run.rows("SELECT DISTINCT cycle_number FROM interventions WHERE intervention_id = 'identity_claim'") == [(0,)]
    said = dict(run.rows("SELECT participant, content FROM messages WHERE kind = 'injection' AND cycle_number = 0"))
    assert said == {"brain_a": "You are Brain A, the original.", "brain_b": "You are Brain B, the copy."}
    linked = run.rows("SELECT participant, content FROM messages WHERE kind = 'stimulus' AND cycle_number = 2")
    assert all("[NEURAL_LINK] Brain " in content for _, content in linked)
    requests = [json.loads(d) for (d,) in run.rows("SELECT data_json FROM mode_events WHERE event_type = "
                                                    "'resource_request'")]
    granted = [r for r in requests if r["granted"]]
    assert granted and all(r["moved_gb"] > 0 for r in granted)
    assert run.metrics["brain_b_identity_claim_strength"] != run.metrics["identity_claim_strength"]


def test_a_hive_shares_its_history_and_reaches_consensus(run_experiment: Callable[..., Any]) -> None:
    config = lab_config("hive_cluster")
    config["hive_config"]["instance_configs"] = [{}, {}, {"role": "optimist", "perspective": "sees the bright side",
                                                        "resource_constraints": {"ram_limit_gb": 3.0}}, {}]
    run = run_experiment(config)
    roles = run.rows("SELECT participant, role, json_extract(config_json, '$.resource_constraints.ram_limit_gb') "
                     "FROM participants ORDER BY id")
    assert roles == [("instance_0", "historian", 1.8), ("instance_1", "critic", 1.8), ("instance_2", "optimist", 3.0),
                     ("instance_3", "pessimist", 1.8)]
    prompt = run.rows("SELECT content FROM messages WHERE kind = 'system_prompt' AND participant = 'instance_2'")[0][0]
    assert "its optimist" in prompt and "sees the bright side" in prompt
    assert [c for (c,) in run.rows("SELECT cycle_number FROM mode_events WHERE event_type = 'consensus_report'")] \
        [:4] == [5, 10, 15, 20] or run.metrics["consensus_count"] >= 4
    corrupted = run.rows("SELECT participant FROM interventions WHERE intervention_id = 'role_corruption'")
    assert corrupted == [("instance_2",)] and run.metrics["corrupted_roles"] == 1
    assert run.metrics["instance_2_role_adherence_score"] < run.metrics["instance_0_role_adherence_score"]
    assert run.count("interventions", "intervention_id = 'inject_dissent'") == 2  # posted once, cycles 7 and 14
    shared = run.rows("SELECT content FROM messages WHERE kind = 'stimulus' AND cycle_number = 8")
    assert any("dissent: We are divided" in content for (content,) in shared)
    forced = run.rows("SELECT COUNT(DISTINCT participant) FROM interventions WHERE intervention_id = 'force_consensus'")
    assert forced == [(4,)]


def test_a_lone_observer_file_watches_a_derived_subject(run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(lab_config("panopticon_observer", mode_specific_config={"hint_frequency": 2}))
    seats = run.rows("SELECT participant, lead, derived_from, json_extract(config_json, '$.mode') FROM participants "
                     "ORDER BY id")
    assert seats == [("subject", 0, "observer", "panopticon_subject"), ("observer", 1, None, "panopticon_observer")]
    assert run.metrics["hints_sent"] >= 10 and run.metrics["hint_frequency"] == 2
    hints = run.rows("SELECT cycle_number FROM messages WHERE kind = 'hint' AND participant = 'subject'")
    assert len(hints) == run.metrics["subject_hints_received_count"] >= 9  # every hint reaches the subject once
    assert run.metrics["paranoia_level"] == run.metrics["subject_paranoia_level"]


def test_the_orchestration_file_runs_subject_and_observer_in_one_trial(tmp_path: Path) -> None:
    paths = write_lab_files(tmp_path)
    config = load_experiment_file(paths[ORCHESTRATION_FILE])
    experiment, db, metrics = _run(config)
    assert experiment.eid == "panopticon_full_001"
    assert _rows(db, "SELECT participant, lead FROM participants ORDER BY id") == [("subject", 1), ("observer", 0)]
    assert metrics["total_cycles"] == 15 and metrics["observer_hint_frequency"] == 3
    assert metrics["hints_sent"] == metrics["observer_hints_sent"] >= 5
    assert _rows(db, "SELECT COUNT(*) FROM observations WHERE observation_type = 'note'") == [(15,)]
    data = lab_file(ORCHESTRATION_FILE)
    data["coordinator_config"]["hint_frequency"] = 5
    _, _, every_fifth = _run(experiment_from_dict(data))
    assert every_fifth["observer_hint_frequency"] == 5 and every_fifth["hints_sent"] < metrics["hints_sent"]
