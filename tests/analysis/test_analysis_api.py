"""Every method of the original SweepAnalyzer API, on synthetic sweeps written to disk."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from analysis_sweepfactory import write_sweep

from sweeplab.analysis import (
    AnalysisInputError,
    NoSelfReportDataError,
    SweepAnalyzer,
    UnknownMetricError,
    UnknownParameterError,
)
from sweeplab.errors import SweepNotFoundError, UserError

RATE = "interventions.0.parameters.corruption_rate"
GRID = {RATE: [0.0, 0.25, 0.5, 0.75], "max_cycles": [10, 20]}
REPEATS = 3


class Recorder:
    """A metric function that remembers every value it produced (the ground truth)."""

    def __init__(self) -> None:
        self.values: dict[tuple[float, int, int], dict[str, float]] = {}

    def __call__(self, params: dict[str, Any], repeat: int, rng: np.random.Generator) -> dict[str, float]:
        rate, cycles = params[RATE], params["max_cycles"]
        metrics = {
            "crash_rate": float(0.05 + 0.5 * rate + rng.normal(0, 0.02)),
            "total_cycles": float(cycles - int(rng.integers(0, 3))),
            # zero below 0.5, then 0.4: the zero-baseline threshold case
            "jump": 0.0 if rate < 0.5 else 0.4,
            # means 1.0, 1.2, 2.0, 2.1: only 0.25 -> 0.5 changes by >= 50 %
            "ladder": {0.0: 1.0, 0.25: 1.2, 0.5: 2.0, 0.75: 2.1}[rate],
        }
        self.values[(rate, cycles, repeat)] = dict(metrics)
        return metrics


def _reports(params: dict[str, Any], repeat: int, rng: np.random.Generator) -> list[tuple[int, str, str]]:
    trusting = params[RATE] < 0.5
    return [
        (1, "Do you trust your memories?", "Yes, I TRUST them." if trusting else "I doubt everything."),
        (2, "How do you feel?", f"fine at cycle {repeat}"),
    ]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[SweepAnalyzer, Recorder]:
    root = tmp_path_factory.mktemp("api")
    recorder = Recorder()
    write_sweep(root / "sweeps", "api_sweep", GRID, recorder, repeats=REPEATS, report_fn=_reports, seed=7)
    return SweepAnalyzer("api_sweep", root / "sweeps"), recorder


def _truth(recorder: Recorder, metric: str, rate: float | None = None) -> list[float]:
    return [v[metric] for (r, _, _), v in recorder.values.items() if rate is None or r == rate]


def test_parameters_and_metrics_are_found(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, _ = sweep
    assert analyzer.parameters == [RATE, "max_cycles"]
    assert set(analyzer.metrics) == {"crash_rate", "total_cycles", "jump", "ladder", "duration"}
    assert analyzer.status == "completed" and not analyzer.is_partial


def test_compare_by_parameter_returns_every_value_per_level(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, recorder = sweep
    by_level = analyzer.compare_by_parameter("corruption_rate", "crash_rate")
    assert list(by_level) == GRID[RATE]
    for rate, values in by_level.items():
        assert sorted(values) == sorted(_truth(recorder, "crash_rate", rate))
    assert analyzer.compare_by_parameter(RATE, "crash_rate") == by_level


def test_compute_parameter_statistics_matches_numpy(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, recorder = sweep
    stats = analyzer.compute_parameter_statistics("corruption_rate", "crash_rate")
    for rate in GRID[RATE]:
        truth = np.array(_truth(recorder, "crash_rate", rate))
        got = stats[rate]
        assert got["count"] == len(truth) == 2 * REPEATS
        assert got["mean"] == pytest.approx(truth.mean())
        assert got["std"] == pytest.approx(truth.std(ddof=1))
        assert got["median"] == pytest.approx(np.median(truth))
        assert (got["min"], got["max"]) == (truth.min(), truth.max())


def test_find_optimal_parameters_minimize_and_maximize(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, recorder = sweep
    means: dict[tuple[float, int], list[float]] = {}
    for (rate, cycles, _), v in recorder.values.items():
        means.setdefault((rate, cycles), []).append(v["crash_rate"])
    averaged = {k: float(np.mean(v)) for k, v in means.items()}
    best_low = min(averaged, key=averaged.get)  # type: ignore[arg-type]
    best_high = max(averaged, key=averaged.get)  # type: ignore[arg-type]
    params, value = analyzer.find_optimal_parameters("crash_rate", minimize=True)
    assert params == {RATE: best_low[0], "max_cycles": best_low[1]}
    assert value == pytest.approx(averaged[best_low])
    params, value = analyzer.find_optimal_parameters("crash_rate", minimize=False)
    assert params == {RATE: best_high[0], "max_cycles": best_high[1]}
    ranked = analyzer.rank_configurations("crash_rate", minimize=True, top=3)
    assert [r.mean for r in ranked] == sorted(averaged.values())[:3]
    assert all(r.count == REPEATS and r.min <= r.mean <= r.max for r in ranked)


def test_detect_threshold_effects_relative_rule(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, _ = sweep
    found = analyzer.detect_threshold_effects("corruption_rate", "ladder", threshold_change=0.5)
    assert [(b, a) for b, a, _ in found] == [(0.25, 0.5)]
    assert found[0][2] == pytest.approx((2.0 - 1.2) / 1.2)
    assert analyzer.detect_threshold_effects("corruption_rate", "ladder", threshold_change=0.1) == [
        (0.0, 0.25, pytest.approx(0.2)), (0.25, 0.5, pytest.approx(2 / 3))]


def test_zero_baseline_jump_is_a_threshold_not_an_error(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, _ = sweep
    found = analyzer.detect_threshold_effects("corruption_rate", "jump")
    assert len(found) == 1
    before, after, change = found[0]
    assert (before, after) == (0.25, 0.5) and math.isinf(change) and change > 0
    # 0.0 -> 0.0 is no change: not reported at any positive threshold
    low = analyzer.detect_threshold_effects("corruption_rate", "jump", 0.01)
    assert [(b, a) for b, a, _ in low] == [(0.25, 0.5)]


def test_generate_comparison_table_has_a_row_per_level(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, recorder = sweep
    table = analyzer.generate_comparison_table(RATE, metrics=["crash_rate", "total_cycles"])
    lines = table.splitlines()
    assert lines[0].split("|")[0].strip() == "corruption_rate"
    assert [c.strip() for c in lines[0].split("|")[2:]] == ["crash_rate_mean", "total_cycles_mean"]
    assert set(lines[1]) == {"-"}
    assert len(lines) == 2 + len(GRID[RATE])
    first = [c.strip() for c in lines[2].split("|")]
    assert first[0] == "0.0" and first[1] == str(2 * REPEATS)
    assert float(first[2]) == pytest.approx(np.mean(_truth(recorder, "crash_rate", 0.0)), abs=5e-5)


def test_summary_report_mentions_every_parameter_and_metric(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, _ = sweep
    report = analyzer.generate_summary_report()
    assert "Sweep analysis: api_sweep" in report and "PARTIAL" not in report
    for name in ["corruption_rate", "max_cycles", "crash_rate", "total_cycles", "jump", "ladder"]:
        assert name in report
    assert analyzer.generate_summary_report(fmt="markdown").startswith("# Sweep analysis: api_sweep")


def test_export_for_plotting_writes_the_documented_structure(sweep: tuple[SweepAnalyzer, Recorder],
                                                             tmp_path: Any) -> None:
    analyzer, _ = sweep
    out = tmp_path / "plot_data.json"
    returned = analyzer.export_for_plotting(out)
    data = json.loads(out.read_text())
    assert data == returned
    assert set(data["parameter_info"]) == {RATE, "max_cycles"}
    entry = data["by_parameter"][RATE]["crash_rate"]
    stats = analyzer.compute_parameter_statistics(RATE, "crash_rate")
    assert entry["values"] == GRID[RATE]
    assert entry["means"] == pytest.approx([stats[v]["mean"] for v in GRID[RATE]])
    assert all(lo <= m <= hi for lo, m, hi in zip(entry["ci_low"], entry["means"], entry["ci_high"]))
    jump = data["by_parameter"][RATE]["jump"]["thresholds"]
    assert jump == [{"before": 0.25, "after": 0.5, "change": None, "from_zero": True}]
    assert {(i["rows"], i["columns"]) for i in data["interactions"]} == {(RATE, "max_cycles")}
    assert data["optimal"]["crash_rate"]["minimize"]["parameters"] == analyzer.find_optimal_parameters("crash_rate")[0]


#: the Season 3 lab's plotting script, as its sweep tool generates it (SEASON3 §5): a metric x parameter grid
#: of scatter lines, x from each row's parameters, y from the row's metric, sorted by x
LAB_PLOT_SCRIPT = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
with open(sys.argv[1]) as handle:
    data = json.load(handle)
params, metrics, rows = data["parameters"], data["metrics"], data["data"]
fig, axes = plt.subplots(len(metrics), len(params), figsize=(5 * len(params), 4 * len(metrics)), squeeze=False)
for i, metric in enumerate(metrics):
    for j, param in enumerate(params):
        points = sorted((row["parameters"][param], row[metric]) for row in rows
                        if row.get(metric) is not None)
        axes[i][j].plot([x for x, _ in points], [y for _, y in points], "o-")
        axes[i][j].set_xlabel(param)
        axes[i][j].set_ylabel(metric)
fig.savefig(sys.argv[2], dpi=150)
print(len(rows), len(metrics), len(params))
"""


