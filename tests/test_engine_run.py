"""A sweep run end to end by a real ``sweeplab run``: files, database, metrics, exit codes, output."""

from __future__ import annotations

import json
import math
import os
import pty
import subprocess
import sys
import threading
from datetime import datetime

from helpers.engine_support import (
    TRIAL,
    Workspace,
    clean_env,
    finish,
    kill_session,
    wait_until,
)

from sweeplab import ExperimentSweep
from sweeplab.engine.staging import recorded_keys, trial_folders

ORIGINAL_FIELDS = {"experiment_id", "parameters", "status", "start_time", "end_time", "total_cycles",
                   "total_crashes", "total_messages", "error_message", "db_path"}


def test_run_writes_the_sweep_folder_and_merges_each_trial_once(workspace: Workspace) -> None:
    spec = workspace.spec("files", {"value": [1.0, 2.0, 3.0], "metrics_file": [False, True]}, parallel=2)
    done = workspace.run("run", spec)
    assert done.returncode == 0, done.stderr
    folder = workspace.sweep_dir("files")

    config = json.loads((folder / "sweep_config.json").read_text())
    assert config["sweep_id"] == "files"
    assert config["sweep_params"] == {"value": [1.0, 2.0, 3.0], "metrics_file": [False, True]}
    assert config["total_experiments"] == 6 and config["parallel_jobs"] == 2

    results = json.loads((folder / "sweep_results.json").read_text())["results"]
    assert len(results) == 6
    for record in results:
        assert ORIGINAL_FIELDS | {"metrics", "attempts"} <= set(record)
        assert record["status"] == "completed" and record["attempts"] == 1
        assert record["db_path"] == workspace.db_rel
        value = record["parameters"]["value"]
        # metrics.json wins over stdout; without it, the last JSON line of stdout counts
        assert record["metrics"]["value"] == value
        assert record["metrics"]["attempt"] == 1
    ids = [r["experiment_id"] for r in results]
    assert sorted(json.loads((folder / "completed_experiments.json").read_text())) == sorted(ids)

    events = workspace.events("files")
    assert [e["event"] for e in events].count("started") == 6
    assert [e["event"] for e in events].count("finished") == 6
    assert events[0]["event"] == "sweep_started" and events[-1]["event"] == "sweep_finished"

    rows = workspace.query("SELECT key, experiment_id, params_json FROM trials WHERE sweep_id = 'files'")
    assert len(rows) == 6
    for key, experiment_id, params_json in rows:
        params = json.loads(params_json)
        short = experiment_id[len("files_"):]
        assert short.startswith("exp000")
        flat = json.loads((folder / f"{short}_config.json").read_text())
        assert flat["value"] == params["value"] and flat["metrics_file"] == params["metrics_file"]
        trial_dir = folder / "trials" / os.path.basename(trial_folders(str(folder / "trials"))[key])  # a readable name, the key inside
        assert trial_dir.name.startswith(short) and recorded_keys(str(folder / "trials"))[trial_dir.name] == key
        assert json.loads((trial_dir / "config.json").read_text()) == flat
        attempt = trial_dir / "attempt-1"
        assert (attempt / "stdout.txt").read_text().splitlines()[-1] == "done"
        assert (attempt / "stderr.txt").exists()
        assert (attempt / "metrics.json").exists() == params["metrics_file"]

    assert workspace.result_counts("files_") == {i: 1 for i in ids}
    values = dict(workspace.query("SELECT experiment_id, value FROM results"))
    assert {values[r["experiment_id"]] for r in results} == {1.0, 2.0, 3.0}
    assert workspace.query("SELECT status, COUNT(*) FROM attempts WHERE sweep_id = 'files' GROUP BY status") \
        == [("completed", 6)]


def test_trials_get_their_cpu_threads_as_omp_num_threads(workspace: Workspace) -> None:
    workspace.write_base(resource_constraints={"cpu_threads": 1})
    spec = workspace.spec("threads", {"resource_constraints.cpu_threads": [1, 2]}, parallel="auto")
    done = workspace.run("run", spec)
    assert done.returncode == 0, done.stderr
    results = json.loads((workspace.sweep_dir("threads") / "sweep_results.json").read_text())["results"]
    seen = {r["parameters"]["resource_constraints.cpu_threads"]: r["metrics"]["omp_threads"] for r in results}
    assert seen == {1: 1, 2: 2}


