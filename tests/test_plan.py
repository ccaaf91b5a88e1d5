"""The lazy plan: order, zip, replicates, indexing, keys, experiment ids, seeds (sweeplab.planning.plan)."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeplab.planning.plan import MAX_ID_LENGTH, Plan, derive_seed
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping

BASE: dict[str, Any] = {"experiment_id": "base", "lr": 0.1, "max_cycles": 10, "name": "adam",
                        "opt": {"lr": 0.5}, "model": {"width": 8}}
SAFE_ID = re.compile(r"[A-Za-z0-9._=+-]+")


def _plan(tmp_path: Path, sweep: dict[str, Any], base: dict[str, Any] | None = None, **keys: Any) -> Plan:
    base_path = tmp_path / keys.pop("base_name", "base.json")
    if base is not None or not base_path.exists():
        base_path.write_text(json.dumps(BASE if base is None else base), encoding="utf-8")
    data = {"base_config": str(base_path), "runner": "command", "command": ["echo", "{config}"],
            "sweep_id": "s", "sweep": sweep, **keys}
    return Plan(resolve(spec_from_mapping(data)))


def _params(plan: Plan) -> list[tuple[Any, ...]]:
    return [tuple(t.params.values()) for t in plan]


# --- order --------------------------------------------------------------------------------------

def test_cartesian_product_last_parameter_fastest(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2, 3], "name": ["a", "b"]})
    assert len(plan) == 12
    assert _params(plan) == list(itertools.product([0.1, 0.2], [1, 2, 3], ["a", "b"]))
    assert [t.index for t in plan] == list(range(1, 13))
    assert list(plan[0].params) == ["lr", "max_cycles", "name"]


def test_declaration_order_is_kept(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"name": ["a", "b"], "lr": [0.1, 0.2]})
    assert _params(plan) == [("a", 0.1), ("a", 0.2), ("b", 0.1), ("b", 0.2)]


def test_zip_group_varies_together(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2, 0.3], "name": ["a", "b"], "opt.lr": [1.0, 2.0, 3.0]},
                 zip=[["lr", "opt.lr"]])
    assert len(plan) == 6
    assert [(t.params["lr"], t.params["opt.lr"], t.params["name"]) for t in plan] == [
        (0.1, 1.0, "a"), (0.1, 1.0, "b"), (0.2, 2.0, "a"), (0.2, 2.0, "b"), (0.3, 3.0, "a"), (0.3, 3.0, "b")]


def test_inline_zip_group(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"name": ["a", "b"]}, zip=[{"lr": [0.1, 0.2], "max_cycles": [5, 6]}])
    assert [t.params for t in plan] == [
        {"name": "a", "lr": 0.1, "max_cycles": 5}, {"name": "a", "lr": 0.2, "max_cycles": 6},
        {"name": "b", "lr": 0.1, "max_cycles": 5}, {"name": "b", "lr": 0.2, "max_cycles": 6}]


def test_repeats_innermost_with_own_seeds(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2]}, repeats=3, seed=7)
    assert len(plan) == 6
    assert [(t.params["lr"], t.repeat, t.label) for t in plan] == [
        (0.1, 0, "rep1"), (0.1, 1, "rep2"), (0.1, 2, "rep3"), (0.2, 0, "rep1"), (0.2, 1, "rep2"), (0.2, 2, "rep3")]
    seeds = [t.seed for t in plan]
    assert seeds[:3] == seeds[3:]                  # same replicate, same seed at every grid point
    assert len(set(seeds[:3])) == 3                # each replicate its own seed
    assert seeds[:3] == [derive_seed(7, r) for r in range(3)]
    assert [t.experiment_id for t in plan][:2] == ["s_exp0001_lr=0.1_rep1", "s_exp0002_lr=0.1_rep2"]


def test_labels_appended_to_experiment_ids(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1], "experiment_id_suffix": ["rep1", "rep2"]})
    assert [t.experiment_id for t in plan] == ["s_exp0001_lr=0.1_rep1", "s_exp0002_lr=0.1_rep2"]
    assert plan[0].seed != plan[1].seed
    assert plan[0].key != plan[1].key


def test_seed_changes_seeds_and_keys(tmp_path: Path) -> None:
    one = _plan(tmp_path, {"lr": [0.1]}, seed=1)
    two = _plan(tmp_path, {"lr": [0.1]}, seed=2)
    assert one[0].seed != two[0].seed
    assert one[0].key != two[0].key


def test_derive_seed() -> None:
    assert derive_seed(0, 0) == derive_seed(0, 0)
    assert 0 <= derive_seed(123, 4) < 2 ** 31
    assert len({derive_seed(0, r) for r in range(100)}) == 100


# --- sequence behaviour -------------------------------------------------------------------------

def test_indexing_equals_iteration(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2, 0.3], "max_cycles": [1, 2], "name": ["a", "b"]},
                 zip=[{"opt.lr": [1.0, 2.0], "model.width": [4, 8]}], repeats=2)
    trials = list(plan)
    assert len(trials) == len(plan) == 3 * 2 * 2 * 2 * 2
    for i, trial in enumerate(trials):
        assert plan[i] == trial
        assert plan[i - len(plan)] == trial
    assert plan[3:7] == trials[3:7]
    assert plan[::5] == trials[::5]
    assert plan[-3:] == trials[-3:]
    assert plan[100:200] == []


@pytest.mark.parametrize("position", [48, 1000, -49])
def test_out_of_range(tmp_path: Path, position: int) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2, 0.3], "max_cycles": [1, 2, 3, 4]}, repeats=4)
    with pytest.raises(IndexError, match="out of range"):
        plan[position]


def test_million_trial_grid_is_lazy(tmp_path: Path) -> None:
    started = time.perf_counter()
    plan = _plan(tmp_path, {"lr": {"linspace": [0, 1, 1000]}, "opt.lr": {"linspace": [0, 2, 1000]}})
    assert len(plan) == 1_000_000
    last = plan[-1]
    assert last.index == 1_000_000 and last.params == {"lr": 1.0, "opt.lr": 2.0}
    middle = plan[500_123]
    assert middle.params == {"lr": plan.sweep.axes[0].rows[500][0], "opt.lr": plan.sweep.axes[1].rows[123][0]}
    window = plan[10:20]
    assert [t.index for t in window] == list(range(11, 21))
    assert list(itertools.islice(iter(plan), 10, 20)) == window
    assert plan[999_999] == last
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"a 1M-trial plan took {elapsed:.1f}s to build and index"


def test_is_a_sequence(tmp_path: Path) -> None:
    from collections.abc import Sequence
    plan = _plan(tmp_path, {"lr": [0.1, 0.2]})
    assert isinstance(plan, Sequence)
    assert plan[1] in plan
    assert plan.index(plan[1]) == 1


# --- keys ---------------------------------------------------------------------------------------

def test_keys_unique_and_short(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2, 0.3], "max_cycles": [1, 2]}, repeats=2)
    keys = [t.key for t in plan]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[0-9a-f]{12}", k) for k in keys)


def test_keys_stable_across_resolutions(tmp_path: Path) -> None:
    sweep = {"lr": [0.1, 0.2], "max_cycles": [1, 2]}
    one = _plan(tmp_path, sweep, repeats=2)
    two = _plan(tmp_path, sweep, repeats=2, sweep_id="another_id")
    assert [t.key for t in one] == [t.key for t in two]


def test_key_depends_on_params_and_repeat_not_position(tmp_path: Path) -> None:
    """Adding a value elsewhere in the list moves trials but keeps their keys."""
    small = _plan(tmp_path, {"lr": [0.1, 0.2]})
    large = _plan(tmp_path, {"lr": [0.05, 0.1, 0.2]})
    assert {t.params["lr"]: t.key for t in small} == {t.params["lr"]: t.key for t in large if t.params["lr"] != 0.05}


def _keys_by_params(plan: Plan) -> dict[str, str]:
    return {json.dumps(t.params, sort_keys=True) + f"#{t.repeat}": t.key for t in plan}


def test_key_independent_of_declaration_order(tmp_path: Path) -> None:
    one = _plan(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2]}, repeats=2)
    two = _plan(tmp_path, {"max_cycles": [1, 2], "lr": [0.1, 0.2]}, repeats=2)
    assert _keys_by_params(one) == _keys_by_params(two)


def test_key_independent_of_zipping(tmp_path: Path) -> None:
    crossed = _plan(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2]})
    zipped = _plan(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [1, 2]}, zip=[["lr", "max_cycles"]])
    crossed_keys = _keys_by_params(crossed)
    for params, key in _keys_by_params(zipped).items():
        assert crossed_keys[params] == key


def test_key_same_for_named_and_inline_zip(tmp_path: Path) -> None:
    named = _plan(tmp_path, {"name": ["a", "b"], "lr": [0.1, 0.2], "opt.lr": [1.0, 2.0]}, zip=[["lr", "opt.lr"]])
    inline = _plan(tmp_path, {"name": ["a", "b"]}, zip=[{"lr": [0.1, 0.2], "opt.lr": [1.0, 2.0]}])
    assert _keys_by_params(named) == _keys_by_params(inline)


def test_different_base_content_changes_keys(tmp_path: Path) -> None:
    one = _plan(tmp_path, {"lr": [0.1, 0.2]}, base=BASE)
    two = _plan(tmp_path, {"lr": [0.1, 0.2]}, base={**BASE, "max_cycles": 11})
    assert not {t.key for t in one} & {t.key for t in two}


def test_same_base_content_other_file_same_keys(tmp_path: Path) -> None:
    one = _plan(tmp_path, {"lr": [0.1, 0.2]}, base=BASE, base_name="a.json")
    two = _plan(tmp_path, {"lr": [0.1, 0.2]}, base=dict(reversed(list(BASE.items()))), base_name="b.json")
    assert [t.key for t in one] == [t.key for t in two]


_KEY_SCRIPT = """
import json, sys
from sweeplab.planning.plan import Plan
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping
data = json.loads(sys.argv[1])
print(json.dumps([t.key for t in Plan(resolve(spec_from_mapping(data)))]))
"""


def test_keys_stable_in_a_fresh_process(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    data = {"base_config": str(tmp_path / "base.json"), "runner": "command", "command": ["echo", "{config}"],
            "sweep_id": "s", "sweep": {"lr": [0.1, 0.2], "name": ["a", "b"]}, "repeats": 2, "seed": 3}
    here = [t.key for t in Plan(resolve(spec_from_mapping(data)))]
    done = subprocess.run([sys.executable, "-c", _KEY_SCRIPT, json.dumps(data)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == here


# --- experiment ids -----------------------------------------------------------------------------

def test_experiment_id_format(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [0.1, 0.2], "max_cycles": [10, 20], "name": ["adam"]})
    assert plan[0].experiment_id == "s_exp0001_lr=0.1_max_cycles=10_name=adam"
    assert plan[3].experiment_id == "s_exp0004_lr=0.2_max_cycles=20_name=adam"


def test_last_segment_names_and_disambiguation(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"model.width": [4], "lr": [0.1], "opt.lr": [1.0]})
    experiment_id = plan[0].experiment_id
    assert experiment_id.startswith("s_exp0001_width=4_")
    names = [part.split("=")[0] for part in experiment_id.split("_exp0001_")[1].split("_")]
    assert names[0] == "width"
    assert len(set(names)) == 3  # lr and opt.lr get different names


def test_experiment_id_values_rendered(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [True, None, [1, 2], {"a": 1}, "a/b c", "../x"]},
                 base={**BASE, "lr": None})
    ids = [t.experiment_id for t in plan]
    assert ids[0].endswith("_lr=true")
    assert len(set(ids)) == len(ids)
    for experiment_id in ids:
        assert SAFE_ID.fullmatch(experiment_id), experiment_id
        assert "/" not in experiment_id


def test_negative_values_keep_their_sign_in_ids(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"lr": [-0.5, 0.5], "max_cycles": [-1]})
    assert plan[0].experiment_id == "s_exp0001_lr=-0.5_max_cycles=-1"
    assert plan[1].experiment_id == "s_exp0002_lr=0.5_max_cycles=-1"


def test_index_width_grows_past_four_digits(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"max_cycles": {"start": 1, "stop": 10_001, "step": 1}})
    assert plan[9_998].experiment_id == "s_exp9999_max_cycles=9999"
    assert plan[-1].experiment_id == "s_exp10001_max_cycles=10001"


def test_long_ids_are_cut_with_a_hash_and_stay_distinct(tmp_path: Path) -> None:
    prefix = "x" * 200
    plan = _plan(tmp_path, {"name": [prefix + "a", prefix + "b"]})
    ids = [t.experiment_id for t in plan]
    assert all(len(i) <= MAX_ID_LENGTH for i in ids)
    assert ids[0] != ids[1]
    assert all(re.search(r"_[0-9a-f]{8}$", i) for i in ids)
    assert ids[0].startswith("s_exp0001_name=xxx")


def test_long_sweep_id_ids_stay_distinct(tmp_path: Path) -> None:
    """Even when the index itself is cut off, the hash keeps ids apart."""
    plan = _plan(tmp_path, {"name": ["a", "b"]}, sweep_id="s" * 150)
    ids = [t.experiment_id for t in plan]
    assert all(len(i) <= MAX_ID_LENGTH for i in ids)
    assert ids[0] != ids[1]


_TEXT = st.text(min_size=1, max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_TEXT, min_size=1, max_size=4, unique=True), sweep_id=st.from_regex(r"[A-Za-z0-9_-]{1,60}",
                                                                                        fullmatch=True))
def test_experiment_ids_always_safe_bounded_unique(tmp_path: Path, values: list[str], sweep_id: str) -> None:
    plan = _plan(tmp_path, {"name": values, "max_cycles": [1, 2]}, sweep_id=sweep_id)
    ids = [t.experiment_id for t in plan]
    assert len(set(ids)) == len(ids)
    for experiment_id in ids:
        assert len(experiment_id) <= MAX_ID_LENGTH
        assert SAFE_ID.fullmatch(experiment_id), experiment_id
        assert experiment_id.startswith(sweep_id[:MAX_ID_LENGTH - 9].rstrip("_-."))


# --- configs ------------------------------------------------------------------------------------

def test_config_for_applies_params_and_keeps_base(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"opt.lr": [1.0, 2.0], "new_key": ["x"]})
    trial = plan[1]
    config = plan.config_for(trial)
    assert config["opt"]["lr"] == 2.0
    assert config["new_key"] == "x"
    assert config["experiment_id"] == trial.experiment_id
    assert plan.sweep.base_config == BASE


def test_config_for_without_experiment_id_in_base(tmp_path: Path) -> None:
    base = {k: v for k, v in BASE.items() if k != "experiment_id"}
    plan = _plan(tmp_path, {"lr": [0.3]}, base=base)
    assert "experiment_id" not in plan.config_for(plan[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3), zipped=st.integers(0, 3), repeats=st.integers(1, 3))
def test_random_grids_index_like_the_product(tmp_path: Path, sizes: list[int], zipped: int, repeats: int) -> None:
    sweep = {f"p{n}": list(range(size)) for n, size in enumerate(sizes)}
    keys: dict[str, Any] = {"repeats": repeats}
    if zipped:
        keys["zip"] = [{"za": list(range(zipped)), "zb": [f"v{i}" for i in range(zipped)]}]
    plan = _plan(tmp_path, sweep, **keys)
    axes = [[(v,) for v in values] for values in sweep.values()]
    if zipped:
        axes.append([(i, f"v{i}") for i in range(zipped)])
    expected = [(sum(combo, ()), r) for combo in itertools.product(*axes) for r in range(repeats)]
    trials = list(plan)
    assert len(plan) == len(trials) == len(expected)
    for position, (trial, (values, repeat)) in enumerate(zip(trials, expected)):
        assert tuple(trial.params.values()) == values
        assert trial.repeat == repeat
        assert plan[position] == trial
        assert trial.index == position + 1


def test_keys_match_the_trials_in_order(tmp_path: Path) -> None:
    """Plan.keys() is the fast path a resume uses to skip completed trials: it must agree with the trials."""
    plan = _plan(tmp_path, {"lr": [0.1, 0.2, 0.3], "max_cycles": [1, 2]}, repeats=3)
    assert list(plan.keys()) == [(position, trial.key) for position, trial in enumerate(plan)]
    labelled = _plan(tmp_path, {"lr": [0.1, 0.2], "experiment_id_suffix": ["a", "b"]})
    assert [key for _, key in labelled.keys()] == [trial.key for trial in labelled]
