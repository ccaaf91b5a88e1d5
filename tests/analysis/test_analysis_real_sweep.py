"""The analyzer on a small real sweep of the built-in phenomenology runner, run by the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sweeplab.analysis import SweepAnalyzer

ExperimentSweep = pytest.importorskip("sweeplab.sweep").ExperimentSweep

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "experiments" / "examples" / "unstable_memory_moderate.json"
RATE = "interventions.0.parameters.corruption_rate"


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> SweepAnalyzer:
    if not BASE.exists():
        pytest.skip(f"{BASE} is missing")
    work = tmp_path_factory.mktemp("real")
    sweep = ExperimentSweep(base_config=str(BASE), sweep_params={RATE: [0.0, 0.5, 1.0], "max_cycles": [6, 8]},
                            sweep_id="real_small", parallel_jobs=2, output_dir=str(work / "sweeps"),
                            db_path=str(work / "experiments.db"), repeats=2)
    sweep.run_all(verbose=False)
    return SweepAnalyzer("real_small", work / "sweeps")


def test_every_method_on_a_real_sweep(analyzer: SweepAnalyzer, tmp_path: Path) -> None:
    assert analyzer.parameters == [RATE, "max_cycles"]
    assert analyzer.status == "completed" and not analyzer.is_partial
    assert {"total_cycles", "crash_rate"} <= set(analyzer.metrics)
    frame = analyzer.to_dataframe()
    assert len(frame) == 12 and set(frame["status"]) == {"completed"}
    by_level = analyzer.compare_by_parameter("corruption_rate", "total_cycles")
    assert list(by_level) == [0.0, 0.5, 1.0] and all(len(v) == 4 for v in by_level.values())
    stats = analyzer.compute_parameter_statistics("max_cycles", "total_cycles")
    assert set(stats) == {6, 8} and all(s["count"] == 6 for s in stats.values())
    params, value = analyzer.find_optimal_parameters("crash_rate", minimize=True)
    assert set(params) == {RATE, "max_cycles"} and value == min(
        analyzer.configuration_table("crash_rate")["mean"])
    assert isinstance(analyzer.detect_threshold_effects("corruption_rate", "crash_rate"), list)
    assert analyzer.generate_comparison_table("corruption_rate").splitlines()[0].startswith("corruption_rate")
    report = analyzer.generate_summary_report(metric="crash_rate")
    assert "Sweep analysis: real_small" in report and "Self-reports" in report
    responses = analyzer.compare_self_report_responses("", "corruption_rate")
    assert sum(len(v) for v in responses.values()) > 0
    beliefs = analyzer.analyze_belief_evolution("corruption_rate", "memor")
    assert all(b["total_responses"] > 0 for b in beliefs.values())
    data = analyzer.export_for_plotting(tmp_path / "plot_data.json")
    assert json.loads((tmp_path / "plot_data.json").read_text())["sweep_id"] == "real_small" == data["sweep_id"]
