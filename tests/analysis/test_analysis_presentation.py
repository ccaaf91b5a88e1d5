"""The report fits the screen, centres on an objective, and the API answers in Python terms.

Covers issue 12's presentation side (width, objective, null levels in figures, --plot/--all) and
issue 13's analyzer items (Figures from plot_* methods, _repr_html_, errors without CLI flags).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analysis_sweepfactory import write_sweep

from sweeplab.analysis import AnalysisInputError, SweepAnalyzer, UnknownMetricError, UnknownParameterError
from sweeplab.errors import SweepNotFoundError

LONG_A = "model.encoder.layers.0.attention.dropout_probability"
LONG_B = "training.optimizer.schedule.warmup.number_of_warmup_steps"
LONG_C = "data.augmentation.random_crop.minimum_relative_area_of_the_crop"
METRICS = [f"validation_metric_number_{i:02d}_with_a_long_descriptive_name" for i in range(12)]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a real subprocess (as a user runs it)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return subprocess.run([sys.executable, "-m", "sweeplab.analysis.cli", *args], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=300, env=env)


def _main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cwd: Path,
          *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI's entry point in this process (fast: pandas and SciPy are imported once)."""
    from sweeplab.analysis.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def _wide_metrics(params: dict[str, Any], repeat: int, rng: np.random.Generator) -> dict[str, float]:
    base = 10 * params[LONG_A] + (params[LONG_B] > 100) * 2 + rng.normal(0, 0.5)
    return {name: float(base * (i + 1) + rng.normal(0, 1)) for i, name in enumerate(METRICS)}


def _set_objective(folder: Path, objective: Any) -> None:
    path = folder / "sweep_config.json"
    config = json.loads(path.read_text())
    config["spec"] = {"objective": objective}
    path.write_text(json.dumps(config))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sweeps = tmp_path_factory.mktemp("presentation") / "sweeps"
    write_sweep(sweeps, "wide", {LONG_A: [0.0, 0.1, 0.2, 0.3, 0.4], LONG_B: [10, 100, 1000],
                                 LONG_C: ["a fairly long category value", "another long category value"]},
                _wide_metrics, repeats=2, seed=3, runner="python")
    write_sweep(sweeps, "nulls", {"opt": [2, None, 1], "kind": ["x", "y"]},
                lambda p, r, rng: {"score": float((p["opt"] if p["opt"] is not None else 5) + rng.normal(0, 0.3)),
                                   "spent": float(rng.normal(3, 1))},
                repeats=3, seed=4, runner="python")
    folder = write_sweep(sweeps, "aimed", {"lr": [0.001, 0.01, 0.1]},
                         lambda p, r, rng: {"loss": float(1 / (1 + 100 * p["lr"]) + rng.normal(0, 0.01)),
                                            "accuracy": float(0.5 + 4 * p["lr"] + rng.normal(0, 0.01))},
                         repeats=3, seed=5, runner="python")
    _set_objective(folder, {"metric": "accuracy", "direction": "maximize"})
    folder = write_sweep(sweeps, "aimed_missing", {"lr": [0.001, 0.01]},
                         lambda p, r, rng: {"loss": float(rng.normal(1, 0.1))}, repeats=2, seed=6, runner="python")
    _set_objective(folder, [{"metric": "f1", "direction": "maximize"}, {"metric": "loss", "direction": "minimize"}])
    return sweeps


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 120])
def test_text_report_fits_the_width(root: Path, width: int) -> None:
    analyzer = SweepAnalyzer("wide", root)
    report = analyzer.generate_summary_report(metric=METRICS[3], width=width)
    assert _widest(report) <= width
    # full detail for the objective, one line per other metric
    assert f"{METRICS[3]} by dropout_probability" in report
    assert f"{METRICS[5]} by dropout_probability" not in report
    other = report.split("Other metrics", 1)[1].split("Self-reports", 1)[0]
    for metric in METRICS:
        if metric != METRICS[3]:
            assert other.count(metric) == 1, metric
    # nothing is cut off: every level of the long categorical parameter is in the report
    assert "a fairly long category value" in report.replace("\n", " ") or "a fairly long" in report


