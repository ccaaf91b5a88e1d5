"""The python runner's function handling through ``sweeplab run``: fail fast before anything is written,
a module next to the YAML from any folder, a pickled function (a lambda, a closure), and ``isolation``.

Every sweep runs for real (``sweeplab`` in a subprocess, trial processes, a SQLite journal).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest
import yaml
from helpers.engine_support import clean_env

MODULE = '''\
def train(config, context):
    return {"loss": config["x"] * 2, "seed": context.seed}


def evaluate(config, context):
    return {}
'''


def _project(root: Path, **keys: object) -> Path:
    """A folder with mymod.py, base.json and sweep.yaml (``keys`` override the spec's)."""
    project = root / "project"
    project.mkdir(exist_ok=True)
    (project / "mymod.py").write_text(MODULE)
    (project / "base.json").write_text(json.dumps({"x": 1}))
    spec = {"sweep_id": "fn", "base_config": "base.json", "runner": "python", "function": "mymod:train",
            "sweep": {"x": [1, 2, 3]}, "parallel": 2, "output_dir": str(root / "out"),
            "db_path": str(root / "out" / "journal.db"), **keys}
    path = project / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _sweeplab(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sweeplab", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=clean_env(), stdin=subprocess.DEVNULL)


def _results(root: Path, sweep_id: str = "fn") -> list[dict[str, object]]:
    return json.loads((root / "out" / sweep_id / "sweep_results.json").read_text())["results"]


def test_a_misspelled_function_exits_2_with_did_you_mean_and_writes_nothing(tmp_path: Path) -> None:
    spec = _project(tmp_path, function="mymod:trian")
    done = _sweeplab(tmp_path, "run", spec)
    assert done.returncode == 2, done.stderr
    assert "did you mean 'train'" in done.stderr and "it defines: evaluate, train" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()  # nothing written: the sweep id stays free
    spec = _project(tmp_path, function="mymod:train")
    assert _sweeplab(tmp_path, "run", spec).returncode == 0


@pytest.mark.parametrize("function, expected", [
    ("mymdo:train", "no module named 'mymdo'"),
    ("broken:train", "importing module 'broken' for function 'broken:train' raised ZeroDivisionError"),
])
def test_a_module_that_does_not_import_exits_2(tmp_path: Path, function: str, expected: str) -> None:
    spec = _project(tmp_path, function=function)
    (spec.parent / "broken.py").write_text("RATE = 1 / 0\n")
    done = _sweeplab(tmp_path, "run", spec)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    if function.startswith("mymdo"):
        assert "did you mean 'mymod'" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("isolation", ["worker", "process"])
def test_a_module_next_to_the_yaml_imports_when_run_from_another_folder(tmp_path: Path, isolation: str) -> None:
    spec = _project(tmp_path, isolation=isolation)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _sweeplab(elsewhere, "run", spec)
    assert done.returncode == 0, done.stderr
    assert sorted(r["metrics"]["loss"] for r in _results(tmp_path)) == [2, 4, 6]


@pytest.mark.parametrize("isolation", ["worker", "process"])
def test_a_pickled_closure_runs_as_the_function(tmp_path: Path, isolation: str) -> None:
    factor = 7
    pickled = tmp_path / "project" / "function.pkl"
    pickled.parent.mkdir()
    pickled.write_bytes(cloudpickle.dumps(lambda config, context: {"y": config["x"] * factor}))
    spec = _project(tmp_path, function="pickle:function.pkl", isolation=isolation)  # relative: the spec's folder
    done = _sweeplab(tmp_path, "run", spec)
    assert done.returncode == 0, done.stderr
    assert sorted(r["metrics"]["y"] for r in _results(tmp_path)) == [7, 14, 21]


def test_a_missing_pickle_exits_2(tmp_path: Path) -> None:
    spec = _project(tmp_path, function="pickle:nowhere.pkl")
    done = _sweeplab(tmp_path, "run", spec)
    assert done.returncode == 2 and "cannot read the pickled function" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_isolation_worker_is_refused_for_a_runner_without_warm_workers(tmp_path: Path) -> None:
    spec = _project(tmp_path, runner="command", function=None, command=[sys.executable, "-c", "print(1)"],
                    isolation="worker")
    done = _sweeplab(tmp_path, "run", spec)
    assert done.returncode == 2, done.stderr
    assert "isolation: worker is not available with the command runner" in done.stderr
    assert not (tmp_path / "out").exists()
    # process isolation is what the command runner does: accepted
    spec = _project(tmp_path, runner="command", function=None, command=[sys.executable, "-c", "print(1)"],
                    isolation="process")
    assert _sweeplab(tmp_path, "run", spec).returncode == 0


@pytest.mark.parametrize("flag, isolation", [([], "worker"), (["--isolation", "process"], "process")])
def test_the_trial_is_told_its_isolation(tmp_path: Path, flag: list[str], isolation: str) -> None:
    spec = _project(tmp_path, sweep={"x": [1]})
    (spec.parent / "mymod.py").write_text(
        "import os\n\ndef train(config, context):\n    return {'isolation': os.environ['SWEEPLAB_ISOLATION']}\n")
    done = _sweeplab(tmp_path, "run", spec, *flag)
    assert done.returncode == 0, done.stderr
    (result,) = _results(tmp_path)
    reported = json.loads(next((tmp_path / "out" / "fn" / "trials").glob("*/attempt-1/metrics.json")).read_text())
    assert reported == {"isolation": isolation} and result["status"] == "completed"


IMPORT_LOGGING = '''\
import os

IMPORTED_IN = os.getpid()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imports.txt"), "a") as log:
    log.write(f"{IMPORTED_IN}\\n")


def train(config, context):
    return {"loss": config["x"] * 2, "parent": os.getppid(), "imported_in": IMPORTED_IN}
'''


@pytest.mark.parametrize("isolation, imports", [("worker", 1), ("process", 1 + 4)])
def test_the_module_is_imported_once_per_sweep_whose_first_load_is_the_check(
        tmp_path: Path, isolation: str, imports: int) -> None:
    # worker: the check is the first warm worker's own import; the second slot's worker is its clone,
    # forked after that import (not one more import); process: the check's child, then one interpreter
    # per trial
    spec = _project(tmp_path, function="logged:train", isolation=isolation, sweep={"x": [1, 2, 3, 4]})
    (spec.parent / "logged.py").write_text(IMPORT_LOGGING)
    done = _sweeplab(tmp_path, "run", spec, "--yes")
    assert done.returncode == 0, done.stderr
    importers = (spec.parent / "imports.txt").read_text().split()
    assert len(importers) == imports
    results = _results(tmp_path)
    if isolation == "worker":  # every trial ran in a process forked from the importer or from its clone
        assert {str(row["metrics"]["imported_in"]) for row in results} == set(importers)
        # the two slots' workers both ran trials: the importer and a process that never imported
        parents = {row["metrics"]["parent"] for row in results}
        assert len(parents) == 2 and parents & {int(importers[0])} == {int(importers[0])}


def test_a_module_that_ends_the_interpreter_while_importing_exits_2(tmp_path: Path) -> None:
    # the warm workers die without a word: the check in a child of its own says what happened
    spec = _project(tmp_path, function="quits:train")
    (spec.parent / "quits.py").write_text("import os\nos._exit(3)\n")
    done = _sweeplab(tmp_path, "run", spec)
    assert done.returncode == 2 and "function: exit code 3" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_an_import_that_does_not_end_is_refused_and_its_workers_are_ended(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from sweeplab.engine.launch import prepare
    from sweeplab.errors import SpecError
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import spec_from_mapping

    monkeypatch.setattr("sweeplab.runners.python.PREFLIGHT_TIMEOUT", 1.0)
    spec_path = _project(tmp_path, function="sleepy:train")
    (spec_path.parent / "sleepy.py").write_text("import time\ntime.sleep(120)\n")
    sweep = resolve(spec_from_mapping(yaml.safe_load(spec_path.read_text())), spec_dir=spec_path.parent)
    started = time.monotonic()
    with pytest.raises(SpecError, match="loading the function 'sleepy:train' took more than 1 s"):
        prepare(sweep)
    # the workers still importing were killed, not waited for (their import sleeps 120 s)
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out").exists()
