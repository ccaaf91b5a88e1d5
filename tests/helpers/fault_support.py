"""Shared pieces of the fault-injection tests (``test_trial_faults``, ``test_storage_faults``,
``test_dask_faults``): sweeps of ``helpers/fault_trial.py`` and what its runs left behind."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from helpers.engine_support import Workspace

FAULT_TRIAL = Path(__file__).parent / "fault_trial.py"


def fault_spec(workspace: Workspace, sweep_id: str, sweep: dict[str, Any], **keys: Any) -> Path:
    """A sweep YAML whose trials are ``helpers/fault_trial.py``; ``keys`` are further spec keys."""
    command = [sys.executable, str(FAULT_TRIAL), "{config}", "{db}", "{experiment_id}", "{trial_dir}"]
    return workspace.spec(sweep_id, sweep, command=command, **keys)


def runs_of(workspace: Workspace, experiment_id: str) -> list[str]:
    """The attempt folder of every execution of the trial (each run leaves one marker file)."""
    folder = workspace.state / "runs"
    return sorted(path.read_text() for path in folder.glob(f"{experiment_id}.*")
                  if not path.name.endswith(".tmp")) if folder.is_dir() else []


def all_runs(workspace: Workspace) -> list[str]:
    """The attempt folder of every execution of any trial."""
    folder = workspace.state / "runs"
    return sorted(path.read_text() for path in folder.iterdir()
                  if not path.name.endswith(".tmp")) if folder.is_dir() else []


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


def tree(root: Path) -> dict[str, tuple[bool, int, int]]:
    """Everything below ``root``: relative path → (is a folder, size, modification time in ns).

    SQLite's ``-shm`` index may be touched by any reader, so only its presence counts.
    """
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        is_dir = path.is_dir() and not path.is_symlink()
        shm = path.name.endswith("-shm")
        found[str(path.relative_to(root))] = (is_dir, 0 if is_dir or shm else info.st_size,
                                              0 if is_dir or shm else info.st_mtime_ns)
    return found


def one_message(done: Any, code: int = 2) -> str:
    """The one error line of a refused ``sweeplab`` run (asserted: its exit code, no traceback)."""
    assert done.returncode == code, done.stdout + done.stderr
    no_traceback(done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "error:" in lines[0], done.stderr
    return lines[0]


def live_fault_trials(root: Path) -> list[int]:
    """Pids of ``fault_trial.py`` processes still running for the workspace under ``root``."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if str(FAULT_TRIAL) in cmdline and any(arg.startswith(str(root)) for arg in cmdline) \
                and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process.pid)
    return found
