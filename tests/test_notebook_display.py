"""The notebook progress display: one display for the whole sweep, updates throttled, the final state always shown.

IPython's ``display`` is replaced by a recorder of what the kernel would be sent (the display and its
updates), so that a 500-trial sweep's messages can be counted; the executed-notebook test
(test_notebook_api.py) checks the same display in a real kernel.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from sweeplab.console.notebook import NotebookDisplay
from sweeplab.console.progress import ProgressObserver
from sweeplab.console.progress_line import Tally
from sweeplab.console.screen import Screen
from sweeplab.engine.observer import SweepOutcome
from sweeplab.engine.resources import Budget
from sweeplab.planning.resolve import resolve
from sweeplab.planning.spec import spec_from_mapping
from sweeplab.trial import Trial, TrialResult, TrialStatus


class Handle:
    """What ``display(..., display_id=True)`` returns: here it records every update."""

    def __init__(self, first: dict[str, Any]) -> None:
        self.bundles = [first]

    def update(self, bundle: dict[str, Any], raw: bool = False) -> None:
        assert raw
        self.bundles.append(bundle)


@pytest.fixture
def displays(monkeypatch: pytest.MonkeyPatch) -> list[Handle]:
    shown: list[Handle] = []

    def display(bundle: dict[str, Any], raw: bool = False, display_id: bool = False) -> Handle:
        assert raw and display_id  # a raw mime bundle, with an id so that it can be updated in place
        shown.append(Handle(bundle))
        return shown[-1]

    monkeypatch.setattr("IPython.display.display", display)
    return shown


def test_a_500_trial_sweep_is_one_display_with_few_updates(displays: list[Handle], tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text('{"lr": 0.1}')
    sweep = resolve(spec_from_mapping({"base_config": str(base), "sweep": {"lr": list(range(500))},
                                       "sweep_id": "big", "runner": "command", "command": ["true"],
                                       "output_dir": str(tmp_path / "out"), "db_path": str(tmp_path / "db")}))
    out = io.StringIO()
    screen = Screen(console=Console(file=out, force_jupyter=True))
    assert screen.notebook
    observer = ProgressObserver(screen, sweep, python_api=True)
    observer.started(500, 0, Budget(slots=2, memory_bytes=1 << 30, cpus=2, jetson=False))
    for index in range(500):
        trial = Trial(index=index, key=f"k{index}", experiment_id=f"big_exp{index:04d}", params={"lr": index})
        observer.trial_started(trial, 1)
        status = TrialStatus.FAILED if index == 7 else TrialStatus.COMPLETED
        observer.trial_finished(trial, TrialResult(key=f"k{index}", attempt=1, status=status, duration=0.01,
                                                   error="ValueError: bad lr" if index == 7 else "",
                                                   metrics={"loss": 1.0}), None)
    observer.finished(SweepOutcome("big", dict(observer.counts), 500))
    assert len(displays) == 1 and out.getvalue() == ""  # nothing printed beside the display
    updates = displays[0].bundles
    assert len(updates) < 20, len(updates)  # throttled: a handful, not one per trial
    final = updates[-1]
    assert "<progress value='500' max='500'" in final["text/html"]
    assert "499 ok, 1 failed" in final["text/plain"]
    assert "exp0007: failed (attempt 1): ValueError: bad lr" in final["text/plain"]
    assert "Sweep big finished with trials not completed: 499/500 completed" in final["text/plain"]
    assert "ExperimentSweep(..., sweep_id='big'" in final["text/plain"] and "sweeplab resume" not in final["text/plain"]


def test_the_display_escapes_what_it_shows(displays: list[Handle]) -> None:
    tally = Tally(total=2)
    shown = NotebookDisplay("<b>sweep</b>", tally)
    shown.failures.append("exp0: failed <script>alert(1)</script>")
    shown.update(None, force=True)
    html = displays[0].bundles[-1]["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;sweep&lt;/b&gt;" in html
