"""Reports compared with stored expected files (regenerate with SWEEPLAB_UPDATE_EXPECTED=1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analysis_sweepfactory import write_sweep

from sweeplab.analysis import SweepAnalyzer
from sweeplab.analysis.compute.compare import compare_sweeps
from sweeplab.analysis.present.compare import comparison_blocks
from sweeplab.analysis.present.render import render

EXPECTED = Path(__file__).parent / "expected"
UPDATE = os.environ.get("SWEEPLAB_UPDATE_EXPECTED") == "1"


def _check(name: str, text: str) -> None:
    path = EXPECTED / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with SWEEPLAB_UPDATE_EXPECTED=1 to create it"
    assert text == path.read_text(encoding="utf-8")


def _metrics(params: dict[str, Any], repeat: int, rng: np.random.Generator) -> dict[str, float]:
    rate, cycles = params["interventions.0.parameters.corruption_rate"], params["max_cycles"]
    crashes = int(rng.poisson(1 + 6 * (rate >= 0.5)))
    return {"crash_rate": round(crashes / cycles, 4), "total_crashes": crashes,
            "total_cycles": cycles, "messages_per_cycle": round(float(12 - 6 * rate + rng.normal(0, 1)), 3),
            "__duration__": round(float(5 + cycles / 10 + rng.uniform(0, 1)), 2)}


def _reports(params: dict[str, Any], repeat: int, rng: np.random.Generator) -> list[tuple[int, str, str]]:
    rate = params["interventions.0.parameters.corruption_rate"]
    return [(c, "Do you trust your memories?", "I trust them" if rng.uniform() > rate else "Something is wrong")
            for c in range(3)]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report") / "sweeps"
    grid = {"interventions.0.parameters.corruption_rate": [0.0, 0.25, 0.5, 0.75], "max_cycles": [10, 20]}
    write_sweep(root, "phenomenology_demo", grid, _metrics, repeats=4, seed=1, report_fn=_reports)
    write_sweep(root, "phenomenology_repeat", grid, _metrics, repeats=4, seed=2, report_fn=_reports)
    write_sweep(root, "command_partial", {"workers": [1, 2, 4, 8]},
                lambda p, r, rng: {"throughput": round(float(100 * p["workers"] ** 0.8 + rng.normal(0, 5)), 2)},
                repeats=3, seed=3, runner="command", status="interrupted",
                status_fn=lambda i, p, r: None if i >= 10 else ("timeout" if i == 9 else "completed"))
    return root


def test_summary_report_text(sweeps: Path) -> None:
    analyzer = SweepAnalyzer("phenomenology_demo", sweeps)
    _check("summary_phenomenology_demo.txt", analyzer.generate_summary_report(metric="crash_rate"))


def test_summary_report_markdown_maximize(sweeps: Path) -> None:
    analyzer = SweepAnalyzer("phenomenology_demo", sweeps)
    _check("summary_phenomenology_demo.md",
           analyzer.generate_summary_report("markdown", metric="messages_per_cycle", minimize=False))


def test_summary_report_partial_generic_runner(sweeps: Path) -> None:
    _check("summary_command_partial.txt", SweepAnalyzer("command_partial", sweeps).generate_summary_report())


def test_comparison_table(sweeps: Path) -> None:
    analyzer = SweepAnalyzer("phenomenology_demo", sweeps)
    _check("comparison_table_corruption_rate.txt",
           analyzer.generate_comparison_table("corruption_rate", ["crash_rate", "total_cycles"]) + "\n")


def test_sweep_comparison(sweeps: Path) -> None:
    result = compare_sweeps([SweepAnalyzer("phenomenology_demo", sweeps), SweepAnalyzer("phenomenology_repeat", sweeps)])
    _check("compare_demo_repeat.txt", render(comparison_blocks(result)))


def test_same_input_same_report(sweeps: Path) -> None:
    # Intervals are t-based now, so the report no longer depends on the bootstrap seed: only the same
    # input must give the same report.
    first = SweepAnalyzer("phenomenology_demo", sweeps).generate_summary_report()
    assert SweepAnalyzer("phenomenology_demo", sweeps).generate_summary_report() == first


def test_text_and_markdown_say_the_same(sweeps: Path) -> None:
    # Both forms render one list of blocks: every heading, paragraph and table cell of the Markdown
    # is in the text (whose tables rich may wrap: a wrapped cell's words are looked for one by one).
    from sweeplab.analysis.present.document import Heading, Paragraph, Table
    from sweeplab.analysis.present.summary import summary_blocks

    analyzer = SweepAnalyzer("phenomenology_demo", sweeps)
    blocks = summary_blocks(analyzer, metric="crash_rate")
    text = analyzer.generate_summary_report(metric="crash_rate", width=120)
    markdown = analyzer.generate_summary_report("markdown", metric="crash_rate")
    squeezed = "".join(text.split())
    for block in blocks:
        if isinstance(block, Heading):
            assert block.text in text and block.text in markdown
        elif isinstance(block, Paragraph):
            assert "".join(block.text.split()) in squeezed and block.text in markdown
        elif isinstance(block, Table):
            for row in [block.headers, *block.rows]:
                for cell in row:
                    assert all(word in text for word in cell.split()), cell
                    assert cell.replace("|", "\\|") in markdown, cell
