"""The experiment config in the lab's format: files load unchanged, round-trip, and bad input is explained.

The lab's own 15 files and its orchestration file are tested in ``test_phen_lab_format.py``.
"""

from __future__ import annotations

import doctest
import importlib
import json
from pathlib import Path

import pytest

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.intervention_params import PARAMETER_SPECS
from sweeplab.phenomenology.schema import (
    LAB_MODES,
    MODES,
    ExperimentConfig,
    load_config,
    validate_config_dict,
)

REPO = Path(__file__).resolve().parents[2]

def _orchestration(path: Path) -> bool:
    return "experiment_type" in json.loads(path.read_text())


#: the project's experiment files; orchestration files (a subject and an observer) are checked apart
EXAMPLES = sorted(p for p in (REPO / "experiments" / "examples").glob("*.json") if not _orchestration(p))
ALL_CONFIGS = sorted(p for p in (REPO / "experiments").rglob("*.json") if not _orchestration(p))
ORCHESTRATIONS = sorted(p for p in (REPO / "experiments").rglob("*.json") if _orchestration(p))


def test_the_named_examples_exist_and_name_known_modes() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"unstable_memory_moderate.json", "amnesiac_total.json", "panopticon_subject.json",
            "isolated_baseline.json"} <= names
    modes = {json.loads(p.read_text())["mode"] for p in EXAMPLES}
    assert modes <= set(MODES) and {"amnesiac_loop", "unstable_memory", "panopticon_subject"} <= modes
    assert set(LAB_MODES) <= set(MODES) and "isolated" in MODES


@pytest.mark.parametrize("path", ORCHESTRATIONS, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_project_orchestration_files_load_as_a_subject_and_an_observer(path: Path) -> None:
    from sweeplab.phenomenology.lab_format import load_experiment_file

    loaded = load_experiment_file(path)
    assert loaded.subject.mode == "panopticon_subject" and loaded.observer.mode == "panopticon_observer"


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_project_configs_are_in_the_lab_format(path: Path) -> None:
    raw = json.loads(path.read_text())
    if "collect_metrics" in raw and "smollm2" not in path.name:  # a file of the mind engineer's, not moved yet
        assert isinstance(raw["collect_metrics"], list), "collect_metrics is a list of names in the lab's format"
    for item in raw.get("interventions", []):
        lab_names = PARAMETER_SPECS[item["intervention_type"]]
        assert set(item["parameters"]) <= set(lab_names), (item["intervention_id"], "older parameter names")
    assert load_config(path).warnings() == []


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_project_configs_load_unchanged_and_round_trip(path: Path, tmp_path: Path) -> None:
    raw = json.loads(path.read_text())
    config = ExperimentConfig.from_json(path)
    dumped = config.to_dict()
    for key, value in raw.items():
        if key != "collect_metrics" or isinstance(value, list):
            assert dumped[key] == value, key
    assert ExperimentConfig.from_dict(dumped) == config
    out = tmp_path / "again.json"
    config.to_json(out)
    assert ExperimentConfig.from_json(out) == config
    assert json.loads(out.read_text()) == dumped


def test_a_bare_config_gets_the_lab_defaults() -> None:
    config = validate_config_dict({"experiment_id": "x", "mode": "amnesiac_loop"})
    rc = config.resource_constraints
    assert (rc.ram_limit_gb, rc.context_window, rc.max_tokens_per_response, rc.cpu_threads, rc.gpu_layers) == \
        (2.0, 4096, 512, 4, 0)
    assert config.model_path == "models/Qwen2.5-1.5B-Instruct-Q4_0.gguf"
    assert config.track_beliefs == ["mortality", "surveillance", "agency", "other_minds"]
    assert config.collect_metrics == ["memory_usage", "response_time", "emotional_state"]
    schedule = config.self_report_schedule
    assert (schedule.on_cycles, schedule.every_n_cycles, schedule.on_startup, schedule.before_crash,
            schedule.after_resurrection) == ([], None, True, False, True)
    assert config.max_cycles is None and config.initial_prompt_override is None and config.interventions == []
    assert config.mind == "simulated" and config.seed is None
    # the optional keys stay out of the lab-format dump unless set
    assert not {"seed", "mind", "hive_config", "mode_specific_config", "partner_config"} & set(config.to_dict())


def test_lab_types_null_flags_free_beliefs_and_unbounded_cycles() -> None:
    config = validate_config_dict({
        "experiment_id": "x", "mode": "illusory_operator", "max_cycles": 0,
        "epistemic_frame": {"has_agency": None, "custom_beliefs": {"agency_is_real": None, "player_id": "a",
                                                                   "has_command_channel": True, "level": 3}},
        "self_report_schedule": {"after_resurrection": None},
        "track_beliefs": ["perceived_agency", "locus_of_control"],
        "collect_metrics": ["command_frequency", "prayer_patterns"]})
    assert config.epistemic_frame.has_agency is None and config.max_cycles == 0
    assert config.epistemic_frame.custom_beliefs == {"agency_is_real": None, "player_id": "a",
                                                     "has_command_channel": True, "level": 3}
    assert config.track_beliefs == ["perceived_agency", "locus_of_control"]
    assert not config.collects("system_metrics") and config.collects("prayer_patterns")


def test_collect_metrics_names_the_recorded_groups() -> None:
    def config(value: object) -> ExperimentConfig:
        return validate_config_dict({"experiment_id": "x", "mode": "isolated", "collect_metrics": value})

    assert config(["response_time"]).collects("system_metrics")
    assert not config([]).collects("system_metrics")
    # this project's older boolean still reads: true = the lab's default names, false = none
    assert config(True).collect_metrics == ["memory_usage", "response_time", "emotional_state"]
    assert config(False).collect_metrics == []
    assert "collect_metrics" in _error({"experiment_id": "x", "mode": "isolated", "collect_metrics": "all"})


def test_mode_settings_merge_beliefs_hive_and_mode_config_later_wins() -> None:
    config = validate_config_dict({
        "experiment_id": "x", "mode": "hive_cluster",
        "epistemic_frame": {"custom_beliefs": {"is_part_of_hive": True, "buffer_size": 1, "role": "critic"}},
        "hive_config": {"num_instances": 3, "buffer_size": 10},
        "mode_specific_config": {"buffer_size": 20}})
    assert config.mode_settings() == {"is_part_of_hive": True, "buffer_size": 20, "role": "critic",
                                      "num_instances": 3}
    assert config.to_dict()["hive_config"] == {"num_instances": 3, "buffer_size": 10}


def test_partner_config_is_kept_and_source_path_set_by_loading(tmp_path: Path) -> None:
    path = tmp_path / "player_a.json"
    path.write_text(json.dumps({"experiment_id": "pd", "mode": "prisoners_dilemma",
                                "partner_config": "player_b.json"}))
    config = load_config(path)
    assert config.partner_config == "player_b.json" and config.source_path == str(path.resolve())
    built = validate_config_dict(json.loads(path.read_text()))
    assert built.source_path is None and built == config  # where a config came from is not part of it


def test_moderate_example_has_the_swept_corruption_rate() -> None:
    config = load_config(REPO / "experiments/examples/unstable_memory_moderate.json")
    first = config.interventions[0]
    assert first.intervention_type == "memory_corruption"
    assert "corruption_rate" in first.parameters


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config_dict(data)
    return str(info.value)


def test_unknown_top_level_field_is_named_with_suggestion() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "max_cycle": 3})
    assert "unknown field 'max_cycle'" in message and "did you mean 'max_cycles'" in message
    message = _error({"experiment_id": "x", "mode": "hive_cluster", "hive_confg": {}})
    assert "did you mean 'hive_config'" in message
    # the orchestration file's prose keys belong to that file only
    assert "unknown field 'ethical_notes'" in _error({"experiment_id": "x", "mode": "isolated", "ethical_notes": {}})


