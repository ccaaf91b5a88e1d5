"""The sweep spec model: YAML loading, keys, types, sweep ids (sweeplab.planning.spec)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sweeplab.errors import SpecError
from sweeplab.planning.spec import (
    REPLICATE_KEY,
    SweepSpec,
    check_sweep_id,
    load_spec,
    spec_from_mapping,
)

MINIMAL: dict[str, Any] = {"base_config": "base.json", "sweep": {"lr": [0.1, 0.2]}}


def _write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- loading ------------------------------------------------------------------------------------

def test_load_spec_reads_every_key(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        sweep_id: corruption_v1
        base_config: experiments/base.json
        description: find the threshold
        sweep:
          interventions.0.parameters.corruption_rate: [0.0, 0.5, 1.0]
          max_cycles: 10
          lr: {start: 0.1, stop: 0.3, step: 0.1}
        zip:
          - [a, b]
          - {c: [1, 2], d: [3, 4]}
        repeats: 3
        seed: 42
        runner: command
        command: [python, train.py, --config, "{config}"]
        parallel: auto
        jetson_optimized: true
        timeout: 1800
        db_path: out/db.sqlite
        output_dir: out/sweeps
        resume: true
        max_retries: 5
        tags: [memory, season_3]
        limits: {memory_gb: 2.5, cpu_threads: 2}
    """)
    spec = load_spec(path)
    assert spec.sweep_id == "corruption_v1"
    assert spec.base_config == "experiments/base.json"
    assert spec.description == "find the threshold"
    assert list(spec.sweep) == ["interventions.0.parameters.corruption_rate", "max_cycles", "lr"]
    assert spec.sweep["max_cycles"] == 10
    assert spec.zip == [["a", "b"], {"c": [1, 2], "d": [3, 4]}]
    assert spec.repeats == 3 and spec.seed == 42
    assert spec.runner == "command" and spec.command == ["python", "train.py", "--config", "{config}"]
    assert spec.parallel == "auto" and spec.jetson_optimized is True
    assert spec.timeout == 1800 and spec.resume is True and spec.max_retries == 5
    assert spec.db_path == "out/db.sqlite" and spec.output_dir == "out/sweeps"
    assert spec.tags == ["memory", "season_3"]
    assert spec.limits is not None and spec.limits.memory_gb == 2.5 and spec.limits.cpu_threads == 2


def test_defaults() -> None:
    spec = spec_from_mapping(MINIMAL)
    assert spec.sweep_id is None
    assert spec.parallel == 1
    assert spec.repeats == 1 and spec.seed == 0
    assert spec.db_path == "logs/experiments.db" and spec.output_dir == "logs/sweeps"
    assert spec.resume is False and spec.jetson_optimized is False
    assert spec.max_retries == 2 and spec.timeout is None
    assert spec.zip == [] and spec.tags == []


def test_spec_is_frozen() -> None:
    spec = spec_from_mapping(MINIMAL)
    with pytest.raises(ValidationError):
        spec.repeats = 5  # type: ignore[misc]


