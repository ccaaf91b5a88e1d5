"""`compare` reports the shared grid points only, says what it left out, and names the better sweep."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_sweepfactory import write_sweep

from sweeplab.analysis import SweepAnalyzer
from sweeplab.analysis.cli import compare_main
from sweeplab.analysis.compute.compare import compare_sweeps
from sweeplab.analysis.present.compare import comparison_blocks, outside_levels
from sweeplab.analysis.present.render import render


def _process(shift: float):  # type: ignore[no-untyped-def]
    return lambda p, r, rng: {"y": float(0.2 * p["x"] + shift + rng.normal(0, 0.1))}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sweeps = tmp_path_factory.mktemp("compare") / "sweeps"
    write_sweep(sweeps, "short", {"x": list(range(5))}, _process(0.0), repeats=3, seed=1, runner="python")
    write_sweep(sweeps, "long", {"x": list(range(30))}, _process(0.0), repeats=3, seed=2, runner="python")
    write_sweep(sweeps, "higher", {"x": list(range(5))}, _process(1.0), repeats=3, seed=3, runner="python")
    return sweeps


def test_same_process_over_a_wider_range_does_not_differ(root: Path) -> None:
    analyzers = [SweepAnalyzer("short", root), SweepAnalyzer("long", root)]
    result = compare_sweeps(analyzers, ["y"])
    levels = [{"x": a.levels("x")} for a in analyzers]
    assert outside_levels(result, levels) == [[], ["x=5, 6, 7, 8, 9, 10, 11, 12, ... (25 levels)"]]
    text = render(comparison_blocks(result, levels), width=80)
    assert "Left out of [2]: 75 trial(s) outside the grid points every sweep ran (x=5, 6, 7" in text.replace("\n", " ")
    assert max(len(line) for line in text.splitlines()) <= 80
    wide = render(comparison_blocks(result, levels), width=120)
    shared = next(line for line in wide.splitlines() if line.startswith("shared region"))
    assert shared.rstrip().endswith("no")  # pooling x 0..29 against 0..4 would make the same process "differ"


def test_compare_cli_names_the_better_sweep(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = compare_main(["short", "higher", "--sweep-dir", str(root), "--metric", "y", "--maximize"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Better: the sweep with the higher mean, where the sweeps differ." in out
    shared = next(line for line in out.splitlines() if line.startswith("shared region"))
    assert shared.split("|")[-2].strip() == "yes" and shared.split("|")[-1].strip() == "[2]"
    assert "Every sweep ran the same grid points: nothing is left out." in out
    assert compare_main(["short", "higher", "--sweep-dir", str(root), "--maximize", "--minimize"]) == 2
