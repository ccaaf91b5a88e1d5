"""Analysis of sampled and searched sweeps (strategy lhs, bayesian, refine) run through the real engine.

An LHS sweep of a python-runner function with a planted slope along ``a`` and a planted step along
``b`` is analysed by ``sweeplab analyze`` (a subprocess) and by :class:`SweepAnalyzer`: continuous
values are binned (no level of one trial), each bin has a t interval, the slope and the step are
found, figures are drawn. A bayesian sweep's report names the adaptive caveat and the search's best
trial; a refine sweep's report shows the threshold and rounds of its ``search.json``.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.engine_support import sweeplab_cli as sweeplab

from sweeplab.analysis import SweepAnalyzer
from sweeplab.analysis.compute.sampled import MIN_PER_BIN, bin_codes, should_bin

HELPERS = Path(__file__).resolve().parent.parent / "helpers"
SLOPE, STEP, STEP_AT, NOISE = 2.0, 1.5, 0.5, 0.1

PLANTED = f'''
import random


def slope_and_step(config, context):
    """y = {SLOPE} a + {STEP} [b >= {STEP_AT}] + N(0, {NOISE}); cost depends on nothing swept."""
    rng = random.Random(f"{{context.seed}}:{{config['a']!r}}:{{config['b']!r}}")
    y = {SLOPE} * config["a"] + ({STEP} if config["b"] >= {STEP_AT} else 0.0) + rng.gauss(0.0, {NOISE})
    return {{"y": y, "cost": rng.random()}}
'''


def _write(root: Path, sweep_id: str, data: dict[str, Any]) -> Path:
    data = {"sweep_id": sweep_id, "runner": "python", "parallel": 2, "output_dir": "out",
            "db_path": "out/db.sqlite", **data}
    path = root / f"{sweep_id}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path



def _run(root: Path, spec: Path) -> None:
    done = sweeplab(root, "run", str(spec), "--yes")
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def lhs_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lhs")
    (root / "planted.py").write_text(PLANTED)
    (root / "base.json").write_text(json.dumps({"a": 0.5, "b": 0.5}))
    _run(root, _write(root, "lhs_planted", {
        "base_config": "base.json", "function": "planted:slope_and_step", "strategy": "lhs", "n_trials": 48,
        "seed": 5, "objective": {"metric": "y", "direction": "maximize"},
        "sweep": {"a": {"uniform": [0, 1]}, "b": {"uniform": [0, 1]}}}))
    return root


def test_lhs_sweep_is_analysed_by_bins_with_intervals_and_finds_the_planted_slope_and_step(lhs_sweep: Path) -> None:
    analyzer = SweepAnalyzer("lhs_planted", lhs_sweep / "out")
    assert analyzer.sampling.strategy == "lhs" and not analyzer.sampling.adaptive
    assert analyzer.binned_parameters() == {"a": 6, "b": 6}
    for parameter in ("a", "b"):
        effect = analyzer.parameter_effect(parameter, "y")
        assert all(isinstance(level, str) and level.startswith("[") for level in effect.levels)
        assert sum(s.count for s in effect.summaries) == 48
        assert min(s.count for s in effect.summaries) >= MIN_PER_BIN  # no level of one trial
        assert all(math.isfinite(s.ci_low) and s.ci_low < s.mean < s.ci_high for s in effect.summaries)
        assert effect.ordered and effect.adjacent  # bins are ordered: neighbouring bins are tested
    slope = analyzer.parameter_effect("a", "y").shape
    assert slope.shape == "gradual" and slope.slope_ci[0] < SLOPE < slope.slope_ci[1]
    step = analyzer.parameter_effect("b", "y").shape
    assert step.shape == "step" and step.step.before < STEP_AT < step.step.after
    assert step.step.difference_ci[0] < STEP < step.step.difference_ci[1]
    # the design model keeps the raw values: one linear term per sampled parameter
    terms = {t.term: t for t in analyzer.design_analysis("y").terms}
    assert terms["a"].df == 1 and terms["b"].df == 1
    # best trials are trials: the best one is the trial with the highest y
    frame = analyzer.completed_trials()
    best = analyzer.rank_configurations("y", minimize=False, top=1)[0]
    assert best.count == 1 and best.mean == frame["y"].max()


def test_analyze_cli_reports_bins_best_trials_and_draws_the_figures(lhs_sweep: Path) -> None:
    done = sweeplab(lhs_sweep, "analyze", "lhs_planted", "--sweep-dir", "out", "--plot")
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "Strategy: lhs" in report and "Binned: a (6 bins), b (6 bins)" in report
    assert "Best trials (highest y)" in report and "the best individual trials" in report
    assert "Shape along a: GRADUAL" in report and "Shape along b: a STEP" in report
    assert "Search result" not in report  # an LHS sweep writes no search.json
    assert "unbalanced design" not in report  # sampled values are linear terms, not a grid to fill
    assert max(len(line) for line in report.splitlines()) <= 120
    # every per-level table row of a binned parameter holds at least MIN_PER_BIN trials
    rows = [line.split("|") for line in report.splitlines() if line.startswith("[") and line.count("|") == 7]
    assert len(rows) == 12 and all(int(cells[1]) >= MIN_PER_BIN for cells in rows)
    data = json.loads((lhs_sweep / "out" / "lhs_planted" / "plot_data.json").read_text())
    info = data["parameter_info"]["a"]
    assert info["binned"] and info["bins"] == 6 and len(info["values"]) == 6
    assert info["bin_positions"] == sorted(info["bin_positions"])
    figures = sorted(p.name for p in (lhs_sweep / "out" / "lhs_planted" / "figures").glob("*.png"))
    assert figures == ["a__y.png", "b__y.png", "heatmap__a__b__y.png"]


def test_compare_bins_two_sampled_sweeps_alike(lhs_sweep: Path) -> None:
    spec = yaml.safe_load((lhs_sweep / "lhs_planted.yaml").read_text())
    _run(lhs_sweep, _write(lhs_sweep, "lhs_other", {**spec, "sweep_id": "lhs_other", "seed": 6}))
    done = sweeplab(lhs_sweep, "compare", "lhs_planted", "lhs_other", "--sweep-dir", "out", "--metric", "y")
    assert done.returncode == 0, done.stderr
    assert "Binned for the comparison" in done.stdout and "a (3 quantile bins" in done.stdout
    shared = next(line for line in done.stdout.splitlines() if line.startswith("shared region"))
    # the same process: every trial compared (unbinned, no grid point would be shared), no difference
    assert shared.count("(n=48)") == 2 and shared.split("|")[-1].strip() == "no"


def test_bayesian_report_names_the_adaptive_caveat_and_the_search_result(tmp_path: Path) -> None:
    shutil.copy(HELPERS / "search_functions.py", tmp_path / "search_functions.py")
    (tmp_path / "base.json").write_text(json.dumps({"x": 0.5, "y": 0.5, "noise": 0.01, "sleep": 0.0}))
    _run(tmp_path, _write(tmp_path, "bayes", {
        "base_config": "base.json", "function": "search_functions:quadratic", "strategy": "bayesian",
        "n_trials": 24, "seed": 1, "objective": {"metric": "score", "direction": "maximize"},
        "sweep": {"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}}}))
    search = json.loads((tmp_path / "out" / "bayes" / "search.json").read_text())
    best_id = search["best"][0]["experiment_id"]
    done = sweeplab(tmp_path, "analyze", "bayes", "--sweep-dir", "out")
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "chosen adaptively by the bayesian search" in report and "not an unbiased" in report
    assert "Descriptive only" in report  # the model's output is kept, labelled
    assert "no term is marked significant" in report and "Neighbouring levels, score (descriptive)" in report
    design = report.split("Type-II ANOVA of score", 1)[1].split("Model:", 1)[0]
    assert "*" not in design and "significant" not in design  # no significance claim on adaptive trials
    search_section = report.split("Search result", 1)[1].split("Best trials", 1)[0]
    assert best_id in search_section and "maximize score; sampler tpe" in search_section
    status = sweeplab(tmp_path, "status", "bayes", "--sweep-dir", "out")
    assert status.returncode == 0 and f"best trial {best_id}" in status.stdout


def test_refine_report_shows_the_threshold_of_search_json_and_keeps_its_levels(tmp_path: Path) -> None:
    shutil.copy(HELPERS / "search_functions.py", tmp_path / "search_functions.py")
    (tmp_path / "base.json").write_text(json.dumps({"x": 0.0, "x0": 0.437, "noise": 0.2, "sleep": 0.0}))
    _run(tmp_path, _write(tmp_path, "refined", {
        "base_config": "base.json", "function": "search_functions:step", "strategy": "refine", "n_trials": 40,
        "repeats": 2, "refine": {"metric": "y", "resolution": 0.02}, "sweep": {"x": {"linspace": [0, 1, 6]}}}))
    search = json.loads((tmp_path / "out" / "refined" / "search.json").read_text())
    threshold = search["threshold"]
    analyzer = SweepAnalyzer("refined", tmp_path / "out")
    assert analyzer.binned_parameters() == {}  # levels repeat: never binned
    assert all(isinstance(level, float) for level in analyzer.levels("x"))
    assert not analyzer.is_partial and analyzer.total_planned == search["registered"] < 40
    done = sweeplab(tmp_path, "analyze", "refined", "--sweep-dir", "out", "--metric", "y")
    assert done.returncode == 0, done.stderr
    low, high = threshold["interval"]
    assert f"Threshold: {threshold['estimate']:g} in [{low:g}, {high:g}]" in done.stdout
    assert "Rounds" in done.stdout and f"stopped {search['stopped']}" in done.stdout
    status = sweeplab(tmp_path, "status", "refined", "--sweep-dir", "out")
    assert status.returncode == 0 and f"threshold of x for y at {threshold['estimate']:.6g}" in status.stdout


def test_bins_hold_at_least_three_trials_and_a_grid_with_replicates_is_not_binned() -> None:
    values = [i / 37 for i in range(37)] + [None]
    binned = bin_codes(values)
    assert binned.labels[-1] is None and len(binned.labels) == 7  # 6 bins and the null level
    counts = [int((binned.codes == i).sum()) for i in range(6)]
    assert sum(counts) == 37 and min(counts) >= MIN_PER_BIN
    twelve = bin_codes([i / 11 for i in range(12)])  # quantiles alone would give bins of 3, 3, 2 and 4
    assert min(int((twelve.codes == i).sum()) for i in range(len(twelve.labels))) >= MIN_PER_BIN
    ties = bin_codes([0.5] * 5 + [i / 10 for i in range(10)])  # a tie across a quantile edge
    assert min(int((ties.codes == i).sum()) for i in range(len(ties.labels))) >= MIN_PER_BIN
    small = bin_codes([0.1 * i for i in range(7)])
    assert len(small.labels) == 2  # 7 trials: two bins of at least 3
    grid = [i / 19 for i in range(20)] * 5  # 20 levels x 5 replicates
    assert not should_bin(grid, "grid") and should_bin(sorted(set(grid)), "lhs")
    assert not should_bin(sorted(set(grid)), "refine")
    # a sampled sweep bins as soon as two bins of three can be filled; a grid of 12 single trials keeps its levels
    assert should_bin([i / 11 for i in range(12)], "random") and not should_bin([i / 11 for i in range(12)], "grid")
    assert not should_bin([i / 4 for i in range(5)], "lhs")  # 5 trials: not two bins of three
    assert not should_bin([1, 2, 3, 1, 2, 3, 1, 2, 3], "random")  # an int range with repeats keeps its levels


def test_a_sampled_parameter_enters_the_design_model_as_one_linear_term_even_with_few_values() -> None:
    import numpy as np
    import pandas as pd

    from sweeplab.analysis.compute.design import analyze_design

    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 1, 12), rng.integers(10, 40, 12)
    frame = pd.DataFrame({"a": a.tolist(), "b": b.tolist(), "repeat": 0,
                          "y": (2 * a + 0.01 * b + rng.normal(0, 0.1, 12)).tolist()})
    as_levels = analyze_design(frame, ["a", "b"], "y")  # 12 and up to 12 levels: dummies saturate 12 trials
    assert as_levels.status != "ok"
    sampled = analyze_design(frame, ["a", "b"], "y", linear={"a", "b"})
    terms = {t.term: t for t in sampled.terms}
    assert sampled.status == "ok" and terms["a"].df == 1 and terms["b"].df == 1 and terms["a"].p_value < 0.05
    assert not any("unbalanced" in w for w in sampled.warnings)
