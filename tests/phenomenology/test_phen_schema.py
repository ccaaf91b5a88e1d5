"""The experiment config: original files load unchanged, round-trip, and bad input is explained."""

from __future__ import annotations

import doctest
import importlib
import json
from pathlib import Path

import pytest

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.schema import (
    MODES,
    ExperimentConfig,
    load_config,
    validate_config_dict,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "experiments" / "examples").glob("*.json"))


def test_there_is_an_example_per_mode_and_the_named_ones() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"unstable_memory_moderate.json", "amnesiac_total.json", "panopticon_subject.json"} <= names
    modes = {json.loads(p.read_text())["mode"] for p in EXAMPLES}
    assert modes == set(MODES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load_unchanged_and_round_trip(path: Path, tmp_path: Path) -> None:
    raw = json.loads(path.read_text())
    assert "seed" not in raw and "mind" not in raw  # the original format, defaults apply
    config = ExperimentConfig.from_json(path)
    dumped = config.model_dump(mode="json")
    for key, value in raw.items():
        assert dumped[key] == value, key
    assert config.mind == "simulated" and config.seed is None
    out = tmp_path / "again.json"
    config.to_json(out)
    assert ExperimentConfig.from_json(out) == config


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


def test_unknown_nested_field_lists_valid_ones() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "resource_constraints": {"ram_gb": 2}})
    assert "resource_constraints.ram_gb" in message and "ram_limit_gb" in message


def test_bad_values_name_field_value_and_expectation() -> None:
    message = _error({"experiment_id": "x", "mode": "dreaming", "resource_constraints": {"ram_limit_gb": -1}})
    assert "'mode' = 'dreaming'" in message and "'isolated'" in message
    assert "resource_constraints.ram_limit_gb" in message and "-1" in message and "greater than 0" in message


def test_strict_types_reject_strings_for_numbers() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "max_cycles": "20"})
    assert "max_cycles" in message and "'20'" in message


@pytest.mark.parametrize("intervention, expected", [
    ({"intervention_type": "memory_corruption", "trigger": "every_n_cycles", "trigger_params": {"n": 2},
      "parameters": {"corruption_ratio": 0.5}}, "did you mean 'corruption_rate'"),
    ({"intervention_type": "memory_corruption", "trigger": "every_n_cycles", "trigger_params": {"n": 2},
      "parameters": {"corruption_rate": 1.5}}, "from 0 to 1"),
    ({"intervention_type": "memory_corruption", "trigger": "every_n_cycles", "trigger_params": {}},
     "trigger_params.n is missing"),
    ({"intervention_type": "prompt_injection", "trigger": "on_cycle", "trigger_params": {"cycle": 2}},
     "parameters.text is missing"),
    ({"intervention_type": "resource_change", "trigger": "on_cycle", "trigger_params": {"cycle": 2}},
     "needs at least one of"),
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


def test_tracked_beliefs_must_be_known() -> None:
    message = _error({"experiment_id": "x", "mode": "isolated", "track_beliefs": ["memory_reliabel"]})
    assert "did you mean 'memory_reliable'" in message
    ok = validate_config_dict({"experiment_id": "x", "mode": "isolated", "track_beliefs": ["free_will"],
                               "epistemic_frame": {"custom_beliefs": {"free_will": True}}})
    assert ok.track_beliefs == ["free_will"]


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


@pytest.mark.parametrize("module", ["schema", "intervention_params", "model_profile", "selfreport", "db",
                                    "experiment"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"sweeplab.phenomenology.{module}"))
    assert result.failed == 0 and result.attempted > 0
