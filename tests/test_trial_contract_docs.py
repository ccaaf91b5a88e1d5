"""The examples of docs/trial_contract.md run as written: one per runner (command, python, phenomenology).

Every fenced block ``file=EXAMPLE/NAME`` is saved as that file of the example's folder, then every
``sweeplab ...`` line of the block ``run=EXAMPLE`` is run from that folder through ``sweeplab.cli.main``
(the sweep folders and database redirected into the test's folder). The sweeps must complete, and what
the page says they report must be in the journal.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from sweeplab.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "trial_contract.md"
_FENCE = re.compile(r"^```(\w+) ([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples() -> dict[str, dict[str, object]]:
    """example name -> {"files": {name: text}, "commands": [argv, ...]}"""
    examples: dict[str, dict[str, object]] = {}
    for _language, info, body in _FENCE.findall(DOC.read_text(encoding="utf-8")):
        fields = dict(part.split("=", 1) for part in info.split() if "=" in part)
        if "file" in fields:
            name, _, path = fields["file"].partition("/")
            examples.setdefault(name, {"files": {}, "commands": []})["files"][path] = body  # type: ignore[index]
        elif "run" in fields:
            commands = [shlex.split(line)[1:] for line in body.splitlines() if line.startswith("sweeplab ")]
            examples.setdefault(fields["run"], {"files": {}, "commands": []})["commands"] += commands  # type: ignore[operator]
    return examples


EXAMPLES = _examples()


def test_the_page_has_one_runnable_example_per_runner_and_is_linked_from_the_guides() -> None:
    assert set(EXAMPLES) == {"command", "python", "phenomenology"}
    for example in EXAMPLES.values():
        assert example["files"] and example["commands"]
    assert "docs/trial_contract.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "trial_contract.md" in (ROOT / "sweeps" / "README.md").read_text(encoding="utf-8")


def _run_example(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[str]]:
    folder = tmp_path / name
    folder.mkdir()
    for path, text in EXAMPLES[name]["files"].items():  # type: ignore[union-attr]
        (folder / path).write_text(text, encoding="utf-8")
    if name == "phenomenology":  # the page runs it in the repository root, which holds experiments/
        shutil.copytree(ROOT / "experiments" / "examples", folder / "experiments" / "examples")
    monkeypatch.chdir(folder)
    # the page's 'python' is the user's Python: here, the one running the tests
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    outputs = []
    for argv in EXAMPLES[name]["commands"]:  # type: ignore[union-attr]
        extra = ["--output", str(tmp_path / "sweeps")] if argv[0] == "run" else ["--sweep-dir", str(tmp_path / "sweeps")]
        if argv[0] == "run":
            extra += ["--db", str(tmp_path / "experiments.db"), "--yes"]
        code = main([*argv, *extra])
        captured = capsys.readouterr()
        assert code == 0, (argv, captured.out, captured.err)
        outputs.append(captured.out)
    return folder, outputs


def _trials(tmp_path: Path, sweep_id: str) -> list[tuple[str, dict[str, object], dict[str, object]]]:
    with sqlite3.connect(tmp_path / "experiments.db") as conn:
        rows = conn.execute("SELECT status, metrics_json, extra_json FROM trials WHERE sweep_id = ?",
                            (sweep_id,)).fetchall()
    return [(status, json.loads(metrics), json.loads(extra)) for status, metrics, extra in rows]


def test_the_command_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, (_, status) = _run_example("command", tmp_path, monkeypatch, capsys)
    trials = _trials(tmp_path, "contract_command")
    assert len(trials) == 6 and {t[0] for t in trials} == {"completed"}
    for _status, metrics, extra in trials:
        assert set(metrics) == {"loss", "diverged"} and extra == {"optimizer": "adam"}
    assert "best (minimize loss)" in status and "lr=0.05" in status  # the page's objective, found by status


def test_the_python_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, (_, status_json) = _run_example("python", tmp_path, monkeypatch, capsys)
    trials = _trials(tmp_path, "contract_python")
    assert len(trials) == 12 and {t[0] for t in trials} == {"completed"}
    assert {extra["activation"] for _s, _m, extra in trials} == {"relu", "tanh"}
    record = json.loads(status_json)
    assert record["completed"] == 12 and record["no_metrics"] == 0
    assert record["best"]["parameters"]["layers"] == 4
    notes = list((tmp_path / "sweeps" / "contract_python" / "trials").glob("*/attempt-1/notes.txt"))
    assert len(notes) == 12


def test_the_phenomenology_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    _run_example("phenomenology", tmp_path, monkeypatch, capsys)
    trials = _trials(tmp_path, "contract_phenomenology")
    assert len(trials) == 2 and {t[0] for t in trials} == {"completed"}
    assert all(metrics["total_cycles"] > 0 for _s, metrics, _e in trials)
