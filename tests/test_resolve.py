"""Resolving a spec against its base config: runner, paths, types, zip groups, replicates (sweeplab.planning.resolve)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sweeplab.errors import PathError, SpecError
from sweeplab.planning.resolve import (
    MAX_TRIALS,
    ResolvedSweep,
    canonical_json,
    read_base_config,
    resolve,
)
from sweeplab.planning.spec import spec_from_mapping
from sweeplab.runners import base as runner_base
from sweeplab.runners.base import RunContext, Runner

BASE: dict[str, Any] = {
    "experiment_id": "base",
    "max_cycles": 20,
    "lr": 0.1,
    "name": "adam",
    "enabled": False,
    "nothing": None,
    "layers": [64, 32],
    "opt": {"lr": 0.5, "momentum": 0.9},
    "interventions": [{"parameters": {"corruption_rate": 0.25}}],
}
COMMAND = ["echo", "{config}"]


def _base(tmp_path: Path, doc: dict[str, Any] | None = None, name: str = "base.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(BASE if doc is None else doc), encoding="utf-8")
    return path


def _resolve(tmp_path: Path, sweep: dict[str, Any] | None = None, **keys: Any) -> ResolvedSweep:
    base = keys.pop("base_config", None) or str(_base(tmp_path))
    data = {"base_config": base, "runner": "command", "command": COMMAND, "sweep_id": "t",
            "sweep": {"lr": [0.1, 0.2]} if sweep is None else sweep, **keys}
    return resolve(spec_from_mapping(data))


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --- base config --------------------------------------------------------------------------------

def test_resolved_sweep_fields(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [10, 20, 30]}, output_dir="out", db_path="db.sqlite")
    assert resolved.sweep_id == "t"
    assert resolved.base_path == (tmp_path / "base.json").resolve()
    assert resolved.base_config == BASE
    assert re.fullmatch(r"[0-9a-f]{16}", resolved.base_hash)
    assert resolved.runner_name == "command"
    assert resolved.paths == ["lr", "max_cycles"]
    assert resolved.sweep_params() == {"lr": [0.1, 0.2], "max_cycles": [10, 20, 30]}
    assert resolved.labels == [None] and resolved.replicates == 1
    assert resolved.sweep_dir == Path("out") / "t"
    assert resolved.db_path == Path("db.sqlite")


def test_resolve_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _base(tmp_path)
    before = _listing(tmp_path)
    _resolve(tmp_path, {"lr": [0.1, 0.2]}, base_config="base.json")
    assert _listing(tmp_path) == before


def test_base_hash_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(BASE), encoding="utf-8")
    two = tmp_path / "two.json"
    two.write_text(json.dumps(dict(reversed(list(BASE.items()))), indent=4), encoding="utf-8")
    three = tmp_path / "three.json"
    three.write_text(json.dumps({**BASE, "max_cycles": 21}), encoding="utf-8")
    hashes = [_resolve(tmp_path, base_config=str(p)).base_hash for p in (one, two, three)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_missing_base_config(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, base_config=str(tmp_path / "missing.json"))
    message = str(info.value)
    assert "missing.json" in message and "does not exist" in message


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "a": 1,\n  "b": \n}', encoding="utf-8")
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, base_config=str(path))
    message = str(info.value)
    assert "bad.json" in message and "not valid JSON" in message and "line 4" in message


@pytest.mark.parametrize("content", ["[1, 2]", "3", '"text"', "null"])
def test_base_config_must_be_an_object(tmp_path: Path, content: str) -> None:
    path = tmp_path / "list.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecError, match="JSON object"):
        _resolve(tmp_path, base_config=str(path))


def test_relative_base_config_found_next_to_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "experiments").mkdir()
    _base(tmp_path / "experiments")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # relative to the spec folder's parent, as in the original repo layout (sweeps/x.yaml, experiments/x.json)
    path, doc = read_base_config("experiments/base.json", tmp_path / "sweeps")
    assert path == (tmp_path / "experiments" / "base.json").resolve()
    assert doc == BASE
    with pytest.raises(SpecError, match="looked at"):
        read_base_config("experiments/base.json", None)


# --- runner -------------------------------------------------------------------------------------

def test_command_key_chooses_command_runner(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path)), "command": COMMAND, "sweep": {"lr": [0.1]}}
    assert resolve(spec_from_mapping(data)).runner_name == "command"


def test_function_key_chooses_python_runner(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path)), "function": "train:main", "sweep": {"lr": [0.1]}}
    assert resolve(spec_from_mapping(data)).runner_name == "python"


def test_no_runner_for_unknown_base(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path, {"x": 1})), "sweep": {"x": [1, 2]}}
    with pytest.raises(SpecError) as info:
        resolve(spec_from_mapping(data))
    message = str(info.value)
    assert "runner" in message and "command" in message and "python" in message


def test_command_with_other_runner_is_an_error(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path)), "runner": "python", "function": "a:b", "command": COMMAND,
            "sweep": {"lr": [0.1]}}
    with pytest.raises(SpecError, match="only used by the command runner"):
        resolve(spec_from_mapping(data))


def test_unknown_runner_suggests(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path)), "runner": "pyton", "sweep": {"lr": [0.1]}}
    with pytest.raises(SpecError) as info:
        resolve(spec_from_mapping(data))
    message = str(info.value)
    assert "'pyton'" in message and "did you mean 'python'" in message.lower() and "command" in message


@pytest.mark.parametrize(("command", "fragment"), [([], "needs 'command'"), (["echo", "{nope}"], "{nope}"),
                                                   ("'unclosed", "cannot be split")])
def test_bad_command(tmp_path: Path, command: Any, fragment: str) -> None:
    with pytest.raises(SpecError, match=re.escape(fragment)):
        _resolve(tmp_path, command=command)


def test_python_runner_needs_module_function(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path)), "runner": "python", "function": "not a function",
            "sweep": {"lr": [0.1]}}
    with pytest.raises(SpecError, match="module:function"):
        resolve(spec_from_mapping(data))


# --- paths and new keys -------------------------------------------------------------------------

def test_missing_path_names_prefix_and_match(tmp_path: Path) -> None:
    with pytest.raises(PathError) as info:
        _resolve(tmp_path, {"opt.momentun.x": [1]})
    message = str(info.value)
    assert "'opt.momentun.x'" in message and "'opt'" in message and "did you mean 'momentum'" in message


@pytest.mark.parametrize("path", ["new_top_level", "opt.weight_decay", "interventions.0.parameters.new_knob"])
def test_generic_runners_allow_new_keys(tmp_path: Path, path: str) -> None:
    resolved = _resolve(tmp_path, {path: [1, 2]})
    assert resolved.sweep_params() == {path: [1, 2]}
    function_spec = {"base_config": str(_base(tmp_path)), "function": "m:f", "sweep": {path: [1, 2]}}
    assert resolve(spec_from_mapping(function_spec)).sweep_params() == {path: [1, 2]}


class _ClosedRunner(Runner):
    """A runner whose schema allows no new keys except under 'extras'."""

    name = "closed"
    open_schema: ClassVar[bool] = False

    def allows_new_key(self, mapping_path: tuple[str, ...], key: str) -> bool:
        return mapping_path == ("extras",)

    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        return ["true"], {}


@pytest.fixture
def closed_runner(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(runner_base._registered, "closed", _ClosedRunner)
    return "closed"


def test_closed_runner_refuses_new_keys(tmp_path: Path, closed_runner: str) -> None:
    base = str(_base(tmp_path, {**BASE, "extras": {}}))
    data = {"base_config": base, "runner": closed_runner, "sweep": {"opt.weight_decay": [0.1]}}
    with pytest.raises(PathError) as info:
        resolve(spec_from_mapping(data))
    message = str(info.value)
    assert "closed" in message and "weight_decay" in message and "'opt'" in message
    data["sweep"] = {"extras.anything": [1, 2]}
    assert resolve(spec_from_mapping(data)).sweep_params() == {"extras.anything": [1, 2]}


# --- type checks --------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "values"), [
    ("lr", [1, 0.5, 2]),               # an int where the base has a float is fine
    ("max_cycles", [10, 50]),
    ("name", ["sgd", "adam"]),
    ("enabled", [True, False]),
    ("nothing", [1, "x", None, [1]]),  # null in the base: anything goes
    ("layers", [[8], [16, 16]]),
    ("opt", [{"lr": 1.0}, {}]),
])
def test_values_matching_the_base_type(tmp_path: Path, path: str, values: list[Any]) -> None:
    assert _resolve(tmp_path, {path: values}).sweep_params()[path] == values


@pytest.mark.parametrize(("path", "bad", "expected"), [
    ("lr", "fast", "a number"),
    ("lr", True, "a number"),
    ("max_cycles", 10.5, "an integer"),
    ("max_cycles", "10", "an integer"),
    ("max_cycles", False, "an integer"),
    ("name", 3, "a string"),
    ("enabled", 1, "true or false"),
    ("layers", 64, "a list"),
    ("opt", 0.5, "a mapping"),
])
def test_values_of_the_wrong_type(tmp_path: Path, path: str, bad: Any, expected: str) -> None:
    good = BASE[path]
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, {path: [good, bad]})
    message = str(info.value)
    assert f"'{path}'" in message and repr(bad) in message and expected in message


def test_float_for_int_suggests_writing_a_float(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"write it as 20\.0"):
        _resolve(tmp_path, {"max_cycles": [20, 25.5]})


def test_types_checked_for_generated_and_zipped_values(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="'max_cycles'"):
        _resolve(tmp_path, {"max_cycles": {"linspace": [10, 20, 3]}})
    with pytest.raises(SpecError, match="'name'"):
        _resolve(tmp_path, {"lr": [0.1]}, zip=[{"name": ["a", 3], "max_cycles": [1, 2]}])


# --- zip groups ---------------------------------------------------------------------------------

def test_zip_names_form(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, {"lr": [0.1, 0.2, 0.3], "max_cycles": [1, 2], "opt.lr": [1.0, 2.0, 3.0]},
                        zip=[["lr", "opt.lr"]])
    assert [axis.paths for axis in resolved.axes] == [("lr", "opt.lr"), ("max_cycles",)]
    assert resolved.axes[0].rows == ((0.1, 1.0), (0.2, 2.0), (0.3, 3.0))
    assert resolved.axes[0].zipped and not resolved.axes[1].zipped
    assert resolved.sweep_params() == {"lr": [0.1, 0.2, 0.3], "opt.lr": [1.0, 2.0, 3.0], "max_cycles": [1, 2]}


def test_zip_mapping_form_with_generators(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, {"max_cycles": [1, 2]},
                        zip=[{"lr": {"start": 0.1, "stop": 0.3, "step": 0.1}, "opt.lr": [1.0, 2.0, 3.0]}])
    assert [axis.paths for axis in resolved.axes] == [("max_cycles",), ("lr", "opt.lr")]
    assert resolved.axes[1].rows == ((0.1, 1.0), (0.2, 2.0), (0.3, 3.0))


def test_zip_unequal_lengths(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2, 3]}, zip=[["lr", "max_cycles"]])
    message = str(info.value)
    assert "unequal length" in message and "lr has 2" in message and "max_cycles has 3" in message


def test_zip_unequal_lengths_mapping_form(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unequal length"):
        _resolve(tmp_path, {"name": ["a"]}, zip=[{"lr": [0.1, 0.2], "max_cycles": [1]}])


def test_parameter_in_sweep_and_inline_zip(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, {"lr": [0.1, 0.2]}, zip=[{"lr": [0.3, 0.4], "max_cycles": [1, 2]}])
    message = str(info.value)
    assert "'lr'" in message and "both" in message and "one place" in message


def test_zip_name_not_under_sweep(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, {"lr": [0.1, 0.2]}, zip=[["lr", "max_cycles"]])
    assert "'max_cycles'" in str(info.value) and "not a parameter under 'sweep'" in str(info.value)


@pytest.mark.parametrize("group", [["lr"], {"lr": [1.0]}, [], {}, "lr", 3])
def test_zip_group_shapes(tmp_path: Path, group: Any) -> None:
    with pytest.raises(SpecError, match="zip group 1"):
        _resolve(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2]}, zip=[group])


def test_parameter_in_two_zip_groups(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="more than one zip group"):
        _resolve(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2], "opt.lr": [1.0, 2.0]},
                 zip=[["lr", "max_cycles"], ["lr", "opt.lr"]])


# --- replicates ---------------------------------------------------------------------------------

def test_experiment_id_suffix_labels(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, {"lr": [0.1, 0.2], "experiment_id_suffix": ["rep1", "rep2", "rep3"]})
    assert resolved.labels == ["rep1", "rep2", "rep3"]
    assert resolved.replicates == 3
    assert resolved.paths == ["lr"]  # the label list is not a config path


def test_repeats_short_form(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, repeats=3)
    assert resolved.labels == ["rep1", "rep2", "rep3"]


def test_repeats_and_suffix_together_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, {"lr": [0.1], "experiment_id_suffix": ["a", "b"]}, repeats=2)
    message = str(info.value)
    assert "repeats" in message and "experiment_id_suffix" in message


def test_duplicate_labels(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="twice"):
        _resolve(tmp_path, {"lr": [0.1], "experiment_id_suffix": ["a", "a"]})


# --- sweep ids ----------------------------------------------------------------------------------

def test_auto_sweep_id(tmp_path: Path) -> None:
    now = 1_750_000_000.0
    data = {"base_config": str(_base(tmp_path, name="unstable_memory.json")), "command": COMMAND,
            "sweep": {"lr": [0.1]}}
    resolved = resolve(spec_from_mapping(data), now=now)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(now))
    assert resolved.sweep_id == f"sweep_unstable_memory_{stamp}"
    assert re.fullmatch(r"sweep_unstable_memory_\d{8}_\d{6}", resolve(spec_from_mapping(data)).sweep_id)


def test_auto_sweep_id_from_base_name_with_space(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path, name="my base.json")), "command": COMMAND, "sweep": {"lr": [0.1]}}
    resolved = resolve(spec_from_mapping(data), now=1_750_000_000.0)
    assert re.fullmatch(r"sweep_[A-Za-z0-9_.-]+_\d{8}_\d{6}", resolved.sweep_id)


def test_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == '{"a":[1.0,"é"],"b":1}'


def test_resolve_does_not_change_directory(tmp_path: Path) -> None:
    cwd = os.getcwd()
    _resolve(tmp_path)
    assert os.getcwd() == cwd


def test_a_new_key_spelled_like_an_existing_one_is_flagged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="sweeplab.planning.resolve"):
        resolved = _resolve(tmp_path, {"opt.lrr": [0.1, 0.2], "opt.nesterov": [True, False], "layer": [1, 2]})
    assert resolved.notes == [
        "parameter 'opt.lrr' adds the key 'lrr' to 'opt', which has 'lr' instead: did you mean 'opt.lr'? "
        "The trial must read the new key, or this parameter changes nothing.",
        "parameter 'layer' adds the key 'layer' to the top level of the base config, which has 'layers' instead: "
        "did you mean 'layers'? The trial must read the new key, or this parameter changes nothing.",
    ]  # 'opt.nesterov' is new but like no existing key: not flagged
    assert [record.getMessage() for record in caplog.records] == resolved.notes


def test_existing_keys_give_no_notes(tmp_path: Path) -> None:
    assert _resolve(tmp_path, {"opt.lr": [0.1, 0.2], "layers.0": [8, 16]}).notes == []


# --- input bounds (issue 11, items 2 and 10) ---------------------------------------------------------

@pytest.mark.parametrize(("text", "where", "what"), [
    ('{"a": NaN}', "'a'", "is NaN"), ('{"a": {"b": [1, Infinity]}}', "'a.b.1'", "is infinity"),
    ('{"a": -Infinity}', "'a'", "is -infinity"), ('{"a": 1e400}', "'a'", "is infinity"),
    ('{"a": 9223372036854775808}', "'a'", "64 bits"), ('{"a": "\\ud800"}', "'a'", "not valid Unicode"),
])
def test_base_config_values_that_json_cannot_carry(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        read_base_config(str(path), None)
    message = str(info.value)
    assert "b.json" in message and f"the value at {where} is " in message and what in message


@pytest.mark.parametrize("levels", [101, 5000, 100_000])
def test_deep_base_config(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' * levels + "1" + "}" * levels, encoding="utf-8")
    with pytest.raises(SpecError, match="deep.json.*nested"):
        read_base_config(str(path), None)


def test_base_config_at_the_depth_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' * 100 + "1" + "}" * 100, encoding="utf-8")
    assert read_base_config(str(path), None)[1]["a"]


def test_base_config_integer_of_too_many_digits(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"a": ' + "9" * 5000 + "}", encoding="utf-8")
    with pytest.raises(SpecError, match="big.json.*cannot be read as JSON"):
        read_base_config(str(path), None)


def test_base_config_name_too_long_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        read_base_config("b" * 300 + ".json", tmp_path)


def test_plan_size_limit(tmp_path: Path) -> None:
    assert MAX_TRIALS == 10_000_000
    at_limit = _resolve(tmp_path, {"lr": {"linspace": [0, 1, 10_000]}, "max_cycles": {"start": 1, "stop": 1000,
                                                                                       "step": 1}})
    assert len(at_limit.axes[0].rows) * len(at_limit.axes[1].rows) == MAX_TRIALS
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, {"lr": {"linspace": [0, 1, 10_000]}, "max_cycles": {"start": 1, "stop": 1000, "step": 1}},
                 repeats=2)
    message = str(info.value)
    assert "20,000,000 trials (lr: 10000 × max_cycles: 1000 × replicates: 2)" in message
    assert f"at most {MAX_TRIALS}" in message


def test_plan_size_beyond_64_bits(tmp_path: Path) -> None:
    sweep = {f"p{n}": list(range(100)) for n in range(10)}
    with pytest.raises(SpecError, match=r"1e\+20 trials"):
        _resolve(tmp_path, sweep)


def test_zip_group_counts_once(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, {"lr": list(range(4000)), "max_cycles": list(range(4000))},
                        zip=[["lr", "max_cycles"]])
    assert len(resolved.axes) == 1  # 4000 trials, not 16 million


@pytest.mark.parametrize(("sweep", "outer", "inner"), [
    ({"opt": [{"lr": 1}], "opt.lr": [0.1, 0.2]}, "opt", "opt.lr"),
    ({"interventions.0.parameters": [{}], "interventions": [[]]}, "interventions", "interventions.0.parameters"),
])
def test_overlapping_parameters(tmp_path: Path, sweep: dict[str, Any], outer: str, inner: str) -> None:
    with pytest.raises(SpecError) as info:
        _resolve(tmp_path, sweep)
    assert f"'{outer}' and '{inner}' overlap" in str(info.value)


def test_similar_paths_do_not_overlap(tmp_path: Path) -> None:
    assert _resolve(tmp_path, {"opt.lr": [0.1], "opt.lr_decay": [1], "lr": [0.2]}).paths


def test_auto_sweep_id_from_a_long_base_name(tmp_path: Path) -> None:
    data = {"base_config": str(_base(tmp_path, name="x" * 200 + "..y.json")), "command": COMMAND,
            "sweep": {"lr": [0.1]}}
    resolved = resolve(spec_from_mapping(data), now=1_750_000_000.0)
    assert re.fullmatch(r"sweep_x{60}_\d{8}_\d{6}", resolved.sweep_id)


def test_database_name_and_sweep_id_too_long_together(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="lock file"):
        _resolve(tmp_path, db_path="d" * 150 + ".db", sweep_id="s" * 150)
    assert _resolve(tmp_path, db_path="d" * 100 + ".db", sweep_id="s" * 100)
