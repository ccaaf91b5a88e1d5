"""The sweep spec model: YAML loading, keys, types, sweep ids (sweeplab.planning.spec)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sweeplab.errors import SpecError
from sweeplab.planning.json_data import MAX_DEPTH
from sweeplab.planning.spec import (
    MAX_MEMORY_GB,
    MAX_REPEATS,
    MAX_SWEEP_ID_LENGTH,
    MIN_MEMORY_GB,
    REPLICATE_KEY,
    SweepSpec,
    check_sweep_id,
    load_spec,
    spec_from_mapping,
)
from sweeplab.planning.yaml_types import MAX_ALIAS_NODES

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


# --- reading YAML: duplicate keys, aliases, nesting, tags (issue 11, items 7, 10, 11) ---------------

def _refused(tmp_path: Path, text: str, *fragments: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, text))
    message = str(info.value)
    assert "not valid YAML" in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    _refused(tmp_path, "base_config: b.json\nsweep:\n  x: [1, 2]\n  y: [1]\n  x: [3]\n",
             "at line 5", "the key 'x' appears twice", "lines 3 and 5")


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    _refused(tmp_path, "base_config: a.json\nsweep: {x: [1]}\nbase_config: b.json\n", "'base_config'", "lines 1 and 3")


def test_keys_equal_as_numbers_are_duplicates(tmp_path: Path) -> None:
    _refused(tmp_path, "base_config: b.json\nsweep:\n  x: [{1: a, 1.0: b}]\n", "appears twice", "lines 3 and 3")


def test_merge_key_may_be_overridden(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, "base_config: b.json\nsweep:\n  opt: [&o {lr: 1, m: 2}, {<<: *o, lr: 3}]\n"))
    assert spec.sweep["opt"] == [{"lr": 1, "m": 2}, {"lr": 3, "m": 2}]


@pytest.mark.parametrize("value", ["&r [1, *r]", "&r {a: [*r]}", "&r [[[*r]]]"])
def test_recursive_alias(tmp_path: Path, value: str) -> None:
    _refused(tmp_path, f"base_config: b.json\nsweep:\n  x: {value}\n", "line 3", "*r lies inside its own anchor &r")


def test_undefined_alias(tmp_path: Path) -> None:
    _refused(tmp_path, "base_config: b.json\nsweep:\n  x: [*nope]\n", "undefined alias")


def _aliases(levels: int, width: int) -> str:
    parts = ["&a0 [" + ", ".join(["1"] * width) + "]"]
    parts += [f"&a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "base_config: b.json\nsweep:\n  x: [" + ", ".join(parts) + "]\n"


def test_aliases_within_the_budget_load(tmp_path: Path) -> None:
    # a0 holds 11 nodes, a1 111, a2 1111: aliases add 10 * 11 + 10 * 111 + 10 * 1111 = 12330 nodes
    spec = load_spec(_write(tmp_path, _aliases(levels=4, width=10)))
    assert len(spec.sweep["x"]) == 4
    assert len(spec.sweep["x"][3]) == 10 and spec.sweep["x"][3][0] == spec.sweep["x"][2]


def test_alias_expansion_beyond_the_budget(tmp_path: Path) -> None:
    assert MAX_ALIAS_NODES == 100_000
    # a fifth level adds 10 * 11111 more: 123430 in all, past 100000
    _refused(tmp_path, _aliases(levels=5, width=10), "line 3", f"more than {MAX_ALIAS_NODES} values")


def test_a_large_file_without_aliases_is_not_limited(tmp_path: Path) -> None:
    values = ", ".join(str(n) for n in range(150_000))
    spec = load_spec(_write(tmp_path, f"base_config: b.json\nsweep:\n  x: [{values}]\n"))
    assert len(spec.sweep["x"]) == 150_000


def test_nesting_up_to_the_limit_loads(tmp_path: Path) -> None:
    levels = MAX_DEPTH - 2  # the document and 'sweep' are two levels
    spec = load_spec(_write(tmp_path, "base_config: b.json\nsweep:\n  x: " + "[" * levels + "1" + "]" * levels + "\n"))
    assert spec.sweep["x"]


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, 5000, 200_000])
def test_deeper_nesting_is_refused(tmp_path: Path, levels: int) -> None:
    _refused(tmp_path, "base_config: b.json\nsweep:\n  x: " + "[" * levels + "1" + "]" * levels + "\n",
             f"nested more than {MAX_DEPTH} levels")


def test_an_alias_cannot_nest_past_the_limit(tmp_path: Path) -> None:
    deep = "[" * 60 + "1" + "]" * 60
    _refused(tmp_path, f"base_config: b.json\nsweep:\n  x: [&d {deep}, " + "[" * 50 + "*d" + "]" * 50 + "]\n",
             "*d nests the document")


@pytest.mark.parametrize(("value", "fragments"), [
    ("!!float abc", ["'abc' is tagged !!float", "not a number"]),
    ("!!int 1.5", ["'1.5' is tagged !!int"]),
    ("!!int " + "9" * 5000, ["is tagged !!int", "4300 digits"]),
    ("!!bool yes", ["'yes' is tagged !!bool"]),
    ("!!timestamp 2024-06-01", ["!!timestamp is not supported"]),
    ("!!binary aGk=", ["!!binary is not supported"]),
    ("!!set {a}", ["!!set is not supported"]),
    ("!!omap [a: 1]", ["!!omap is not supported"]),
    ("!!python/object:os.system x", ["python/object"]),
    ('"\\U1e400000"', ["cannot be read", "chr()"]),
])
def test_values_that_do_not_read_as_their_tag(tmp_path: Path, value: str, fragments: list[str]) -> None:
    message = _refused(tmp_path, f"base_config: b.json\nsweep:\n  x: [{value}]\n", "line 3", *fragments)
    assert len(message) < 600


@pytest.mark.parametrize(("text", "value"), [
    ("!!float 1_000.5", 1000.5), ("!!float 3", 3.0), ("!!int 0x1F", 31), ("!!int 010", 10), ("!!bool False", False),
    ("2024-06-01", "2024-06-01"), ("12:30", "12:30"), ("=", "="), ("on", "on"), ("1e-3", 0.001),
])
def test_yaml_1_2_scalars(tmp_path: Path, text: str, value: Any) -> None:
    spec = load_spec(_write(tmp_path, f"base_config: b.json\nsweep:\n  x: [{text}]\n"))
    assert spec.sweep["x"] == [value] and type(spec.sweep["x"][0]) is type(value)


# --- numbers, sizes and paths of the spec (issue 11, items 2 and 10) -------------------------------

@pytest.mark.parametrize(("key", "value"), [
    ("timeout", float("inf")), ("timeout", float("nan")), ("grace_period", float("inf")),
    ("grace_period", float("nan")), ("limits", {"memory_gb": float("inf")}), ("limits", {"memory_gb": float("nan")}),
])
def test_non_finite_spec_numbers(key: str, value: Any) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, key: value})
    assert f"key '{key}" in str(info.value) and "not valid" in str(info.value)


@pytest.mark.parametrize(("memory", "ok"), [
    (MIN_MEMORY_GB, True), (MAX_MEMORY_GB, True), (0.5, True), (MIN_MEMORY_GB / 2, False), (1e-300, False),
    (MAX_MEMORY_GB * 1.5, False), (1e300, False), (0, False), (-1, False),
])
def test_memory_limit_range(memory: float, ok: bool) -> None:
    data = {**MINIMAL, "limits": {"memory_gb": memory}}
    if ok:
        assert spec_from_mapping(data).limits.memory_gb == memory  # type: ignore[union-attr]
        return
    with pytest.raises(SpecError) as info:
        spec_from_mapping(data)
    message = str(info.value)
    assert "'limits.memory_gb'" in message and f"from {MIN_MEMORY_GB}" in message and "no limit" in message


def test_repeats_bound() -> None:
    assert spec_from_mapping({**MINIMAL, "repeats": MAX_REPEATS}).repeats == MAX_REPEATS
    with pytest.raises(SpecError, match=f"from 1 to {MAX_REPEATS}"):
        spec_from_mapping({**MINIMAL, "repeats": MAX_REPEATS + 1})


@pytest.mark.parametrize("key", ["seed", "max_retries", "parallel"])
def test_integers_beyond_64_bits(key: str) -> None:
    assert spec_from_mapping({**MINIMAL, key: 2**63 - 1})
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, key: 2**63})
    assert f"key '{key}'" in str(info.value) and "64 bits" in str(info.value)


def test_limits_integer_beyond_64_bits_names_the_inner_key() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "limits": {"cpu_threads": 10**30}})
    assert "key 'limits.cpu_threads' has the value 1000000000000000000000000000000" in str(info.value)


@pytest.mark.parametrize(("key", "value"), [("description", "a\ud800"), ("tags", ["ok", "b\udcff"]),
                                            ("command", ["echo", "\udcff"])])
def test_text_that_is_not_unicode(key: str, value: Any) -> None:
    with pytest.raises(SpecError, match=f"key '{key}.*not valid Unicode"):
        spec_from_mapping({**MINIMAL, key: value})


@pytest.mark.parametrize(("key", "value"), [("command", "echo \0 {config}"), ("command", ["echo", "a\0"]),
                                            ("function", "m:f\0"), ("runner", "command\0")])
def test_nul_characters_in_commands_and_names(key: str, value: Any) -> None:
    with pytest.raises(SpecError, match=f"key '{key}'.*NUL"):
        spec_from_mapping({**MINIMAL, key: value})


@pytest.mark.parametrize("key", ["base_config", "db_path", "output_dir"])
@pytest.mark.parametrize(("value", "fragment"), [("a\0b", "NUL"), ("x" * 256, "256 bytes"),
                                                 ("ok/" + "é" * 128 + "/x", "256 bytes"),
                                                 ("a/" * 2100, "longer than 4000 bytes")])
def test_paths_that_no_file_system_takes(key: str, value: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, key: value})
    message = str(info.value)
    assert f"key '{key}'" in message and fragment in message
    assert len(message) < 600  # the value is shown cut


def test_a_long_but_valid_path() -> None:
    assert spec_from_mapping({**MINIMAL, "output_dir": "x" * 255}).output_dir == "x" * 255


def test_sweep_id_length() -> None:
    assert check_sweep_id("s" * MAX_SWEEP_ID_LENGTH)
    with pytest.raises(SpecError) as info:
        check_sweep_id("s" * 300)
    assert "300 characters long" in str(info.value) and f"at most {MAX_SWEEP_ID_LENGTH}" in str(info.value)


@pytest.mark.parametrize("key", [1, 1.5, True, None])
def test_sweep_keys_must_be_text(key: Any) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "sweep": {key: [1]}})
    assert "not as a dot path" in str(info.value) and "quote it" in str(info.value)


def test_non_finite_sweep_value_names_the_parameter() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_mapping({**MINIMAL, "sweep": {"max_grad_norm": [1.0, float("inf")]}})
    assert "sweep parameter 'max_grad_norm': value 2 (inf) is infinity" in str(info.value)
    with pytest.raises(SpecError, match="sweep parameter 'b': value 1"):
        spec_from_mapping({**MINIMAL, "zip": [{"a": [1], "b": [float("nan")]}]})


# --- the keys shared by objectives, searches, the trial contract and isolation -----------------------------

@pytest.mark.parametrize(("extra", "needle"), [
    ({"objective": {"metric": "loss"}}, "the required key 'objective.direction' is missing"),
    ({"objective": {"metric": "loss", "direction": "down"}}, "expected {metric: NAME, direction: maximize|minimize}"),
    ({"objective": {"metric": "loss", "direction": "minimize", "goal": 1}}, "unknown key 'goal'"),
    ({"objective": "loss"}, "expected {metric: NAME, direction: maximize|minimize}"),
    ({"strategy": "grd"}, "expected one of grid, random, lhs, sobol, bayesian, refine"),
    ({"n_trials": 0}, "expected a whole number of trials, 1 or more"),
    ({"isolation": "thread"}, "expected one of worker, process"),
    ({"expect_metrics": ["loss", ""]}, "key 'expect_metrics.1' has the value '', which is not valid: expected a list of "
                                       "metric names (none of them empty)"),
    ({"max_failures": True}, "expected a whole number, 0 or more"),
    ({"max_failures": -1}, "expected a whole number, 0 or more"),
])
def test_shared_keys_refuse_bad_values_by_name(extra: dict[str, Any], needle: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec_from_mapping({"base_config": "base.json", "sweep": {"lr": [1, 2]}, **extra})
    assert needle in str(caught.value)


def test_objectives_is_a_tuple_for_one_or_several() -> None:
    one = spec_from_mapping({"base_config": "b.json", "sweep": {"lr": [1]},
                             "objective": {"metric": "loss", "direction": "minimize"}})
    several = spec_from_mapping({"base_config": "b.json", "sweep": {"lr": [1]},
                                 "objective": [{"metric": "a", "direction": "maximize"},
                                               {"metric": "b", "direction": "minimize"}]})
    assert [(o.metric, o.direction) for o in one.objectives] == [("loss", "minimize")]
    assert [o.metric for o in several.objectives] == ["a", "b"]
    assert spec_from_mapping({"base_config": "b.json", "sweep": {"lr": [1]}}).objectives == ()
