"""The Python API for scripts and notebooks: a dict base config, errors in Python terms, the results it returns.

Sweeps run real trial processes (the engine tests' stand-in trial, through the command runner) into
real SQLite journals under pytest's temporary folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers.engine_support import TRIAL, Workspace

from sweeplab import ExperimentSweep, SweepResult
from sweeplab.errors import DriftError, SpecError, SweepExistsError
from sweeplab.planning.plan import derive_seed
from sweeplab.sweep import LabSweepResult, SweepResults

COMMAND = [sys.executable, str(TRIAL), "{config}", "{db}", "{experiment_id}", "{trial_dir}"]


def _base(workspace: Workspace, **values: object) -> dict[str, object]:
    return {**json.loads(workspace.base.read_text()), **values}


def _sweep(workspace: Workspace, base: object, params: dict[str, list[object]], **keys: object) -> ExperimentSweep:
    options: dict[str, object] = {"parallel_jobs": 2, "output_dir": workspace.output, "db_path": workspace.db,
                                  "max_retries": 0, "runner": "command", "command": COMMAND, **keys}
    return ExperimentSweep(base_config=base, sweep_params=params, **options)  # type: ignore[arg-type]


def test_a_dict_base_config_runs_and_is_kept_content_addressed_for_a_resume(workspace: Workspace) -> None:
    base = _base(workspace)
    sweep = _sweep(workspace, base, {"value": [1.0, 2.0]}, sweep_id="dict")
    written = Path(sweep.resolved.base_path)
    assert written.parent == (workspace.output / "python_api").resolve() and written.name.startswith("base_")
    assert json.loads(written.read_text()) == base
    results = sweep.run_all(verbose=False)
    assert [(r.status, r.metrics["value"]) for r in results] == [("completed", 1.0), ("completed", 2.0)]
    stored = json.loads((workspace.sweep_dir("dict") / "sweep_config.json").read_text())
    assert Path(stored["base_config_path"]) == written

    # the same dict, later (another process, a notebook restarted): the same file, resumable, nothing reruns
    again = _sweep(workspace, dict(base), {"value": [1.0, 2.0, 3.0]}, sweep_id="dict", resume=True)
    assert Path(again.resolved.base_path) == written
    assert [r.status for r in again.run_all(verbose=False)] == ["completed"] * 3
    assert workspace.count_events("dict", "started") == 3

    # a changed dict is another file, and the resume's drift check sees the change
    changed = _sweep(workspace, _base(workspace, sleep=0.5), {"value": [1.0, 2.0]}, sweep_id="dict", resume=True)
    assert Path(changed.resolved.base_path) != written
    with pytest.raises(DriftError) as refused:
        changed.run_all(verbose=False)
    assert "allow_drift=True" in str(refused.value) and "--" not in str(refused.value)


def test_a_dict_base_config_names_the_sweep_after_its_function_or_command(workspace: Workspace) -> None:
    sweep = _sweep(workspace, _base(workspace), {"value": [1.0]})
    assert sweep.sweep_id.startswith("sweep_command_")


@pytest.mark.parametrize(("base", "expected"), [
    ({"lr": float("nan")}, "base_config: the value at 'lr' is NaN"),
    ({"layers": [1, {"width": object()}]}, "base_config: the value at 'layers.1.width' is a object"),
    ([("lr", 0.1)], "base_config must be the path of a JSON file or a dict, got a list"),
])
def test_a_bad_base_config_is_refused_and_nothing_is_written(workspace: Workspace, base: object,
                                                             expected: str) -> None:
    with pytest.raises(SpecError) as refused:
        _sweep(workspace, base, {"lr": [0.1]}, sweep_id="bad")
    assert expected in str(refused.value)
    assert not workspace.output.exists() and not workspace.db.exists()


def test_a_sweep_refused_after_its_base_was_written_leaves_nothing(workspace: Workspace) -> None:
    with pytest.raises(SpecError) as refused:  # the dict is fine; a swept value is not
        _sweep(workspace, _base(workspace), {"value": [1.0, float("inf")]}, sweep_id="typo")
    assert "infinity" in str(refused.value)
    assert not workspace.output.exists(), list(workspace.output.rglob("*"))


def test_errors_say_the_fix_in_python_terms(workspace: Workspace) -> None:
    _sweep(workspace, workspace.base, {"value": [1.0]}, sweep_id="taken").run_all(verbose=False)
    again = _sweep(workspace, workspace.base, {"value": [1.0]}, sweep_id="taken")
    with pytest.raises(SweepExistsError) as refused:
        again.run_all(verbose=False)
    message = str(refused.value)
    assert "resume=True" in message and "sweep_id" in message
    assert "--" not in message and "sweeplab resume" not in message


def test_results_carry_metrics_seed_and_replicate_and_no_lab_counters(workspace: Workspace) -> None:
    sweep = _sweep(workspace, workspace.base, {"value": [1.0, 2.0]}, sweep_id="seeds", repeats=2, seed=11)
    results = sweep.run_all(verbose=False)
    assert isinstance(results, SweepResults) and len(results) == 4
    assert all(type(r) is SweepResult for r in results)
    assert [(r.parameters["value"], r.replicate) for r in results] == [(1.0, 0), (1.0, 1), (2.0, 0), (2.0, 1)]
    assert [r.seed for r in results] == [derive_seed(11, r.replicate) for r in results]
    assert results[0].seed != results[1].seed
    assert all(r.metrics["value"] == r.parameters["value"] and not r.no_metrics for r in results)
    record = results[0].to_dict()
    assert {"metrics", "seed", "replicate", "extra"} <= set(record)
    assert not {"total_cycles", "total_crashes", "total_messages"} & set(record)
    assert "total_cycles" not in repr(results[0])


def test_results_show_as_a_table_in_a_notebook(workspace: Workspace) -> None:
    sweep = _sweep(workspace, workspace.base, {"value": [1.0, 2.0], "mode": ["ok", "fail"]}, sweep_id="table")
    results = sweep.run_all(verbose=False)
    page = results._repr_html_()
    assert page.startswith("<table class='sweeplab-results'>")
    assert "table: 4 of 4 trials (2 completed, 2 failed)" in page
    header = page.split("<thead>")[1].split("</thead>")[0]
    # parameters in sweep order, then the metrics as the trials reported them
    assert header == ("<tr><th>experiment</th><th>status</th><th>value</th><th>mode</th><th>attempt</th>"
                      "<th>omp_threads</th><th>metric:value</th><th>seed</th><th>duration</th></tr>")
    assert page.count("<tr>") == 5 and "<td>failed</td>" in page


def test_to_dataframe_is_typed_and_in_sweep_order(workspace: Workspace) -> None:
    params = {"value": [2.0, 1.5], "fail_times": [3, 1], "metrics_file": [True, False], "mode": ["ok"]}
    sweep = _sweep(workspace, workspace.base, params, sweep_id="frame", repeats=2)
    sweep.run_all(verbose=False)
    frame = sweep.to_dataframe()
    assert len(frame) == 16
    assert list(frame.columns[:10]) == ["experiment_id", "index", "replicate", "label", "seed", "status",
                                        "value", "fail_times", "metrics_file", "mode"]
    assert list(frame.columns[-6:]) == ["attempts", "duration", "start_time", "end_time", "error_message", "key"]
    dtypes = {name: str(frame[name].dtype) for name in frame.columns}
    assert dtypes["value"] == "float64" and dtypes["fail_times"] == "int64" and dtypes["metrics_file"] == "bool"
    assert dtypes["mode"] == "object" and dtypes["seed"] == "int64" and dtypes["replicate"] == "int64"
    for column in ("start_time", "end_time"):
        assert isinstance(frame[column].dtype, pd.DatetimeTZDtype) and str(frame[column].dt.tz) == "UTC"
    assert (frame["end_time"] >= frame["start_time"]).all()
    # the metric the trial reports under the parameter's name does not overwrite the parameter
    assert "metric:value" in frame.columns and (frame["metric:value"] == frame["value"]).all()
    assert sorted(set(frame["replicate"])) == [0, 1] and frame["seed"].nunique() == 2
    assert frame["index"].tolist() == sorted(frame["index"])


def test_the_phenomenology_runner_keeps_the_lab_counters(tmp_path: Path) -> None:
    base = Path(__file__).resolve().parents[1] / "experiments/examples/isolated_baseline.json"
    sweep = ExperimentSweep(base_config=base, sweep_params={"max_cycles": [2]}, sweep_id="lab",
                            output_dir=tmp_path / "sweeps", db_path=tmp_path / "experiments.db", timeout_seconds=120)
    results = sweep.run_all(verbose=False)
    assert len(results) == 1 and isinstance(results[0], LabSweepResult), results
    lab = results[0]
    assert lab.status == "completed", lab.error_message
    assert lab.total_cycles == lab.metrics["total_cycles"] == 2 and lab.seed is not None
    on_disk = json.loads((tmp_path / "sweeps/lab/sweep_results.json").read_text())["results"][0]
    assert on_disk["total_cycles"] == 2 and "replicate" in on_disk  # the lab's file keeps its format


def test_a_misspelled_function_is_refused_before_anything_is_written(workspace: Workspace) -> None:
    sweep = ExperimentSweep(base_config={"lr": 0.1}, sweep_params={"lr": [0.1, 0.2]}, function="json:dumpz",
                            output_dir=workspace.output, db_path=workspace.db)
    with pytest.raises(SpecError) as refused:
        sweep.run_all(verbose=False)
    message = str(refused.value)
    assert "did you mean 'dump'?" in message and "--" not in message
    assert not workspace.output.exists() and not workspace.db.exists()  # the dict's file is gone again


def test_errors_name_the_arguments_of_experiment_sweep(workspace: Workspace) -> None:
    with pytest.raises(SpecError, match="^ExperimentSweep: argument 'parallel_jobs' has the value 0"):
        _sweep(workspace, workspace.base, {"value": [1.0]}, parallel_jobs=0)
    with pytest.raises(SpecError, match="^ExperimentSweep: argument 'timeout_seconds' has the value -1"):
        _sweep(workspace, workspace.base, {"value": [1.0]}, timeout_seconds=-1)
    with pytest.raises(SpecError, match="^sweep_params must be a dict"):
        ExperimentSweep(base_config=workspace.base, sweep_params=[("value", [1.0])])  # type: ignore[arg-type]


SCRIPT = """\
import json
import sys
from sweeplab import ExperimentSweep