def test_cli_report_fits_120_columns_and_markdown_keeps_whole_tables(root: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run("analyze", "wide", "--sweep-dir", str(root), "--output", "r.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _widest((tmp_path / "r.txt").read_text()) <= 120
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "wide", "--sweep-dir", str(root), "--width", "80")
    assert result.returncode == 0 and _widest(result.stdout) <= 80
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "wide", "--sweep-dir", str(root), "--output", "r.md")
    markdown = (tmp_path / "r.md").read_text()
    best = next(line for line in markdown.splitlines() if line.startswith("| rank |"))
    assert all(name in best for name in ("dropout_probability", "number_of_warmup_steps", "95% CI", "max"))
    assert "(part 1 of" not in markdown
    assert _main(capsys, monkeypatch, tmp_path, "analyze", "wide", "--sweep-dir", str(root), "--width",
                 "20").returncode == 2


def test_objective_from_the_spec_argument_or_chosen(root: Path) -> None:
    aimed = SweepAnalyzer("aimed", root)
    objective = aimed.objective()
    assert (objective.metric, objective.direction, objective.source) == ("accuracy", "maximize", "spec")
    report = aimed.generate_summary_report()
    assert "Objective: maximize accuracy - the sweep spec's objective." in report
    assert "Best configurations (highest mean accuracy)" in report
    best_row = next(line for line in report.split("Best configurations", 1)[1].splitlines() if line.startswith("1 "))
    assert best_row.split("|")[1].strip() == "0.1"  # the highest accuracy is at lr=0.1
    # an argument wins over the spec; without a direction the spec's does not carry over to another metric
    assert aimed.objective("loss").direction == "minimize" and aimed.objective("loss").source == "argument"
    assert aimed.objective(minimize=True).direction == "minimize"
    # the spec names a metric no trial reported: the report says so and what it chose instead
    missing = SweepAnalyzer("aimed_missing", root).objective()
    assert missing.metric == "loss" and missing.source == "default" and "'f1' was reported by no completed trial" \
        in missing.reason
    chosen = SweepAnalyzer("nulls", root).objective()
    assert chosen.metric == "score" and "names no objective" in chosen.reason and "lowest mean" in chosen.reason


