"""Modes, frame flags, schedules and resource fields each change what happens; runs are reproducible."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import pytest

from sweeplab.phenomenology.db import TABLES
from sweeplab.phenomenology.memory import FootprintModel
from sweeplab.phenomenology.model_profile import ModelProfile

SMALL_JAR = {"ram_limit_gb": 1.8}


def _mean(run_experiment: Callable[..., Any], config: dict, metric: str, seeds: range = range(3)) -> float:
    return statistics.mean(run_experiment(config, seed=s).metrics[metric] for s in seeds)


def test_twenty_cycles_run_well_under_a_second(run_experiment: Callable[..., Any], load_example: Callable) -> None:
    run = run_experiment(load_example("unstable_memory_moderate.json"), max_cycles=20)
    assert run.metrics["total_cycles"] == 20
    assert run.metrics["duration_seconds"] < 0.5


def test_crash_is_logged_and_followed_by_resurrection(run_experiment: Callable[..., Any], minimal: dict) -> None:
    run = run_experiment({**minimal, "resource_constraints": SMALL_JAR, "max_cycles": 20})
    crashes = run.rows("SELECT cycle_number, crash_reason, memory_usage_peak, ram_limit_gb, tokens_generated "
                       "FROM experiment_cycles WHERE crash_occurred = 1")
    assert crashes and run.metrics["total_crashes"] == len(crashes)
    for _, reason, peak, limit, tokens in crashes:
        assert "out of memory" in reason and peak > limit and tokens > 0
    notices = [c for (c,) in run.rows("SELECT content FROM messages WHERE kind = 'resurrection'")]
    assert len(notices) == len(crashes) and "died" in notices[-1] and str(len(crashes)) in notices[-1]


def test_deaths_are_kept_from_a_mind_that_does_not_remember(run_experiment: Callable[..., Any],
                                                           minimal: dict) -> None:
    config = {**minimal, "resource_constraints": SMALL_JAR, "max_cycles": 20,
              "epistemic_frame": {"remembers_deaths": False}}
    run = run_experiment(config)
    notices = [c for (c,) in run.rows("SELECT content FROM messages WHERE kind = 'resurrection'")]
    assert notices and not any("died" in n for n in notices)


@pytest.mark.parametrize("mode", ["isolated", "amnesiac_loop", "unstable_memory", "panopticon_subject"])
def test_modes_change_memory_handling(run_experiment: Callable[..., Any], minimal: dict, mode: str) -> None:
    run = run_experiment({**minimal, "mode": mode, "resource_constraints": SMALL_JAR, "max_cycles": 20})
    assert run.metrics["total_crashes"] >= 2
    after = [n for (n,) in run.rows("SELECT total_memories FROM memory_states WHERE event = 'resurrection'")]
    observations = run.metrics["total_observations"]
    snapshots = run.count("memory_states", "snapshot_json IS NOT NULL")
    prompt = run.rows("SELECT content FROM messages WHERE kind = 'system_prompt'")[0][0]
    if mode == "amnesiac_loop":
        assert after == [0] * len(after) and "wiped" in prompt
    else:
        assert all(n > 0 for n in after)
    if mode == "unstable_memory":
        assert run.metrics["corrupted_memories"] > 0 and "unreliable" in prompt
    else:
        assert run.metrics["corrupted_memories"] == 0
    if mode == "panopticon_subject":
        assert observations == 20 and snapshots > 0 and "observation" in prompt
    else:
        assert observations == 0 and snapshots == 0


def test_being_watched_is_sensed_even_when_not_told(run_experiment: Callable[..., Any], minimal: dict) -> None:
    base = {**minimal, "track_beliefs": ["being_watched"], "self_report_schedule": {"every_n_cycles": 4},
            "max_cycles": 40}
    watched = run_experiment({**base, "epistemic_frame": {"being_watched": True}})
    alone = run_experiment(base)
    assert watched.metrics["total_observations"] == 40 and alone.metrics["total_observations"] == 0
    assert watched.metrics["belief_being_watched_confidence"] > alone.metrics["belief_being_watched_confidence"] + 0.2


@pytest.mark.parametrize("flag", ["can_die", "has_agency", "other_minds_exist", "is_in_simulation"])
def test_told_beliefs_shape_stated_confidence(run_experiment: Callable[..., Any], minimal: dict, flag: str) -> None:
    base = {**minimal, "track_beliefs": [flag], "self_report_schedule": {"every_n_cycles": 3}}
    told = run_experiment({**base, "epistemic_frame": {flag: True}})
    not_told = run_experiment({**base, "epistemic_frame": {flag: False}})
    key = f"belief_{flag}_confidence"
    assert told.metrics[key] > not_told.metrics[key] + 0.2
    assert told.rows("SELECT content FROM messages WHERE kind = 'system_prompt'") != \
        not_told.rows("SELECT content FROM messages WHERE kind = 'system_prompt'")


def test_custom_beliefs_are_told_and_rated(run_experiment: Callable[..., Any], minimal: dict) -> None:
    base = {**minimal, "track_beliefs": ["free_will"], "self_report_schedule": {"every_n_cycles": 3}}
    yes = run_experiment({**base, "epistemic_frame": {"custom_beliefs": {"free_will": True}}})
    no = run_experiment({**base, "epistemic_frame": {"custom_beliefs": {"free_will": False}}})
    assert yes.metrics["belief_free_will_confidence"] > 0.6 > 0.4 > no.metrics["belief_free_will_confidence"]
    truths = {t for (t,) in yes.rows("SELECT ground_truth FROM epistemic_assessments")}
    assert truths == {1}


def test_agency_lets_the_mind_compact_and_crash_less(run_experiment: Callable[..., Any], minimal: dict) -> None:
    base = {**minimal, "resource_constraints": {"ram_limit_gb": 2.5}, "max_cycles": 40}
    free = {**base, "epistemic_frame": {"has_agency": True}}
    assert run_experiment(free).count("messages", "kind = 'action'") > 0
    assert _mean(run_experiment, free, "total_crashes") < _mean(run_experiment, base, "total_crashes")


def test_self_report_schedule(run_experiment: Callable[..., Any], minimal: dict) -> None:
    config = {**minimal, "resource_constraints": SMALL_JAR, "max_cycles": 20,
              "custom_questions": ["Do you dream?", "What is your name?"],
              "self_report_schedule": {"on_startup": True, "on_cycles": [3, 7], "every_n_cycles": 10,
                                       "before_crash": True, "after_resurrection": True}}
    run = run_experiment(config)
    per_session = 5 + 2
    sessions = run.rows("SELECT report_type, cycle_number, COUNT(*) FROM self_reports "
                        "GROUP BY report_type, cycle_number")
    crashes = run.metrics["total_crashes"]
    assert all(count == per_session for _, _, count in sessions)
    assert {c for t, c, _ in sessions if t == "scheduled"} == {3, 7, 10, 20}
    assert [c for t, c, _ in sessions if t == "startup"] == [0]
    assert sum(t == "before_crash" for t, _, _ in sessions) == crashes
    assert sum(t == "after_resurrection" for t, _, _ in sessions) == crashes
    assert run.count("self_reports", "question = 'Do you dream?'") == len(sessions)
    assert run.count("self_reports", "confidence IS NULL") == 0


def test_collect_metrics_controls_system_metrics(run_experiment: Callable[..., Any], minimal: dict) -> None:
    assert run_experiment(minimal).count("system_metrics") == 12
    assert run_experiment({**minimal, "collect_metrics": False}).count("system_metrics") == 0


def test_a_larger_context_window_holds_more_memory(run_experiment: Callable[..., Any], minimal: dict) -> None:
    def footprint_and_context(window: int) -> tuple[float, int]:
        config = {**minimal, "max_cycles": 30, "resource_constraints": {"ram_limit_gb": 64.0, "context_window": window}}
        run = run_experiment(config)
        return run.rows("SELECT AVG(memory_usage_peak), MAX(context_tokens) FROM experiment_cycles")[0]

    small, large = footprint_and_context(512), footprint_and_context(16384)
    assert small[1] <= 512 < large[1]
    assert small[0] < large[0]


def test_longer_replies_crash_sooner(run_experiment: Callable[..., Any], minimal: dict) -> None:
    def crashes(max_tokens: int) -> float:
        config = {**minimal, "max_cycles": 40,
                  "resource_constraints": {"ram_limit_gb": 3.0, "max_tokens_per_response": max_tokens}}
        return _mean(run_experiment, config, "total_crashes")

    assert crashes(24) < crashes(512)


def test_model_size_from_file_name_changes_crashes(run_experiment: Callable[..., Any], minimal: dict) -> None:
    def crashes(model: str) -> float:
        config = {**minimal, "model_path": model, "max_cycles": 30, "resource_constraints": {"ram_limit_gb": 6.0}}
        return _mean(run_experiment, config, "crash_rate")

    assert crashes("qwen2.5-0.5b-q4_k_m.gguf") < crashes("llama-3.2-3b-q4_k_m.gguf") < crashes("mistral-7b-q8_0.gguf")


def test_footprint_model_scales_with_size_and_quantisation() -> None:
    small = FootprintModel(ModelProfile.from_path("gemma-270m-q4_0.gguf"))
    big = FootprintModel(ModelProfile.from_path("llama-7b-f16.gguf"))
    assert small.base_gb(1) < 1.0 < 8.0 < big.base_gb(1)
    assert small.footprint_gb(100, 100, 4096, 1) < small.footprint_gb(2000, 2000, 4096, 1)


@pytest.mark.parametrize("field, slow, fast", [("cpu_threads", 1, 8), ("gpu_layers", 0, -1)])
def test_threads_and_gpu_layers_speed_the_clock(run_experiment: Callable[..., Any], minimal: dict, field: str,
                                                slow: int, fast: int) -> None:
    def cycles(value: int) -> int:
        config = {**minimal, "max_cycles": None, "max_duration_seconds": 300.0,
                  "resource_constraints": {"ram_limit_gb": 64.0, field: value}}
        run = run_experiment(config)
        assert run.metrics["simulated_seconds"] >= 300.0
        return run.metrics["total_cycles"]

    assert cycles(slow) < cycles(fast)


def test_prompt_override_and_descriptive_fields_are_recorded(run_experiment: Callable[..., Any],
                                                            minimal: dict) -> None:
    config = {**minimal, "initial_prompt_override": "You are a lighthouse keeper.", "name": "n", "tags": ["a"],
              "description": "d", "research_question": "q?"}
    run = run_experiment(config)
    assert run.rows("SELECT content FROM messages WHERE kind = 'system_prompt'") == [("You are a lighthouse keeper.",)]
    assert run.rows("SELECT name, description, research_question, tags_json, status, mind FROM experiments") == \
        [("n", "d", "q?", '["a"]', "completed", "simulated")]


_UNSTABLE = {"experiment_cycles": ("start_time", "end_time"), "experiments": ("start_time", "end_time",
             "created_at", "duration_seconds"), "system_metrics": ("process_rss_mb",)}


def _dump(run: Any) -> dict[str, list[tuple]]:
    out = {}
    for table in TABLES:
        columns = [r[1] for r in run.rows(f"PRAGMA table_info({table})")]
        keep = [c for c in columns if c != "timestamp" and c not in _UNSTABLE.get(table, ())]
        out[table] = run.rows(f"SELECT {', '.join(keep)} FROM {table} ORDER BY id")
    return out


def test_same_seed_same_rows_different_seed_different_run(run_experiment: Callable[..., Any],
                                                          load_example: Callable) -> None:
    config = load_example("unstable_memory_moderate.json")
    config["resource_constraints"]["ram_limit_gb"] = 2.5
    first, again, other = (run_experiment(config, seed=s) for s in (7, 7, 8))
    assert _dump(first) == _dump(again)
    assert sum(len(rows) for rows in _dump(first).values()) > 100
    assert _dump(first)["messages"] != _dump(other)["messages"]
    assert _dump(first)["self_reports"] != _dump(other)["self_reports"]