def train(config, context):
    return {"loss": (config["lr"] - 0.1) ** 2, "seed_seen": context.seed % 1000, "optimizer": config["opt"]}

common = dict(output_dir=sys.argv[1], db_path=sys.argv[2], parallel_jobs=2)
named = ExperimentSweep(base_config={"lr": 0.1, "opt": "adam"}, sweep_params={"lr": [0.01, 0.1]}, function=train,
                        repeats=2, **common)
anonymous = ExperimentSweep(base_config={"x": 1}, sweep_params={"x": [1, 2, 3]},
                            function=lambda config, context: {"y": config["x"] * 10}, **common)
for sweep in (named, anonymous):
    for result in sweep.run_all(verbose=False):
        print(json.dumps({"sweep": sweep.sweep_id, "status": result.status, "metrics": result.metrics,
                          "extra": result.extra, "seed": result.seed}))
"""


def test_a_script_sweeps_its_main_function_and_a_lambda(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "sweeps"), str(tmp_path / "db.sqlite")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["sweep"].split("_")[1] for r in records] == ["train"] * 4 + ["lambda"] * 3
    assert all(r["status"] == "completed" for r in records), done.stdout
    assert all(r["metrics"]["seed_seen"] == r["seed"] % 1000 for r in records[:4])  # the trial's own seed
    assert all(r["extra"] == {"optimizer": "adam"} for r in records[:4])  # text it returns is kept too
    assert [r["metrics"] for r in records[4:]] == [{"y": 10}, {"y": 20}, {"y": 30}]


PATH_EDIT_SCRIPT = """\
import json
import sys

