"""Figures for every parameter and metric, the standalone viz script, and the CLI in real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_sweepfactory import step_metrics, write_sweep

from sweeplab.analysis import SweepAnalyzer
from sweeplab.analysis.compute.compare import compare_sweeps
from sweeplab.analysis.present.plots import write_plots

REPO = Path(__file__).resolve().parents[2]
RATE = "interventions.0.parameters.corruption_rate"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli")
    write_sweep(base / "sweeps", "two_params", {RATE: [0.0, 0.2, 0.4, 0.6], "max_cycles": [10, 20]},
                step_metrics(RATE, 0.3, 1.0, 3.0, 0.2), repeats=3, seed=5,
                report_fn=lambda p, r, rng: [(1, "Do you trust?", "trust" if r else "no")])
    write_sweep(base / "sweeps", "two_params_shifted", {RATE: [0.0, 0.2, 0.4, 0.6], "max_cycles": [10, 20]},
                lambda p, r, rng: {"score": float(6.0 + rng.normal(0, 0.2)), "noise_only": float(rng.normal())},
                repeats=3, seed=6)
    return base


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_figures_for_every_parameter_and_metric(root: Path, tmp_path: Path) -> None:
    analyzer = SweepAnalyzer("two_params", root / "sweeps")
    data_path, figures = write_plots(analyzer, tmp_path)
    data = json.loads(data_path.read_text())
    names = {f.name for f in figures}
    for parameter in analyzer.parameters:
        for metric in analyzer.metrics:
            assert f"{parameter}__{metric}.png" in names
    for metric in analyzer.metrics:
        assert f"heatmap__{RATE}__max_cycles__{metric}.png" in names
    assert len(figures) == 3 * len(analyzer.metrics) == len(names)
    for figure in figures:
        width, height = _png_size(figure)
        assert width >= 400 and height >= 300
    cp = data["by_parameter"][RATE]["score"]["change_point"]
    assert cp["supported"] and (cp["before"], cp["after"]) == (0.2, 0.4)

    # the standalone script redraws the same set of figures from plot_data.json alone
    script = (REPO / "src/sweeplab/analysis/present/figures.py").read_text()
    (tmp_path / "plot_sweep.py").write_text(script)
    result = _run("plot_sweep.py", "plot_data.json", "--out", "again", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "again").iterdir()} == names


def test_cli_unknown_sweep_exits_2_and_lists_sweeps(root: Path, tmp_path: Path) -> None:
    result = _run("-m", "sweeplab.analysis.cli", "analyze", "nope", "--sweep-dir", str(root / "sweeps"),
                  "--output", "report.txt", "--plot", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "'nope' not found" in result.stderr and "two_params, two_params_shifted" in result.stderr
    assert str((root / "sweeps").resolve()) in result.stderr
    assert not (tmp_path / "report.txt").exists()


def test_cli_unknown_metric_and_parquet_without_pyarrow(root: Path, tmp_path: Path) -> None:
    result = _run("-m", "sweeplab.analysis.cli", "analyze", "two_params", "--sweep-dir", str(root / "sweeps"),
                  "--metric", "scor", "--output", "r.txt", cwd=tmp_path)
    assert result.returncode == 2 and "unknown metric 'scor'" in result.stderr and "score" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r.txt").exists()
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        result = _run("-m", "sweeplab.analysis.cli", "analyze", "two_params", "--sweep-dir", str(root / "sweeps"),
                      "--format", "parquet", "--output", "r.txt", cwd=tmp_path)
        assert result.returncode == 2 and "pyarrow" in result.stderr and not (tmp_path / "r.txt").exists()


def test_cli_help_and_usage_errors(tmp_path: Path) -> None:
    result = _run("-m", "sweeplab.analysis.cli", "analyze", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "usage: sweeplab analyze" in result.stdout and "--viz-script" in result.stdout
    result = _run("-m", "sweeplab.analysis.cli", "compare", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "usage: sweeplab compare" in result.stdout
    assert _run("-m", "sweeplab.analysis.cli", "analyze", "--format", "xls", "x", cwd=tmp_path).returncode == 2


def test_analyze_sweep_script_with_original_flags(root: Path, tmp_path: Path) -> None:
    # --plot draws figures; the copy of the sweep keeps the module's sweep folder clean for other tests
    result = _run(str(REPO / "scripts/analyze_sweep.py"), "two_params", "--sweep-dir", str(root / "sweeps"),
                  "--output", "out/report.md", "--viz-script", "--format", "csv", "--metric", "score", "--maximize",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "out/report.md").read_text()
    assert report.startswith("# Sweep analysis: two_params") and "highest mean score" in report
    folder = root / "sweeps/two_params"
    assert (folder / "plot_sweep.py").exists() and (folder / "plot_data.json").exists()
    csv = (tmp_path / "out/two_params_trials.csv").read_text().splitlines()
    assert len(csv) == 1 + 24 and RATE in csv[0]


def test_cli_report_to_stdout(root: Path, tmp_path: Path) -> None:
    result = _run("-m", "sweeplab.analysis.cli", "analyze", "two_params", "--sweep-dir", str(root / "sweeps"),
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Sweep analysis: two_params") and "Self-reports" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_compare_finds_the_shifted_region(root: Path, tmp_path: Path) -> None:
    result = compare_sweeps([SweepAnalyzer("two_params", root / "sweeps"),
                             SweepAnalyzer("two_params_shifted", root / "sweeps")], ["score"])
    differs = {tuple(r.grid_point.values()) if r.grid_point else None: r.p_holm < 0.05
               for r in result.rows if r.p_holm is not None}
    # "score" is 1 below 0.3 and 3 above in the first sweep, 6 everywhere in the second: all differ,
    # but with 3 replicates per grid point an exact test cannot get below p=0.1, so only the pooled row can.
    assert differs[None]
    cli = _run("-m", "sweeplab.analysis.cli", "compare", "two_params", "two_params_shifted", "--sweep-dir",
               str(root / "sweeps"), "--metric", "score", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert "Sweep comparison: two_params vs two_params_shifted" in cli.stdout
    assert _run("-m", "sweeplab.analysis.cli", "compare", "two_params", "--sweep-dir", str(root / "sweeps"),
                cwd=tmp_path).returncode == 2


def test_compare_detects_differences_per_grid_point_with_replicates(tmp_path: Path) -> None:
    grid = {"x": [1, 2, 3]}
    write_sweep(tmp_path / "s", "a", grid, lambda p, r, rng: {"m": float(rng.normal(0, 1))}, repeats=12, seed=1)
    write_sweep(tmp_path / "s", "b", grid, lambda p, r, rng: {"m": float(rng.normal(3 if p["x"] == 3 else 0, 1))},
                repeats=12, seed=2)
    result = compare_sweeps([SweepAnalyzer("a", tmp_path / "s"), SweepAnalyzer("b", tmp_path / "s")], ["m"])
    by_point = {r.grid_point["x"] if r.grid_point else None: r for r in result.rows}
    assert by_point[3].p_holm < 0.05 and by_point[3].effect > 0.5
    assert by_point[1].p_holm >= 0.05 and by_point[2].p_holm >= 0.05