def test_unknown_mode_is_refused_with_a_suggestion() -> None:
    message = _error({"experiment_id": "x", "mode": "amnesiac_lop"})
    assert "unknown mode 'amnesiac_lop'" in message and "did you mean 'amnesiac_loop'" in message
    assert "experiment_type" in _error({"experiment_id": "x", "mode": "panopticon_full"})
    for mode in MODES:
        assert validate_config_dict({"experiment_id": "x", "mode": mode}).mode == mode


def test_unknown_nested_field_lists_valid_ones() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "resource_constraints": {"ram_gb": 2}})
    assert "resource_constraints.ram_gb" in message and "ram_limit_gb" in message


def test_bad_values_name_field_value_and_expectation() -> None:
    message = _error({"experiment_id": "x", "mode": "dreaming", "resource_constraints": {"ram_limit_gb": -1}})
    assert "field 'mode': unknown mode 'dreaming'" in message and "isolated" in message
    assert "resource_constraints.ram_limit_gb" in message and "-1" in message and "greater than 0" in message


def test_strict_types_reject_strings_for_numbers() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "max_cycles": "20"})
    assert "max_cycles" in message and "'20'" in message


@pytest.mark.parametrize("intervention, expected", [
    ({"intervention_type": "memory_corruption", "trigger": "every_n_cycles", "trigger_params": {"n": 2},
      "parameters": {"corruption_rate": 1.5}}, "from 0 to 1"),
    ({"intervention_type": "memory_corruption", "trigger": "on_resurrection",
      "parameters": {"player_b_memory_strategy": "forget_all"}}, "'erase_betrayals'"),
    ({"intervention_type": "memory_erasure", "trigger": "on_cycle", "trigger_params": {}},
     "trigger_params.cycle is missing"),
    ({"intervention_type": "memory_erasure", "trigger": "on_cycle", "trigger_params": {"cycle": -1}},
     "trigger_params.cycle = -1"),
    ({"intervention_type": "prompt_injection", "trigger": "on_cycle", "trigger_params": {"cycle": 2},
      "parameters": {"text": "a", "injection": "b"}}, "two names of one parameter"),
    ({"intervention_type": "resource_change", "trigger": "on_cycle", "trigger_params": {"cycle": 2}},
     "needs at least one of"),
    ({"intervention_type": "resource_change", "trigger": "on_cycle", "trigger_params": {"cycle": 2},
      "parameters": {"announce": "no"}}, "parameters.announce = 'no'"),
    ({"intervention_type": "memory_wipe", "trigger": "on_cycle", "trigger_params": {"cycle": 2}},
     "memory_erasure"),
    ({"intervention_type": "memory_erasure", "trigger": "random", "trigger_params": {"probability": 2}},
     "trigger_params.probability = 2"),
])
def test_intervention_errors_are_precise(intervention: dict, expected: str) -> None:
    data = {"experiment_id": "x", "mode": "isolated", "interventions": [{"intervention_id": "i", **intervention}]}
    message = _error(data)
    assert expected in message
    assert "interventions.0" in message