def test_exit_code_is_1_when_a_trial_does_not_complete(workspace: Workspace) -> None:
    spec = workspace.spec("partly", {"mode": ["ok", "fail"]}, max_retries=0)
    done = workspace.run("run", spec)
    assert done.returncode == 1, done.stderr
    assert sorted(s for s, _ in workspace.trial_rows("partly").values()) == ["completed", "failed"]
    assert "sweeplab resume partly" in done.stdout


def test_python_api_runs_the_sweep_and_returns_results(workspace: Workspace, monkeypatch) -> None:
    monkeypatch.chdir(workspace.root)
    command = [sys.executable, str(TRIAL), "{config}", "{db}", "{experiment_id}", "{trial_dir}"]
    sweep = ExperimentSweep(base_config=workspace.base, sweep_params={"value": [1.0, 2.0, 3.0]}, sweep_id="api",
                            parallel_jobs=2, output_dir=workspace.output_rel, db_path=workspace.db_rel, resume=False,
                            jetson_optimized=False, timeout_seconds=30, max_retries=0, tags=["t1"],
                            description="api test", runner="command", command=command, grace_period=1)
    assert len(sweep) == 3
    assert sweep.estimate_time_remaining(10.0) == math.ceil(3 / 2) * 10.0
    results = sweep.run_all(verbose=False)
    assert [r.status for r in results] == ["completed"] * 3
    assert [r.parameters for r in results] == [{"value": 1.0}, {"value": 2.0}, {"value": 3.0}]
    for result in results:
        assert result.experiment_id.startswith("api_exp000")
        assert result.metrics["value"] == result.parameters["value"]
        assert result.attempts == 1 and result.error_message is None
        assert result.start_time and result.end_time and result.start_time <= result.end_time
        assert result.db_path == workspace.db_rel
        assert not hasattr(result, "total_cycles")  # the lab's counters belong to the phenomenology runner
        assert result.seed is not None and result.replicate == 0
    assert sweep.estimate_time_remaining(10.0) == 0
    assert workspace.query("SELECT description, tags_json, status FROM sweeps WHERE sweep_id = 'api'") \
        == [("api test", '["t1"]', "completed")]
    assert (workspace.sweep_dir("api") / "sweep_results.json").exists()


def test_piped_output_is_plain_text(workspace: Workspace) -> None:
    spec = workspace.spec("plain", {"value": [1.0, 2.0, 3.0]}, parallel=2)
    done = workspace.run("run", spec)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr
    lines = done.stdout.splitlines()
    assert sum(1 for line in lines if line.startswith("[") and ": completed" in line) == 3
    assert any(line.startswith("Sweep plain completed: 3/3 completed") for line in lines)


def test_quiet_prints_only_the_final_summary(workspace: Workspace) -> None:
    spec = workspace.spec("hush", {"value": [1.0, 2.0]})
    done = workspace.run("run", spec, "--quiet")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Sweep hush completed: 2/2 completed"), done.stdout
    assert all(line.startswith("  ") for line in lines[1:]), done.stdout  # only the summary's own details
    assert not any("runner" in line or line.startswith("[") for line in lines)


def test_large_sweep_does_not_wait_for_confirmation_without_a_terminal_stdin(workspace: Workspace) -> None:
    """101 trials, stdout on a real terminal (so progress is drawn) but stdin not one: no prompt."""
    spec = workspace.spec("big", {"value": list(range(101))}, parallel=2,
                          command=[sys.executable, "-S", "-c", "pass"])
    master, slave = pty.openpty()
    output: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not chunk:
                return
            output.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        process = subprocess.run(workspace.command("run", spec), cwd=workspace.root, stdin=subprocess.DEVNULL,
                                 stdout=slave, stderr=subprocess.PIPE, timeout=60, env=clean_env())
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    text = b"".join(output).decode(errors="replace")
    assert process.returncode == 0, process.stderr
    assert "[y/N]" not in text
    assert workspace.query("SELECT COUNT(*) FROM trials WHERE sweep_id = 'big' AND status = 'completed'") == [(101,)]