sys.path.insert(0, sys.argv[3])  # as a notebook does with sys.path.append('../src')
from faraway import train  # noqa: E402  (found only through the edit above)
from nearby import train as train_nearby  # noqa: E402  (next to the script: a trial finds it too)

from sweeplab import ExperimentSweep  # noqa: E402

for function in (train, train_nearby):
    sweep = ExperimentSweep(base_config={"x": 1}, sweep_params={"x": [1, 2]}, function=function,
                            output_dir=sys.argv[1], db_path=sys.argv[2])
    results = sweep.run_all(verbose=False)
    print(json.dumps({"function": sweep.spec.function, "metrics": [r.metrics for r in results],
                      "errors": [r.error_message for r in results]}))
"""


def test_a_module_found_through_a_sys_path_edit_travels_with_its_function(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "faraway.py").write_text(
        "def _scale(x):\n    return 10 * x\n\n\ndef train(config, context):\n    return {'y': _scale(config['x'])}\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "nearby.py").write_text("def train(config, context):\n    return {'z': config['x'] + 1}\n")
    (work / "script.py").write_text(PATH_EDIT_SCRIPT)
    done = subprocess.run([sys.executable, "script.py", str(tmp_path / "sweeps"), str(tmp_path / "db.sqlite"),
                           str(tmp_path / "lib")], cwd=work, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    far, near = (json.loads(line) for line in done.stdout.splitlines())
    assert far["function"].startswith("pickle:") and far["metrics"] == [{"y": 10}, {"y": 20}], far
    assert near["function"] == "nearby:train" and near["metrics"] == [{"z": 2}, {"z": 3}], near


def test_two_sweeps_of_one_function_in_one_second_get_two_ids(workspace: Workspace, monkeypatch) -> None:
    monkeypatch.setattr("sweeplab.sweep.api.time.strftime", lambda fmt: "20261130_000000")
    first = _sweep(workspace, _base(workspace), {"value": [1.0]})
    first.run_all(verbose=False)
    second = _sweep(workspace, _base(workspace), {"value": [2.0]})
    assert (first.sweep_id, second.sweep_id) == ("sweep_command_20261130_000000", "sweep_command_20261130_000000_2")
    assert [r.metrics["value"] for r in second.run_all(verbose=False)] == [2.0]


def test_a_refused_run_keeps_the_files_another_sweep_has_used(workspace: Workspace) -> None:
    base = _base(workspace, sleep=0.0)
    first = _sweep(workspace, base, {"value": [1.0]}, sweep_id="taken_one")  # writes the dict's file
    second = _sweep(workspace, dict(base), {"value": [2.0]}, sweep_id="other")  # finds it in place
    assert first.resolved.base_path == second.resolved.base_path
    second.run_all(verbose=False)
    _sweep(workspace, workspace.base, {"value": [1.0]}, sweep_id="taken_one").run_all(verbose=False)
    with pytest.raises(SweepExistsError):  # the id is taken now: the first sweep is refused
        first.run_all(verbose=False)
    assert Path(second.resolved.base_path).is_file()  # 'other' still finds its base for a resume
    assert [r.status for r in _sweep(workspace, dict(base), {"value": [2.0]}, sweep_id="other",
                                     resume=True).run_all(verbose=False)] == ["completed"]