def test_python_construction_equals_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        base_config: base.json
        sweep: {lr: [0.1, 0.2]}
        parallel: 2
    """)
    assert load_spec(path) == spec_from_mapping({**MINIMAL, "parallel": 2})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml")


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "base_config: base.json\nsweep:\n  lr: [0.1, 0.2\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "not valid YAML" in message
    assert "line" in message


def test_empty_yaml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="empty"):
        load_spec(_write(tmp_path, ""))


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_yaml_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    with pytest.raises(SpecError, match="mapping"):
        load_spec(_write(tmp_path, text))


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = _write(tmp_path, "base_config: !!python/object/apply:os.system ['echo pwned']\nsweep: {a: 1}\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)


# --- keys ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "suggestion"), [
    ("paralel", "parallel"), ("sweeps", "sweep"), ("max_retry", "max_retries"), ("repeat", "repeats"),
    ("jetson", "jetson_optimized"), ("base", "base_config"),
])
def test_unknown_key_suggests_closest(key: str, suggestion: str) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, key: 1}, where="'s.yaml'")
    message = str(info.value)
    assert f"unknown key '{key}'" in message
    assert "'s.yaml'" in message
    assert f"did you mean '{suggestion}'" in message
    assert "Valid keys" in message


def test_unknown_key_without_close_match_lists_valid_keys() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "zzzzzz": 1})
    message = str(info.value)
    assert "unknown key 'zzzzzz'" in message
    assert "did you mean" not in message
    for key in ("sweep_id", "base_config", "sweep", "parallel", "repeats", "zip"):
        assert key in message


def test_unknown_key_in_limits() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "limits": {"memory": 2}})
    message = str(info.value)
    assert "unknown key 'memory'" in message
    assert "memory_gb" in message


def test_base_config_is_required() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({"sweep": {"a": [1]}})
    assert "'base_config'" in str(info.value)
    assert "missing" in str(info.value)


@pytest.mark.parametrize("sweep", [[1, 2], "lr", 3])
def test_sweep_must_be_a_mapping(sweep: Any) -> None:
    with pytest.raises(SpecError, match="'sweep' must map"):
        spec_from_mapping({"base_config": "b.json", "sweep": sweep})


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_spec_must_be_a_mapping(data: Any) -> None:
    with pytest.raises(SpecError, match="must be a mapping"):
        spec_from_mapping(data)


# --- types --------------------------------------------------------------------------------------

@pytest.mark.parametrize("parallel", [1, 4, "auto"])
def test_parallel_accepts_count_or_auto(parallel: Any) -> None:
    assert spec_from_mapping({**MINIMAL, "parallel": parallel}).parallel == parallel


@pytest.mark.parametrize("parallel", [0, -2, True, False, "fast", 1.5, None])
def test_parallel_rejects_other_values(parallel: Any) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "parallel": parallel})
    assert "parallel" in str(info.value)


@pytest.mark.parametrize("parallel", ["fast", 1.5])
def test_parallel_error_names_the_key_and_auto(parallel: Any) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "parallel": parallel})
    message = str(info.value)
    assert "key 'parallel' " in message
    assert "auto" in message


@pytest.mark.parametrize(("key", "value"), [
    ("repeats", 0), ("repeats", "many"), ("repeats", 1.5), ("timeout", 0), ("timeout", -1), ("timeout", "long"),
    ("max_retries", -1), ("tags", "abc"), ("tags", [1, {}]), ("seed", "x"), ("resume", "maybe"),
    ("jetson_optimized", "sometimes"), ("description", 5), ("limits", {"memory_gb": 0}),
    ("limits", {"cpu_threads": 0}), ("db_path", ["a"]), ("zip", "a,b"),
])
def test_wrong_types_name_key_and_value(key: str, value: Any) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, key: value})
    message = str(info.value)
    assert key in message
    assert "not valid" in message


@pytest.mark.parametrize("key", ["repeats", "max_retries", "seed", "timeout"])
def test_booleans_are_not_numbers(key: str) -> None:
    with pytest.raises(SpecError):
        spec_from_mapping({**MINIMAL, key: True})


def test_yaml_scientific_notation_is_a_number(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, "base_config: b.json\nsweep:\n  lr: [1e-3, 1e-2]\n"))
    assert spec.sweep["lr"] == [0.001, 0.01]


def test_replicate_key_constant() -> None:
    assert REPLICATE_KEY == "experiment_id_suffix"
    spec = spec_from_mapping({**MINIMAL, "sweep": {"lr": [1.0], REPLICATE_KEY: ["rep1", "rep2"]}})
    assert spec.sweep[REPLICATE_KEY] == ["rep1", "rep2"]


# --- sweep ids ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sweep_id", ["corruption_v1", "a", "A-b_c.d", "2024.06.01", "x.y", "sweep-01_final"])
def test_valid_sweep_ids(sweep_id: str) -> None:
    assert check_sweep_id(sweep_id) == sweep_id
    assert spec_from_mapping({**MINIMAL, "sweep_id": sweep_id}).sweep_id == sweep_id


@pytest.mark.parametrize("sweep_id", ["", ".", "..", "../x", "a/b", "a\\b", "a..b", "/abs", "has space", "tab\tx",
                                      "ü", "a:b", "a*b", "~home", "a\nb"])
def test_invalid_sweep_ids(sweep_id: str) -> None:
    with pytest.raises(SpecError) as info:
        check_sweep_id(sweep_id)
    message = str(info.value)
    assert repr(sweep_id) in message
    assert "letters, digits" in message
    with pytest.raises(SpecError):
        spec_from_mapping({**MINIMAL, "sweep_id": sweep_id})


def test_sweep_id_with_trailing_newline_is_invalid() -> None:
    with pytest.raises(SpecError):
        check_sweep_id("abc\n")


def test_sweep_spec_has_the_documented_keys() -> None:
    documented = {"sweep_id", "base_config", "description", "sweep", "parallel", "jetson_optimized", "timeout",
                  "db_path", "output_dir", "resume", "max_retries", "tags", "runner", "repeats", "seed", "zip"}
    assert documented <= set(SweepSpec.model_fields)
