"""Sampled designs (strategy random, lhs, sobol): distributions, reproducibility, strata, spec errors."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sweeplab.errors import SpecError
from sweeplab.planning.design import strategy_axes
from sweeplab.planning.distributions import design_rows, parse_distribution, unit_points
from sweeplab.planning.plan import Plan
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping


def _spec(**keys: object):
    return spec_from_mapping({"base_config": "base.json", **keys})


@pytest.mark.parametrize("strategy", ["lhs", "sobol"])
@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_every_marginal_stratum_holds_exactly_one_point(strategy: str, seed: int) -> None:
    """n points of a Latin hypercube, or 2^m of a scrambled Sobol sequence: each of the n equal
    intervals of every coordinate holds one point."""
    count, dimensions = 32, 4
    points = unit_points(strategy, dimensions, count, seed)
    for column in range(dimensions):
        strata = sorted(int(point[column] * count) for point in points)
        assert strata == list(range(count)), (strategy, seed, column)


def test_random_points_are_not_stratified_so_the_strata_test_can_fail() -> None:
    points = unit_points("random", 4, 32, 0)
    assert any(sorted(int(p[c] * 32) for p in points) != list(range(32)) for c in range(4))


@pytest.mark.parametrize("strategy", ["random", "lhs", "sobol"])
def test_a_design_is_reproducible_from_the_seed_and_changes_with_it(strategy: str) -> None:
    sweep = {"a": {"uniform": [0, 1]}, "b": {"loguniform": [0.001, 10]}, "c": {"int": [1, 5]}, "d": ["x", "y"]}
    first = strategy_axes(_spec(strategy=strategy, n_trials=16, seed=3, sweep=sweep))
    again = strategy_axes(_spec(strategy=strategy, n_trials=16, seed=3, sweep=sweep))
    other = strategy_axes(_spec(strategy=strategy, n_trials=16, seed=4, sweep=sweep))
    assert first == again
    assert first[0].rows != other[0].rows
    assert first[0].paths == ("a", "b", "c", "d") and len(first[0].rows) == 16


@pytest.mark.parametrize("strategy", ["random", "sobol"])
def test_random_and_sobol_designs_extend_without_changing_their_first_points(strategy: str) -> None:
    declared = [parse_distribution("a", {"uniform": [0, 1]}), parse_distribution("b", {"int": [0, 9]})]
    assert design_rows(strategy, declared, 16, 5)[:8] == design_rows(strategy, declared, 8, 5)


def test_values_follow_their_distribution() -> None:
    declared = [parse_distribution("u", {"uniform": [-2, 3]}), parse_distribution("l", {"loguniform": [0.01, 100]}),
                parse_distribution("i", {"int": [1, 4]}), parse_distribution("c", {"choice": ["p", "q", "r"]}),
                parse_distribution("plain", [10, 20])]
    rows = design_rows("lhs", declared, 40, 1)
    assert all(-2 <= r[0] <= 3 and 0.01 <= r[1] <= 100 and r[2] in (1, 2, 3, 4) and r[3] in "pqr"
               and r[4] in (10, 20) for r in rows)
    assert {r[2] for r in rows} == {1, 2, 3, 4} and {r[3] for r in rows} == {"p", "q", "r"}
    # log-uniform: as many points per decade (40 LHS strata over 4 decades: 10 each)
    decades = [sum(1 for r in rows if 10.0 ** e <= r[1] < 10.0 ** (e + 1)) for e in (-2, -1, 0, 1)]
    assert decades == [10, 10, 10, 10]
    assert all(isinstance(r[2], int) for r in rows)


def test_equal_draws_stay_distinct_trials(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps({"k": "a"}))
    spec = spec_from_mapping({"base_config": str(tmp_path / "base.json"), "strategy": "random", "n_trials": 12,
                              "sweep": {"k": ["a", "b"]}, "runner": "command", "command": ["true"]})
    plan = Plan(resolve(spec))
    assert len({trial.key for trial in plan}) == 12  # only 2 distinct configurations, 12 trials
    assert len({canonical for canonical in (json.dumps(t.params) for t in plan)}) == 2


def test_drawn_floats_are_named_by_4_significant_digits_in_experiment_ids(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps({"rate": 0.5, "cycles": 10}))
    spec = spec_from_mapping({"base_config": str(tmp_path / "base.json"), "strategy": "lhs", "n_trials": 6,
                              "sweep": {"rate": {"uniform": [0, 1]}, "cycles": {"int": [10, 40]}},
                              "runner": "command", "command": ["true"], "sweep_id": "ids"})
    for trial in Plan(resolve(spec)):
        rate = trial.params["rate"]
        assert trial.experiment_id == f"ids_exp{trial.index:04d}_rate={rate:.4g}_cycles={trial.params['cycles']}"
        assert len(repr(rate)) > 8  # the value itself keeps every digit
    grid = spec_from_mapping({"base_config": str(tmp_path / "base.json"), "sweep": {"rate": [0.123456789]},
                              "runner": "command", "command": ["true"], "sweep_id": "ids"})
    assert Plan(resolve(grid))[0].experiment_id == "ids_exp0001_rate=0.123456789"  # chosen values stay as given


@pytest.mark.parametrize("keys, fragments", [
    ({"sweep": {"a": {"uniform": [0, 1]}}}, ["'a'", "distribution", "strategy", "random"]),
    ({"strategy": "lhs", "sweep": {"a": {"uniform": [0, 1]}}}, ["strategy lhs needs 'n_trials'"]),
    ({"strategy": "random", "n_trials": 4, "sweep": {"a": {"uniform": [1, 0]}}}, ["'a'", "low < high"]),
    ({"strategy": "random", "n_trials": 4, "sweep": {"a": {"loguniform": [0, 1]}}}, ["'a'", "positive lower bound"]),
    ({"strategy": "random", "n_trials": 4, "sweep": {"a": {"int": [0.5, 3]}}}, ["'a'", "whole numbers"]),
    ({"strategy": "random", "n_trials": 4, "sweep": {"a": {"uniform": [0, 1], "step": 1}}}, ["'a'", "one key"]),
    ({"strategy": "random", "n_trials": 4, "sweep": {"a": {"choice": []}}}, ["'a'", "non-empty list"]),
    ({"strategy": "sobol", "n_trials": 4, "sweep": {"a": [1, 2]}, "zip": [["a", "b"]]}, ["'zip'", "sobol"]),
    ({"strategy": "random", "n_trials": 4, "sweep": {"a": [1, 2]}, "sampler": "tpe"},
     ["'sampler'", "bayesian"]),
    ({"n_trials": 4, "sweep": {"a": [1, 2]}}, ["'n_trials'", "grid"]),
    ({"strategy": "bayesian", "n_trials": 4, "sweep": {"a": [1, 2]}}, ["bayesian needs an 'objective'"]),
    ({"strategy": "bayesian", "n_trials": 4, "sweep": {"a": [1, 2]}, "sampler": "annealing",
      "objective": {"metric": "m", "direction": "maximize"}}, ["'sampler'", "annealing", "tpe"]),
    ({"strategy": "bayesian", "n_trials": 4, "sweep": {"a": [1, 2]}, "sampler": "cmaes",
      "objective": [{"metric": "m", "direction": "maximize"}, {"metric": "n", "direction": "minimize"}]},
     ["cmaes", "one objective"]),
    pytest.param({"strategy": "bayesian", "n_trials": 4, "sweep": {"a": [1, 2]}, "sampler": "cmaes",
                  "objective": {"metric": "m", "direction": "maximize"}}, ["sampler cmaes", "'cmaes'", "pip install"],
                 marks=pytest.mark.skipif(importlib.util.find_spec("cmaes") is not None, reason="cmaes is installed")),
    ({"strategy": "bayesian", "n_trials": 4, "sweep": {"a": [1, 2]}, "repeats": 3,
      "objective": {"metric": "m", "direction": "maximize"}}, ["bayesian", "'repeats'"]),
    ({"strategy": "refine", "n_trials": 40, "sweep": {"a": [0, 0.5, 1]}}, ["refine needs 'refine:"]),
    ({"strategy": "refine", "n_trials": 40, "sweep": {"a": [0, 0.5, 1]}, "refine": {"resolution": 0.1}},
     ["refine needs the metric"]),
    ({"strategy": "refine", "sweep": {"a": [0, 0.5, 1]}, "refine": {"resolution": 0.1, "metric": "m"}},
     ["budget", "'n_trials'"]),
    ({"strategy": "refine", "n_trials": 40, "sweep": {"a": [0, 1], "b": [1, 2, 3]},
      "refine": {"resolution": 0.1, "metric": "m"}}, ["one parameter", "a, b"]),
    ({"strategy": "refine", "n_trials": 40, "sweep": {"a": {"uniform": [0, 1]}},
      "refine": {"resolution": 0.1, "metric": "m"}}, ["coarse grid", "not a distribution"]),
    ({"strategy": "refine", "n_trials": 4, "sweep": {"a": [0, 0.5, 1]}, "repeats": 2,
      "refine": {"resolution": 0.1, "metric": "m"}}, ["n_trials=4", "6 trials"]),
    ({"strategy": "refine", "n_trials": 40, "sweep": {"a": [0, 0.5, 1]}, "refine": {"resolution": -1}},
     ["'refine.resolution'", "positive"]),
])
def test_a_strategy_without_what_it_needs_is_a_spec_error(keys: dict[str, object], fragments: list[str]) -> None:
    with pytest.raises(SpecError) as caught:
        _spec(**keys)
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))


def _sweeplab(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sweeplab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "250"})


def test_cli_refuses_a_distribution_in_a_grid_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps({"lr": 0.1}))
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        base_config: base.json
        runner: command
        command: [echo, "{config}"]
        output_dir: out
        db_path: out/results.db
        sweep: {lr: {loguniform: [0.0001, 0.1]}}
        """))
    done = _sweeplab(["run", "s.yaml", "--yes"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'lr'" in done.stderr and "strategy" in done.stderr
    assert not (tmp_path / "out").exists()
    flagged = _sweeplab(["run", "s.yaml", "--strategy", "sobol", "--yes"], tmp_path)
    assert flagged.returncode == 2 and "n_trials" in flagged.stderr and not (tmp_path / "out").exists()


def test_dry_run_lists_the_design(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps({"lr": 0.1, "layers": 2}))
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        base_config: base.json
        runner: command
        command: [echo, "{config}"]
        output_dir: out
        db_path: out/results.db
        strategy: lhs
        n_trials: 5
        seed: 11
        sweep: {lr: {loguniform: [0.0001, 0.1]}, layers: {int: [1, 8]}}
        """))
    done = _sweeplab(["run", "s.yaml", "--dry-run", "--list"], tmp_path)
    assert done.returncode == 0, done.stderr
    rows = design_rows("lhs", [parse_distribution("lr", {"loguniform": [0.0001, 0.1]}),
                               parse_distribution("layers", {"int": [1, 8]})], 5, 11)
    for lr, layers in rows:
        assert f"lr={lr!r} layers={layers!r}" in done.stdout
    assert "trials      : 5" in done.stdout and "strategy    : lhs: a design of 5 points from seed 11" in done.stdout
    assert not (tmp_path / "out").exists()


def test_dry_run_of_a_bayesian_sweep_names_its_ranges_and_sampler() -> None:
    repo = Path(__file__).resolve().parents[1]
    done = _sweeplab(["run", "sweeps/memory_corruption_bayesian.yaml", "--dry-run"], repo)
    assert done.returncode == 0, done.stderr
    assert "bayesian (tpe sampler; maximize distrust_language_rate, minimize corrupted_memories)" in done.stdout
    assert "interventions.0.parameters.corruption_rate: uniform [0, 1]" in done.stdout