def test_cli_metric_and_direction(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "aimed", "--sweep-dir", str(root), "--metric", "loss",
                   "--maximize")
    assert result.returncode == 0, result.stderr
    assert "Objective: maximize loss - asked for." in result.stdout
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "aimed", "--sweep-dir", str(root), "--maximize",
                   "--minimize")
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_null_level_is_ordered_reported_and_plotted(root: Path, tmp_path: Path) -> None:
    analyzer = SweepAnalyzer("nulls", root)
    assert analyzer.levels("opt") == [1, 2, None]
    report = analyzer.generate_summary_report()
    assert "| 1, 2, null" in report and "nan" not in report.replace("nan)", "")
    best = analyzer.rank_configurations("score", minimize=False, top=1)[0]
    assert best.parameters["opt"] is None and best.count == 3
    # `opt: [2, null, 1]` crashed `analyze --plot` with a traceback
    sweep_copy = tmp_path / "sweeps"
    result = _run("analyze", "nulls", "--sweep-dir", str(root), "--plot", "--all", "--output", "r.txt",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    figures = sorted(p.name for p in (root / "nulls" / "figures").iterdir())
    assert "opt__score.png" in figures and "opt__spent.png" in figures
    data = json.loads((root / "nulls" / "plot_data.json").read_text())
    assert data["parameter_info"]["opt"]["numeric"] and data["by_parameter"]["opt"]["score"]["values"] == [1, 2, None]
    assert not sweep_copy.exists()


def test_plot_draws_the_objective_only_and_all_every_metric(root: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = SweepAnalyzer("nulls", root)
    objective_only = analyzer.plot_all(tmp_path / "one")
    assert sorted(p.name for p in objective_only) == ["heatmap__opt__kind__score.png", "kind__score.png",
                                                      "opt__score.png"]
    every = analyzer.plot_all(tmp_path / "all", all_metrics=True)
    assert len(every) == 3 * len(analyzer.metrics)
    data = json.loads((tmp_path / "one" / "plot_data.json").read_text())
    assert list(data["by_parameter"]["opt"]) == ["score"] and data["objective"]["metric"] == "score"
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "nulls", "--sweep-dir", str(root), "--all")
    assert result.returncode == 2 and "--all" in result.stderr and "--plot" in result.stderr


def test_plot_methods_return_figures_and_save_when_asked(root: Path, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    analyzer = SweepAnalyzer("nulls", root)
    figure = analyzer.plot_parameter("opt")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "null"]
    assert "score" in ax.get_ylabel()
    target = tmp_path / "spent.png"
    assert isinstance(analyzer.plot_parameter("kind", "spent", path=target), Figure)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    heat = analyzer.plot_interaction("opt", "kind", path=tmp_path / "heat.png")
    assert isinstance(heat, Figure) and (tmp_path / "heat.png").stat().st_size > 1000
    labels = [t.get_text() for t in heat.axes[0].get_yticklabels()]
    assert labels == ["1", "2", "null"]


def test_repr_html_is_a_compact_escaped_summary(root: Path, tmp_path: Path) -> None:
    write_sweep(tmp_path / "s", "html", {"tag": ["<b>bold</b>", "plain"]},
                lambda p, r, rng: {"m<1>": float(-len(p["tag"]) + rng.normal(0, 0.1))}, repeats=2, seed=1,
                runner="python")
    html = SweepAnalyzer("html", tmp_path / "s")._repr_html_()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "m&lt;1&gt;" in html
    aimed = SweepAnalyzer("aimed", root)._repr_html_()
    assert "maximize accuracy" in aimed and "Best configuration" in aimed and "<td>lr</td><td>0.1</td>" in aimed
    assert "Effects on accuracy" in aimed and "<th>share</th>" in aimed and len(aimed) < 4000


def test_api_errors_speak_python(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = SweepAnalyzer("nulls", root)
    errors = []
    for call in (lambda: SweepAnalyzer("nope", tmp_path / "empty"),
                 lambda: SweepAnalyzer("nope", root),
                 lambda: analyzer.generate_summary_report("html"),
                 lambda: analyzer.generate_summary_report(metric="scor"),
                 lambda: analyzer.objective(minimize="yes"),  # type: ignore[arg-type]
                 lambda: analyzer.plot_parameter("nope"),
                 lambda: analyzer.plot_interaction("opt", "opt")):
        with pytest.raises((AnalysisInputError, UnknownMetricError, UnknownParameterError, SweepNotFoundError)) as info:
            call()
        errors.append(str(info.value))
    assert all("--" not in message for message in errors), errors
    assert "did you mean 'score'" in errors[3]
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "nope", "--sweep-dir", str(tmp_path / "empty"))
    assert result.returncode == 2 and "pass --sweep-dir to look elsewhere" in result.stderr


def test_sweeps_without_results_or_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sweeps = tmp_path / "s"
    write_sweep(sweeps, "failed", {"x": [1, 2]}, lambda p, r, rng: {"y": 1.0}, repeats=2, seed=1, runner="python",
                status_fn=lambda i, p, r: "failed")
    write_sweep(sweeps, "bare", {}, lambda p, r, rng: {"y": float(rng.normal())}, repeats=4, seed=1, runner="python")
    failed = SweepAnalyzer("failed", sweeps)
    assert "No completed trial has reported metrics yet" in failed.generate_summary_report()
    assert "No completed trial has reported metrics yet" in failed._repr_html_()
    assert failed.plot_all(tmp_path / "figs") == []
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "failed", "--sweep-dir", str(sweeps), "--plot")
    assert result.returncode == 0 and "0 PNG files" in result.stderr
    result = _main(capsys, monkeypatch, tmp_path, "analyze", "failed", "--sweep-dir", str(sweeps), "--metric", "loss")
    assert result.returncode == 2 and "unknown metric 'loss'" in result.stderr
    bare = SweepAnalyzer("bare", sweeps)
    report = bare.generate_summary_report(width=80)
    assert "Best configurations (lowest mean y)" in report and _widest(report) <= 80
    assert "Best configuration" in bare._repr_html_()
