"""What the report shows from the statistics: values left out, interactions, aliasing, imbalance,
degenerate tests, FDR family, importance, the relative change with its interval.

Each sweep plants what the report must say (issue 12, wrong results 1-5 and items 6-10).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analysis_sweepfactory import write_sweep

from sweeplab.analysis import SweepAnalyzer


def _holes(p: dict[str, Any], r: int, rng: np.random.Generator) -> dict[str, Any]:
    x = p["x"]
    if x == 0 and r == 0:
        return {}  # a trial that reported nothing
    out: dict[str, Any] = {"loss": float(x + rng.normal(0, 0.2)), "note": "ok" if x < 2 else "slow",
                           "acc": float(rng.normal(0.5, 0.1))}
    if x == 3:
        out["loss"] = math.nan  # a level drops out of the metric entirely
    if x == 1 and r == 1:
        out["loss"] = math.inf
    if x == 2 and r == 2:
        out["loss"] = "diverged"
    return out


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sweeps = tmp_path_factory.mktemp("content") / "sweeps"
    write_sweep(sweeps, "holes", {"x": [0, 1, 2, 3]}, _holes, repeats=4, seed=1, runner="python")
    write_sweep(sweeps, "cross", {"a": [0, 1], "b": [0, 1]},
                lambda p, r, rng: {"y": float(2 * (p["a"] ^ p["b"]) + rng.normal(0, 0.5)), "same": 1.0},
                repeats=5, seed=2, runner="python")
    write_sweep(sweeps, "alias", {"a": [1, 2, 3], "b": [10, 20, 30], "c": [0, 1]},
                lambda p, r, rng: {"y": float(p["a"] + p["c"] + rng.normal(0, 0.3))}, repeats=3, seed=3,
                runner="python", status_fn=lambda i, p, r: "completed" if p["a"] * 10 == p["b"] else None)
    write_sweep(sweeps, "unbalanced", {"a": [0, 1, 2], "b": [0, 1]},
                lambda p, r, rng: {"y": float(p["a"] + rng.normal(0, 0.3))}, repeats=4, seed=4, runner="python",
                status_fn=lambda i, p, r: "failed" if (p["a"] == 2 and p["b"] == 1 and r > 0) else "completed")
    write_sweep(sweeps, "jump", {"x": [1, 2, 3, 4]},
                lambda p, r, rng: {"y": float((10 if p["x"] >= 3 else 1) + rng.normal(0, 0.5)),
                                   "flat": float(5 + rng.normal(0, 1))}, repeats=6, seed=5, runner="python")
    return sweeps


def _section(report: str, title: str) -> str:
    start = report.index(title)
    rest = report[start + len(title):]
    ends = [i for i in (rest.find("\n\n\n"), rest.find("\n-----")) if i >= 0]
    return rest[:min(ends)] if ends else rest


def test_values_left_out_are_counted_and_said(root: Path) -> None:
    report = SweepAnalyzer("holes", root).generate_summary_report(metric="loss")
    left = report.split("Values left out", 1)[1].split("Best configurations", 1)[0]
    assert "1 completed trial(s) reported no metric at all" in left
    assert "Reported but never a finite number (kept as text fields of the trials, not analysed): note." in left
    assert "loss: 4 nan, 1 inf, 1 non-numeric, 1 not reported of 16 completed trials left out" in left
    assert "no finite value at x = 3" in left
    # the level without values is not silently spanned: its row says n=0 or is absent, never a mean
    level_table = report.split("loss by x", 1)[1].split("Neighbouring", 1)[0]
    assert not any(line.startswith("3 ") and "n/a" not in line for line in level_table.splitlines())
    # the other metric's line says what it lost too
    other = report.split("Other metrics", 1)[1]
    acc_line = next(line for line in other.splitlines() if line.startswith("acc "))
    assert "1 not reported" in acc_line


def test_crossover_interaction_is_detected_and_the_marginal_view_qualified(root: Path) -> None:
    report = SweepAnalyzer("cross", root).generate_summary_report(metric="y")
    anova = report.split("Type-II ANOVA of y", 1)[1].split("Model:", 1)[0]
    row = next(line for line in anova.splitlines() if line.startswith("a × b "))
    assert "<0.001*" in row and "interaction" in row
    main_a = next(line for line in anova.splitlines() if line.startswith("a "))
    assert "interaction a × b" in main_a  # 'no main effect' is an average over opposite effects
    assert "Interaction: the effect of a depends on b (a × b, q<0.001)" in report
    assert "Importance (share of the variance): a × b" in report
    # "same" is degenerate (no test), so the family holds y alone
    assert "q (FDR): adjusted over one family of tests, 1 metric(s) × 3 term(s) = 3 tests" in report


def test_degenerate_tests_are_labelled_not_numbers(root: Path) -> None:
    report = SweepAnalyzer("cross", root).generate_summary_report(metric="same")
    assert "No design analysis (degenerate)" in report
    assert "No omnibus test (degenerate)" in report
    assert "p=nan" not in report and "e-35" not in report and "F=-" not in report


def test_aliased_and_unbalanced_designs_are_warned(root: Path) -> None:
    alias = SweepAnalyzer("alias", root).generate_summary_report(metric="y")
    warnings = alias.split("Warnings:", 1)[1]
    assert "a and b change together (zipped or confounded)" in warnings.replace("\n", " ")
    assert "a = b (aliased)" in alias
    unbalanced = SweepAnalyzer("unbalanced", root).generate_summary_report(metric="y")
    assert "unbalanced design: grid points have 1 to 4 values" in unbalanced.split("Warnings:", 1)[1]


def test_step_change_with_relative_interval_and_power_line(root: Path) -> None:
    report = SweepAnalyzer("jump", root).generate_summary_report(metric="y")
    neighbours = report.split("Neighbouring levels, y", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("|")[0].strip(): line for line in neighbours.splitlines()[2:]}
    assert ">=50%" in rows["2 -> 3"] and "yes" in rows["2 -> 3"]
    assert ">=50%" not in rows["1 -> 2"] and ">=50%" not in rows["3 -> 4"]
    assert "Shape along x: a STEP between 2 and 3" in report
    assert "What the design can detect along x: 6 value(s) per level" in report
    other = report.split("Other metrics", 1)[1]
    flat = next(line for line in other.splitlines() if line.startswith("flat "))
    assert "step" not in flat and "*" not in flat


def test_one_interval_per_level_in_every_table(root: Path) -> None:
    analyzer = SweepAnalyzer("jump", root)
    report = analyzer.generate_summary_report(metric="y")
    best = report.split("Best configurations", 1)[1].split("y: each parameter", 1)[0]
    levels = report.split("y by x", 1)[1].split("Neighbouring", 1)[0]

    def intervals(text: str) -> dict[str, str]:
        rows = [line.split("|") for line in text.splitlines() if line.count("|") >= 4]
        header = [c.strip() for c in rows[0]]
        column, key = header.index("95% CI"), header.index("x")
        return {r[key].strip(): r[column].strip() for r in rows[1:]}

    from_best, from_levels = intervals(best), intervals(levels)
    assert len(from_best) == 3 and all(from_best[x] == from_levels[x] for x in from_best)
    # and the interval is the t interval of the level's values
    values = np.array(analyzer.compare_by_parameter("x", "y")[4])
    from scipy import stats

    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    low, high = (float(v) for v in from_levels["4"].strip("[]").split(","))
    # as printed: four significant digits
    assert low == pytest.approx(values.mean() - half, rel=1e-3) and high == pytest.approx(values.mean() + half, rel=1e-3)
