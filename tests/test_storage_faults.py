"""Faults of the storage a sweep keeps its state in, by real ``sweeplab`` processes: a lost journal,
unusable database and folder paths, symbolic links in the sweep folder, full file systems."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from helpers.engine_support import (
    Workspace,
    clean_env,
    finish,
    kill_session,
    leftover_trials,
    reap_leftovers,
    wait_until,
)
from helpers.fault_support import fault_spec, no_traceback, one_message, runs_of, tree


def stop_after(workspace: Workspace, sweep_id: str, finished: int) -> None:
    """Run the sweep until ``finished`` trials ended, then Ctrl-C it (it stops cleanly, exit 130)."""
    process = workspace.start("run", workspace.root / f"{sweep_id}.yaml")
    try:
        wait_until(lambda: workspace.count_events(sweep_id, "finished") >= finished or process.poll() is not None,
                   f"{finished} finished trials")
        os.kill(process.pid, signal.SIGINT)
        code, out, err = finish(process)
        assert code == 130, out + err
    finally:
        kill_session(process)


@pytest.mark.parametrize("loss", ["deleted", "emptied"])
def test_a_lost_journal_is_rebuilt_from_the_sweep_folder_and_nothing_runs_twice(workspace: Workspace,
                                                                                loss: str) -> None:
    sweep_id = f"lost_{loss}"
    fault_spec(workspace, sweep_id, {"value": [float(v) for v in range(8)]}, parallel=1)
    workspace.write_base(sleep=0.2)
    stop_after(workspace, sweep_id, 3)
    before = workspace.trial_rows(sweep_id)
    completed = {eid for eid, (status, _) in before.items() if status == "completed"}
    assert 3 <= len(completed) < 8
    runs = {eid: len(runs_of(workspace, eid)) for eid in before}
    # a clean stop leaves everything in the main file (the test's own reads may have made an empty -wal)
    wal = f"{workspace.db}-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{workspace.db}{suffix}"):
            os.unlink(f"{workspace.db}{suffix}")
    if loss == "deleted":
        workspace.db.unlink()
    else:
        os.truncate(workspace.db, 0)

    resumed = workspace.resume(sweep_id)
    no_traceback(resumed.stderr)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{len(completed)} completed trial(s) were restored" in resumed.stdout + resumed.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == 8 and {status for status, _ in rows.values()} == {"completed"}
    for eid in completed:  # restored, not run again
        assert len(runs_of(workspace, eid)) == runs[eid]
        assert rows[eid] == before[eid]
    # the restored trials' experiment rows are back, and every trial's are there once
    assert workspace.result_counts(sweep_id + "_") == {eid: 1 for eid in rows}
    metrics = workspace.query("SELECT metrics_json FROM trials WHERE experiment_id = ?", sorted(completed)[0])
    assert '"value"' in metrics[0][0]


def run_refused(workspace: Workspace, *args: str) -> str:
    """Run ``sweeplab ARGS``; assert it refused with one message and wrote nothing; return the message."""
    before = tree(workspace.root)
    done = workspace.run(*args)
    message = one_message(done)
    assert tree(workspace.root) == before
    return message


@pytest.mark.parametrize(("db", "expected"), [
    ("a_folder", "is a folder: give the path of a database file"),
    ("/dev/null", "is not a regular file"),
    ("/dev/null/x.db", "'/dev/null' is a file, not a folder"),
    ("/proc/sweeplab/x.db", "nothing can be created in '/proc'"),
    ("text.db", "is not an SQLite database"),
])
def test_an_unusable_database_path_is_refused_before_anything_is_written(workspace: Workspace, db: str,
                                                                        expected: str) -> None:
    (workspace.root / "a_folder").mkdir()
    (workspace.root / "text.db").write_text("name,value\nx,1\n")
    spec = fault_spec(workspace, "bad_db", {"value": [1.0]}, db_path=db)
    message = run_refused(workspace, "run", spec)
    assert expected in message and db in message
    assert not workspace.sweep_dir("bad_db").exists()


def test_an_output_that_is_a_file_is_refused_before_anything_is_written(workspace: Workspace) -> None:
    (workspace.root / "out.txt").write_text("not a folder\n")
    spec = fault_spec(workspace, "to_file", {"value": [1.0]}, output_dir="out.txt")
    message = run_refused(workspace, "run", spec)
    assert "'out.txt' is a file, not a folder" in message or "out.txt' is a file, not a folder" in message
    assert not workspace.db.exists()


def finished_sweep(workspace: Workspace, sweep_id: str) -> Path:
    spec = fault_spec(workspace, sweep_id, {"value": [1.0, 2.0, 3.0]}, resume=True)
    done = workspace.run("run", spec)
    assert done.returncode == 0, done.stderr
    return spec


def damage(db: Path, how: str) -> None:
    if how == "truncated":
        os.truncate(db, db.stat().st_size // 2)
    elif how == "corrupt":  # the header stays, the pages after it do not
        with open(db, "r+b") as handle:
            handle.seek(4096)
            handle.write(b"\x5a" * (db.stat().st_size - 4096))
    else:
        db.write_bytes(b"PK\x03\x04 a zip archive, say" * 10)


@pytest.mark.parametrize("how", ["truncated", "corrupt", "not_sqlite"])
def test_a_damaged_database_is_one_clear_message_for_status_resume_and_run(workspace: Workspace, how: str) -> None:
    spec = finished_sweep(workspace, "damaged")
    damage(workspace.db, how)
    expected = {"truncated": "is truncated", "corrupt": "is damaged", "not_sqlite": "is not an SQLite database"}[how]
    for args in (("status", "damaged", "--sweep-dir", workspace.output_rel), ("resume", "damaged", "--sweep-dir",
                 workspace.output_rel), ("run", str(spec), "--resume")):
        message = run_refused(workspace, *args)
        assert expected in message and workspace.db_rel in message, (args, message)


@pytest.mark.parametrize("name", [".coordinator.lock", "events.jsonl", "sweep_results.json",
                                  "completed_experiments.json", "sweep_config.json", "journal lock"])
def test_a_file_of_the_sweep_replaced_by_a_folder_is_refused_before_anything_is_written(workspace: Workspace,
                                                                                       name: str) -> None:
    spec = finished_sweep(workspace, "replaced")
    path = workspace.db.parent / ".experiments.db.replaced.lock" if name == "journal lock" \
        else workspace.sweep_dir("replaced") / name
    assert path.is_file()
    path.unlink()
    (path / "inside").mkdir(parents=True)
    message = run_refused(workspace, "run", str(spec))
    assert f"'{path.relative_to(workspace.root)}' is a folder" in message or str(path.name) in message
    assert "is a folder" in message


def test_an_unreadable_stored_config_is_a_clear_message_for_status(workspace: Workspace) -> None:
    finished_sweep(workspace, "garbled")
    (workspace.sweep_dir("garbled") / "sweep_config.json").write_bytes(b"\xff\xfe\x00garbage")
    message = run_refused(workspace, "status", "garbled", "--sweep-dir", workspace.output_rel)
    assert "sweep_config.json' cannot be read" in message and "sweeplab resume garbled" in message
    resumed = workspace.resume("garbled")  # resume takes the spec stored in the journal instead
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((workspace.sweep_dir("garbled") / "sweep_config.json").read_text())["sweep_id"] == "garbled"


@pytest.mark.parametrize("name", [".coordinator.lock", "events.jsonl", "sweep_results.json"])
def test_a_symbolic_link_in_the_sweep_folder_is_refused_and_its_target_untouched(workspace: Workspace,
                                                                                 name: str) -> None:
    spec = finished_sweep(workspace, "linked")
    target = workspace.root / "precious.txt"
    target.write_text("keep me\n")
    link = workspace.sweep_dir("linked") / name
    link.unlink()
    link.symlink_to(target)
    message = run_refused(workspace, "run", str(spec))
    assert "is a symbolic link" in message and name in message
    assert target.read_text() == "keep me\n"


def test_the_lock_and_event_log_never_write_through_a_link(tmp_path: Path) -> None:
    """Even a link made after the checks (between them and the coordinator's start) is refused."""
    from sweeplab.engine.folder import EventLog, SweepLock
    from sweeplab.journal.storage import StorageError

    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / ".coordinator.lock").symlink_to(target)
    (folder / "events.jsonl").symlink_to(target)
    with pytest.raises(StorageError, match="symbolic link"):
        SweepLock(folder).acquire()
    with pytest.raises(StorageError, match="symbolic link"):
        EventLog(folder / "events.jsonl")
    assert target.read_text() == "keep me\n"


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_the_files_of_a_sweep_follow_the_umask(workspace: Workspace, umask: int) -> None:
    spec = fault_spec(workspace, "modes", {"value": [1.0]})
    done = subprocess.run(workspace.command("run", spec), cwd=workspace.root, capture_output=True, text=True,
                          timeout=60, env=clean_env(), preexec_fn=lambda: os.umask(umask))
    assert done.returncode == 0, done.stderr
    folder = workspace.sweep_dir("modes")
    expected = 0o666 & ~umask
    for name in ("sweep_config.json", "sweep_results.json", "completed_experiments.json", "events.jsonl",
                 ".coordinator.lock"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == expected, name


@pytest.fixture
def tiny_fs(workspace: Workspace):
    """A 2 MB tmpfs inside the workspace (mounting needs root; skipped with the reason where it is refused)."""
    mount_point = workspace.root / "tiny"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        reap_leftovers(workspace.root)  # nothing may keep the file system busy
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` with one file, to the last byte; returns the file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 10, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


@pytest.mark.parametrize("full", ["database", "sweep folder"])
def test_a_full_disk_is_one_message_and_resume_completes_every_trial_once(workspace: Workspace, tiny_fs: Path,
                                                                         full: str) -> None:
    sweep_id = "full"
    where = {"db_path": "tiny/experiments.db"} if full == "database" else {"output_dir": "tiny/sweeps"}
    if full == "database":
        workspace.db = workspace.root / "tiny" / "experiments.db"
    else:
        workspace.output = workspace.root / "tiny" / "sweeps"
        workspace.output_rel = "tiny/sweeps"
    workspace.write_base(gate="go")
    fault_spec(workspace, sweep_id, {"value": [float(v) for v in range(6)]}, parallel=2, **where)
    process = workspace.start("run", workspace.root / f"{sweep_id}.yaml")
    try:
        wait_until(lambda: workspace.count_events(sweep_id, "started") >= 2 or process.poll() is not None,
                   "two trials to start")
        filler = fill(tiny_fs)
        (workspace.state / "go").touch()
        code, out, err = finish(process, timeout=60)
    finally:
        kill_session(process)
    message = one_message(subprocess.CompletedProcess([], code, out, err), code=1)
    assert "disk full" in message and f"sweeplab resume {sweep_id}" in message, message
    assert "tiny/" in message  # it names the file that could not be written
    assert not leftover_trials(workspace.root)  # the trials it ran were ended with it

    filler.unlink()
    resumed = workspace.resume(sweep_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    rows = workspace.trial_rows(sweep_id)
    assert len(rows) == 6 and {status for status, _ in rows.values()} == {"completed"}
    assert workspace.result_counts(sweep_id + "_") == {eid: 1 for eid in rows}
    assert workspace.query("SELECT COUNT(*) FROM attempts WHERE status = 'completed'") == [(6,)]