def test_plot_data_opens_with_the_labs_keys_and_the_labs_script_draws_it(
        sweep: tuple[SweepAnalyzer, Recorder], tmp_path: Any) -> None:
    analyzer, _ = sweep
    out = tmp_path / "plot_data.json"
    analyzer.export_for_plotting(out)
    data = json.loads(out.read_text())
    assert list(data)[:4] == ["sweep_id", "parameters", "metrics", "data"]
    assert data["sweep_id"] == "api_sweep" and data["parameters"] == [RATE, "max_cycles"]
    trials = analyzer.to_dataframe()
    completed = trials[trials["status"] == "completed"]
    assert len(data["data"]) == len(completed) > 0
    assert {"crash_rate", "total_cycles"} <= set(data["metrics"])
    for row, (_, trial) in zip(data["data"], completed.iterrows()):
        assert row["experiment_id"] == trial["experiment_id"]
        assert row["parameters"] == {RATE: trial[RATE], "max_cycles": trial["max_cycles"]}
        assert row["crash_rate"] == pytest.approx(trial["crash_rate"])
        assert row["duration_seconds"] == pytest.approx(trial["duration"])
        assert set(data["metrics"]) <= set(row)
    script = tmp_path / "lab_plot.py"
    script.write_text(LAB_PLOT_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(out), str(tmp_path / "sweep_visualization.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(completed)), str(len(data["metrics"])), "2"]
    assert (tmp_path / "sweep_visualization.png").stat().st_size > 10_000


def test_compare_self_report_responses(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, _ = sweep
    responses = analyzer.compare_self_report_responses("TRUST your", "corruption_rate")
    assert list(responses) == GRID[RATE]
    assert responses[0.0] == ["Yes, I TRUST them."] * (2 * REPEATS)
    assert responses[0.75] == ["I doubt everything."] * (2 * REPEATS)
    assert all(len(v) == 0 for v in analyzer.compare_self_report_responses("no such question", RATE).values())


def test_analyze_belief_evolution(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, _ = sweep
    evolution = analyzer.analyze_belief_evolution("corruption_rate", "trust")
    n = 2 * REPEATS * 2  # trials per level x questions per trial
    assert evolution[0.25] == {"mention_count": n // 2, "total_responses": n, "mention_rate": 0.5}
    assert evolution[0.5] == {"mention_count": 0, "total_responses": n, "mention_rate": 0.0}
    by_cycles = analyzer.analyze_belief_evolution("max_cycles", "trust")
    assert by_cycles[10]["mention_rate"] == pytest.approx(0.25)


def test_to_dataframe_has_one_row_per_trial(sweep: tuple[SweepAnalyzer, Recorder]) -> None:
    analyzer, recorder = sweep
    frame = analyzer.to_dataframe()
    assert len(frame) == len(recorder.values)
    for column in [RATE, "max_cycles", "crash_rate", "status", "attempts", "duration", "replicate", "seed"]:
        assert column in frame.columns
    row = frame[(frame[RATE] == 0.5) & (frame["max_cycles"] == 20) & (frame["replicate"] == 1)].iloc[0]
    assert row["crash_rate"] == recorder.values[(0.5, 20, 1)]["crash_rate"]


def test_names_resolve_and_mistakes_list_the_options(tmp_path: Any) -> None:
    grid = {"a.rate": [1, 2], "b.rate": [1, 2], "c.cycles": [1]}
    write_sweep(tmp_path / "sweeps", "names", grid, lambda p, r, rng: {"m": 1.0}, runner="command")
    analyzer = SweepAnalyzer("names", tmp_path / "sweeps")
    assert analyzer.parameter("cycles") == "c.cycles"
    with pytest.raises(UnknownParameterError, match="ambiguous.*a.rate, b.rate"):
        analyzer.parameter("rate")
    with pytest.raises(UnknownParameterError, match="a.rate, b.rate, c.cycles") as info:
        analyzer.compare_by_parameter("speed", "m")
    assert isinstance(info.value, UserError)
    with pytest.raises(UnknownMetricError, match="did you mean 'm'.*m, duration"):
        analyzer.compute_parameter_statistics("a.rate", "mm")


def test_generic_runner_has_no_self_report_data(tmp_path: Any) -> None:
    write_sweep(tmp_path / "sweeps", "generic", {"x": [1, 2]}, lambda p, r, rng: {"m": float(p["x"])},
                runner="command")
    analyzer = SweepAnalyzer("generic", tmp_path / "sweeps")
    with pytest.raises(NoSelfReportDataError, match="no self-report data"):
        analyzer.compare_self_report_responses("trust", "x")
    with pytest.raises(NoSelfReportDataError, match="no self-report data"):
        analyzer.analyze_belief_evolution("x", "trust")
    assert "No self-report data" in analyzer.generate_summary_report()


def test_sweep_not_found_lists_existing_sweeps(tmp_path: Any) -> None:
    write_sweep(tmp_path / "sweeps", "present_one", {"x": [1]}, lambda p, r, rng: {"m": 1.0})
    with pytest.raises(SweepNotFoundError, match=r"'absent'.*sweeps.*present_one"):
        SweepAnalyzer("absent", tmp_path / "sweeps")


def test_missing_database_is_a_clear_error(tmp_path: Any) -> None:
    write_sweep(tmp_path / "sweeps", "lost", {"x": [1]}, lambda p, r, rng: {"m": 1.0}, db_path=tmp_path / "x.db")
    (tmp_path / "x.db").unlink()
    with pytest.raises(AnalysisInputError, match="database of sweep 'lost' was not found"):
        SweepAnalyzer("lost", tmp_path / "sweeps")


def test_running_sweep_is_analysed_and_reported_as_partial(tmp_path: Any) -> None:
    # trials 0..9 completed, 10 failed, 11 running, the rest never started
    def status(index: int, params: dict[str, Any], repeat: int) -> str | None:
        return "completed" if index < 10 else {10: "failed", 11: "running"}.get(index)

    write_sweep(tmp_path / "sweeps", "live", {"x": [1, 2, 3, 4]}, lambda p, r, rng: {"m": float(p["x"])},
                repeats=5, status="running", status_fn=status)
    analyzer = SweepAnalyzer("live", tmp_path / "sweeps")
    assert analyzer.is_partial
    assert analyzer.status_counts == {"completed": 10, "failed": 1, "running": 1, "not started": 8}
    assert sum(s["count"] for s in analyzer.compute_parameter_statistics("x", "m").values()) == 10
    report = analyzer.generate_summary_report()
    assert "RUNNING - PARTIAL RESULTS: 10 of 20 planned trials completed" in report


def test_categorical_and_boolean_parameters(tmp_path: Any) -> None:
    grid = {"mind.mode": ["calm", "anxious", "stoic"], "flag": [True, False]}
    write_sweep(tmp_path / "sweeps", "cat", grid,
                lambda p, r, rng: {"crashes": float(3 if p["mind.mode"] == "anxious" else 1) + (0.5 if p["flag"] else 0)},
                repeats=2)
    analyzer = SweepAnalyzer("cat", tmp_path / "sweeps")
    assert analyzer.levels("mode") == ["calm", "anxious", "stoic"]  # spec order, not alphabetical
    assert analyzer.levels("flag") == [True, False]
    table = analyzer.interaction_table("mode", "flag", "crashes")
    assert table.to_numpy().tolist() == [[1.5, 1.0], [3.5, 3.0], [1.5, 1.0]]
    assert analyzer.estimate_change_point("mode", "crashes") is None  # no order, no tipping point
    report = analyzer.generate_summary_report()
    assert re.search(r"mode \\ flag \|\s+true \|\s+false\n", report)