def test_status_and_list_show_counts_by_status(workspace: Workspace) -> None:
    spec = workspace.spec("counted", {"mode": ["ok", "fail", "invalid"], "value": [1.0, 2.0]}, max_retries=0,
                          parallel=2)
    assert workspace.run("run", spec).returncode == 1
    status = workspace.run("status", "counted", "--sweep-dir", workspace.output)
    assert status.returncode == 0, status.stderr
    assert "Sweep counted: incomplete, 2/6 completed" in status.stdout
    table = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines()
             if line.split() and line.split()[0] in ("completed", "failed", "running", "cancelled")}
    assert table == {"completed": "2", "failed": "4"}

    other = workspace.spec("other", {"value": [5.0]})
    assert workspace.run("run", other).returncode == 0
    listing = workspace.run("list", "--sweep-dir", workspace.output)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line.split()[1:5] for line in listing.stdout.splitlines()[1:] if line.strip()}
    assert rows["counted"] == ["incomplete", "2", "4", "6"]
    assert rows["other"] == ["completed", "1", "0", "1"]

    unknown = workspace.run("status", "nope", "--sweep-dir", workspace.output)
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr and "counted" in unknown.stderr and "other" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_events_never_announce_what_the_journal_does_not_hold(workspace: Workspace) -> None:
    """Watched while it runs: every trial events.jsonl calls finished is already completed in the journal."""
    values = [float(v) for v in range(40)]
    process = workspace.start("run", workspace.spec("watched", {"value": values}, parallel=2))
    checked: set[str] = set()
    try:
        while True:
            running = process.poll() is None
            finished = {e["experiment_id"] for e in workspace.events("watched") if e["event"] == "finished"}
            new = finished - checked
            if new and workspace.db.exists():  # events first, then the journal: the order that could fail
                completed = {row[0] for row in workspace.query(
                    "SELECT experiment_id FROM trials WHERE sweep_id = 'watched' AND status = 'completed'")}
                assert new <= completed, f"announced before being journaled: {sorted(new - completed)}"
                checked |= new
            if not running:
                break
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 0
    assert len(checked) == len(values)


def test_sweep_results_is_the_labs_object(workspace: Workspace) -> None:
    """sweep_results.json has the Season 3 lab's keys; each record the lab's record keys."""
    spec = workspace.spec("labkeys", {"mode": ["ok", "fail"], "value": [1.0, 2.0]}, parallel=2, max_retries=0)
    code, _, err = finish(workspace.start("run", spec))
    assert code == 1, err
    data = json.loads((workspace.sweep_dir("labkeys") / "sweep_results.json").read_text())
    assert list(data)[:5] == ["sweep_id", "timestamp", "total_experiments", "completed_experiments", "results"]
    assert data["sweep_id"] == "labkeys" and data["total_experiments"] == 4
    assert data["completed_experiments"] == sum(r["status"] == "completed" for r in data["results"]) == 2
    assert datetime.fromisoformat(data["timestamp"]).tzinfo is not None
    lab_keys = {"experiment_id", "parameters", "status", "start_time", "end_time", "total_cycles", "total_crashes",
                "total_messages", "error_message"}
    for record in data["results"]:
        assert lab_keys <= set(record)
        assert set(record["parameters"]) == {"mode", "value"}
    assert {r["status"] for r in data["results"]} == {"completed", "failed"}
    completed = json.loads((workspace.sweep_dir("labkeys") / "completed_experiments.json").read_text())
    assert completed == [r["experiment_id"] for r in data["results"] if r["status"] == "completed"]


def test_views_catch_up_while_other_trials_still_run(workspace: Workspace) -> None:
    """Two quick trials end close together while two others hang: the views show both within seconds."""
    spec = workspace.spec("live", {"mode": ["ok", "hang"], "value": [1.0, 2.0]}, parallel=4)
    process = workspace.start("run", spec)
    results = workspace.sweep_dir("live") / "sweep_results.json"

    def both_quick_ones_shown() -> bool:
        assert process.poll() is None, process.communicate()
        try:
            records = json.loads(results.read_text())["results"]
        except (FileNotFoundError, ValueError):  # not written yet (written atomically: never half)
            return False
        return sorted(r["status"] for r in records if r["parameters"]["mode"] == "ok") == ["completed"] * 2

    try:
        wait_until(both_quick_ones_shown, "sweep_results.json to show both quick trials completed")
        process.terminate()  # SIGTERM: the hanging trials are cancelled
        code, _, err = finish(process)
    finally:
        kill_session(process)
    assert code == 130, err
