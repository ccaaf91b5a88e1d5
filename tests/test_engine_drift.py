"""Refusals that write nothing (existing id, drift, a live owner) and what an allowed change does."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.engine_support import Workspace, finish, kill_session, wait_until


def snapshot(workspace: Workspace) -> dict[str, tuple[int, bytes]]:
    """Every file of the sweep folders and the database folder: modification time and content.

    SQLite's side files count by presence (a refused run must not create them), and a ``-wal``
    by its size too; the ``-shm`` index of a WAL database that is already open elsewhere may be
    touched by any reader, so its content is not compared.
    """
    files: dict[str, tuple[int, bytes]] = {}
    for root in (workspace.output, workspace.db.parent):
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            name = str(path.relative_to(workspace.root))
            if path.name.endswith("-shm"):
                files[name] = (0, b"")
            elif path.name.endswith("-wal"):
                files[name] = (path.stat().st_size, b"")
            else:
                files[name] = (path.stat().st_mtime_ns, path.read_bytes())
    return files


def test_an_existing_sweep_id_without_resume_is_refused_and_nothing_is_touched(workspace: Workspace) -> None:
    spec = workspace.spec("taken", {"value": [1.0, 2.0]})
    assert workspace.run("run", spec).returncode == 0
    before = snapshot(workspace)
    again = workspace.run("run", spec)
    assert again.returncode == 2
    assert "already exists" in again.stderr and "resume" in again.stderr and "Traceback" not in again.stderr
    assert snapshot(workspace) == before


def test_a_changed_base_config_blocks_resume_unless_drift_is_allowed(workspace: Workspace) -> None:
    workspace.write_base(fail_times=1)
    spec = workspace.spec("drifty", {"mode": ["ok", "flaky"], "value": [1.0, 2.0]}, max_retries=0)
    assert workspace.run("run", spec).returncode == 1  # the flaky trials fail their only attempt
    workspace.write_base(fail_times=1, sleep=0.01)
    before = snapshot(workspace)

    refused = workspace.resume("drifty")
    assert refused.returncode == 2
    assert "sleep: 0.0 -> 0.01" in refused.stderr and "--allow-drift" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert snapshot(workspace) == before  # nothing run, nothing written

    allowed = workspace.resume("drifty", "--allow-drift")
    assert allowed.returncode == 0, allowed.stderr
    assert "allowed by --allow-drift" in allowed.stderr
    rows = workspace.trial_rows("drifty")
    assert rows == {"drifty_exp0001_mode=ok_value=1.0": ("completed", 1),
                    "drifty_exp0002_mode=ok_value=2.0": ("completed", 1),
                    "drifty_exp0003_mode=flaky_value=1.0": ("completed", 2),
                    "drifty_exp0004_mode=flaky_value=2.0": ("completed", 2)}
    assert workspace.result_counts("drifty_") == {experiment_id: 1 for experiment_id in rows}
    assert "Sweep drifty completed: 4/4 completed" in allowed.stdout


def test_adding_a_value_extends_the_sweep_and_removing_one_is_drift(workspace: Workspace) -> None:
    assert workspace.run("run", workspace.spec("grow", {"value": [1.0, 2.0]})).returncode == 0
    first = workspace.trial_rows("grow")
    grown = workspace.run("run", workspace.spec("grow", {"value": [1.0, 2.0, 3.0]}, resume=True))
    assert grown.returncode == 0, grown.stderr
    rows = workspace.trial_rows("grow")
    assert len(rows) == 3 and all(rows[i] == first[i] for i in first)  # the old trials were not rerun
    assert workspace.count_events("grow", "started") == 3
    assert [e["experiment_id"] for e in workspace.events("grow") if e["event"] == "started"][-1] \
        == "grow_exp0003_value=3.0"
    assert workspace.result_counts("grow_") == {experiment_id: 1 for experiment_id in rows}

    before = snapshot(workspace)
    shrunk = workspace.run("run", workspace.spec("grow", {"value": [1.0, 3.0]}, resume=True))
    assert shrunk.returncode == 2
    assert "values [2.0] were swept and are now gone" in shrunk.stderr
    assert snapshot(workspace) == before


def test_a_second_coordinator_is_refused_while_the_first_is_alive(workspace: Workspace) -> None:
    workspace.write_base(gate="open")
    spec = workspace.spec("owned", {"value": [1.0, 2.0]})
    process = workspace.start("run", spec)
    try:
        wait_until(lambda: process.poll() is not None or workspace.count_events("owned", "started"),
                   "the first coordinator to start a trial")
        assert process.poll() is None, process.communicate()
        second = workspace.resume("owned")
        assert second.returncode == 2
        assert "owned by a running coordinator" in second.stderr and f"pid={process.pid}" in second.stderr
        (workspace.state / "open").touch()
        code, _, err = finish(process)
    finally:
        kill_session(process)
    assert code == 0, err
    assert workspace.count_events("owned", "sweep_started") == 1
    assert workspace.trial_rows("owned") == {"owned_exp0001_value=1.0": ("completed", 1),
                                             "owned_exp0002_value=2.0": ("completed", 1)}


def test_status_of_a_folder_without_sweeps_is_a_clear_error(workspace: Workspace, tmp_path: Path) -> None:
    done = workspace.run("status", "--sweep-dir", tmp_path / "empty")
    assert done.returncode == 2 and "no sweeps" in done.stderr and "Traceback" not in done.stderr


def test_values_removed_under_allow_drift_leave_the_views_and_come_back_with_their_results(
        workspace: Workspace) -> None:
    """Removing a value with --allow-drift marks its trial ``dropped``: kept in the database with its
    experiment rows, out of sweep_results.json, completed_experiments.json, the analysis and the counts.
    Put back, it returns completed without running again."""
    import json

    from sweeplab.analysis import SweepAnalyzer

    assert workspace.run("run", workspace.spec("trim", {"value": [1.0, 2.0, 3.0]})).returncode == 0
    trimmed = workspace.run("run", workspace.spec("trim", {"value": [1.0, 3.0]}, resume=True), "--allow-drift")
    assert trimmed.returncode == 0, trimmed.stderr
    assert "1 trial(s) the plan no longer has are marked 'dropped'" in trimmed.stderr
    assert "Sweep trim completed: 2/2 completed" in trimmed.stdout
    assert workspace.trial_rows("trim")["trim_exp0002_value=2.0"] == ("dropped", 1)
    assert workspace.result_counts("trim_") == {"trim_exp0001_value=1.0": 1, "trim_exp0002_value=2.0": 1,
                                                "trim_exp0003_value=3.0": 1}  # nothing deleted
    folder = workspace.sweep_dir("trim")
    results = json.loads((folder / "sweep_results.json").read_text())["results"]
    assert [r["parameters"]["value"] for r in results] == [1.0, 3.0]
    assert json.loads((folder / "completed_experiments.json").read_text()) == [
        "trim_exp0001_value=1.0", "trim_exp0003_value=3.0"]
    analyzer = SweepAnalyzer("trim", sweep_dir=workspace.output)
    assert sorted(analyzer.to_dataframe()["value"]) == [1.0, 3.0]
    assert analyzer.status_counts == {"completed": 2}
    status = workspace.run("status", "trim", "--sweep-dir", workspace.output)
    assert "2/2 completed" in status.stdout
    assert re.search(r"dropped \(no longer in the plan\) +1\b", status.stdout), status.stdout
    assert "not started" not in status.stdout

    restored = workspace.run("run", workspace.spec("trim", {"value": [1.0, 2.0, 3.0]}, resume=True),
                             "--allow-drift")
    assert restored.returncode == 0, restored.stderr
    assert "1 dropped trial(s) are back in the plan" in restored.stderr
    assert workspace.trial_rows("trim") == {"trim_exp0001_value=1.0": ("completed", 1),
                                            "trim_exp0002_value=2.0": ("completed", 1),
                                            "trim_exp0003_value=3.0": ("completed", 1)}
    assert workspace.count_events("trim", "started") == 3  # the one brought back did not run again
    assert len(json.loads((folder / "sweep_results.json").read_text())["results"]) == 3


def test_a_changed_base_and_a_removed_value_drop_only_the_removed_trial(workspace: Workspace) -> None:
    """After a base-config drift the trials are matched by their parameters (their keys changed): the kept
    values stay completed without running again, only the removed value's trial is dropped."""
    import json

    assert workspace.run("run", workspace.spec("both", {"value": [1.0, 2.0, 3.0]})).returncode == 0
    workspace.write_base(sleep=0.01)
    done = workspace.run("run", workspace.spec("both", {"value": [1.0, 3.0]}, resume=True), "--allow-drift")
    assert done.returncode == 0, done.stderr
    assert "1 trial(s) the plan no longer has are marked 'dropped'" in done.stderr
    assert workspace.trial_rows("both") == {"both_exp0001_value=1.0": ("completed", 1),
                                            "both_exp0002_value=2.0": ("dropped", 1),
                                            "both_exp0003_value=3.0": ("completed", 1)}
    assert workspace.count_events("both", "started") == 3  # nothing ran again
    results = json.loads((workspace.sweep_dir("both") / "sweep_results.json").read_text())["results"]
    assert [r["experiment_id"] for r in results] == ["both_exp0001_value=1.0", "both_exp0003_value=3.0"]

    workspace.write_base(sleep=0.02)  # another drift, and the value comes back: found by its parameters
    back = workspace.run("run", workspace.spec("both", {"value": [1.0, 2.0, 3.0]}, resume=True), "--allow-drift")
    assert back.returncode == 0, back.stderr
    assert "1 dropped trial(s) are back in the plan" in back.stderr
    assert workspace.trial_rows("both")["both_exp0002_value=2.0"] == ("completed", 1)
    assert workspace.count_events("both", "started") == 3