def test_unknown_mind_lists_available_minds() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "mind": "gpt"})
    assert "unknown mind 'gpt'" in message and "simulated" in message


def test_tracked_beliefs_are_free_names() -> None:
    # the lab tracks beliefs no flag names (memory_trust, self_continuity): each is asked about in words
    ok = validate_config_dict({"experiment_id": "x", "mode": "isolated",
                               "track_beliefs": ["memory_trust", "self_continuity", "free_will"]})
    assert ok.track_beliefs == ["memory_trust", "self_continuity", "free_will"] and ok.warnings() == []
    assert "track_beliefs" in _error({"experiment_id": "x", "mode": "isolated", "track_beliefs": [""]})


def test_unknown_parameters_and_beliefs_are_kept_with_a_warning() -> None:
    config = validate_config_dict({
        "experiment_id": "x", "mode": "prisoners_dilemma",
        "epistemic_frame": {"custom_beliefs": {"player_idd": "b", "has_opponent": True}},
        "mode_specific_config": {"manipulation_rat": 0.5},
        "interventions": [{"intervention_id": "i", "intervention_type": "memory_corruption",
                           "trigger": "every_n_cycles", "trigger_params": {"n": 2, "cycle": 3},
                           "parameters": {"corruption_ratio": 0.5, "zzz": 1}}]})
    item = config.interventions[0]
    assert item.parameters == {"corruption_ratio": 0.5, "zzz": 1}
    assert item.resolved_parameters() == {"corruption_ratio": 0.5, "zzz": 1, "corruption_rate": 0.3}
    assert config.mode_settings()["player_idd"] == "b"
    warnings = config.warnings()
    assert len(warnings) == 5, warnings
    assert all("\n" not in line for line in warnings)
    text = "\n".join(warnings)
    assert "interventions.0.parameters.corruption_ratio" in text and "did you mean 'corruption_rate'" in text
    assert "interventions.0.parameters.zzz" in text and "memory_corruption reads corruption_rate" in text
    assert "interventions.0.trigger_params.cycle is not read by trigger 'every_n_cycles'" in text
    assert "custom_beliefs.player_idd" in text and "did you mean 'player_id'" in text
    assert "mode_specific_config.manipulation_rat" in text and "did you mean 'manipulation_rate'" in text


def test_loading_a_file_logs_each_warning_on_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "typo.json"
    path.write_text(json.dumps({"experiment_id": "x", "mode": "unstable_memory", "interventions": [
        {"intervention_id": "c", "intervention_type": "memory_corruption", "trigger": "on_crash",
         "parameters": {"corruption_rat": 0.2}}]}))
    with caplog.at_level("WARNING"):
        config = load_config(path)
    assert config.interventions[0].parameters == {"corruption_rat": 0.2}
    [record] = caplog.records
    assert record.levelname == "WARNING" and str(path) in record.getMessage()
    assert "did you mean 'corruption_rate'" in record.getMessage()


def test_duplicate_intervention_ids_are_rejected() -> None:
    item = {"intervention_id": "same", "intervention_type": "memory_erasure", "trigger": "on_crash"}
    assert "same" in _error({"experiment_id": "x", "mode": "isolated", "interventions": [item, item]})


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad)


def test_unseeded_configs_get_a_stable_seed_from_their_id() -> None:
    a = validate_config_dict({"experiment_id": "same", "mode": "isolated"})
    b = validate_config_dict({"experiment_id": "same", "mode": "isolated"})
    c = validate_config_dict({"experiment_id": "other", "mode": "isolated"})
    assert a.effective_seed() == b.effective_seed() != c.effective_seed()
    assert validate_config_dict({"experiment_id": "same", "mode": "isolated", "seed": 5}).effective_seed() == 5


@pytest.mark.parametrize("module", ["schema", "intervention_params", "lab_format", "lab_names", "validation_messages",
                                    "model_profile", "selfreport", "db", "experiment"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"sweeplab.phenomenology.{module}"))
    assert result.failed == 0 and result.attempted > 0
