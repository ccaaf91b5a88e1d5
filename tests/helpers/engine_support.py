"""Shared pieces of the engine integration tests: a sweep workspace, real ``sweeplab`` processes,
and bounded waits on real signals (events.jsonl lines, database rows, files).

Nothing here sleeps to hide a race: every wait polls a real condition until a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

TRIAL = Path(__file__).parent / "engine_trial.py"
#: how long any wait may take before the test fails (generous: 2 cores, loaded CI)
DEADLINE = 30.0


def wait_until(condition: Callable[[], Any], what: str, timeout: float = DEADLINE, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def clean_env() -> dict[str, str]:
    """Our environment without variables that would force colours or a terminal width."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
                                                             "COLUMNS", "CLICOLOR_FORCE")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def sweeplab_cli(cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``sweeplab ARGS`` run in ``cwd`` as a user runs it (a fresh interpreter), its output captured."""
    return subprocess.run([sys.executable, "-m", "sweeplab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


class Workspace:
    """One test's sweep world: a base config, spec files, the sweep folder root and the database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state"
        self.state.mkdir()
        # relative, as a user's logs/sweeps and logs/experiments.db: sweeplab runs with cwd=root
        self.output_rel, self.db_rel = "sweeps", "db/experiments.db"
        self.output = root / self.output_rel
        self.db = root / self.db_rel
        self.base = root / "base.json"
        self.write_base()

    # --- inputs ---------------------------------------------------------------------------
    def write_base(self, **values: Any) -> Path:
        config = {"mode": "ok", "value": 0.0, "sleep": 0.0, "gate": None, "fail_times": 2,
                  "metrics_file": False, "state_dir": str(self.state), **values}
        self.base.write_text(json.dumps(config, indent=2))
        return self.base

    def spec(self, sweep_id: str, sweep: dict[str, Any], name: str | None = None, **keys: Any) -> Path:
        """Write a sweep YAML using the engine trial; ``keys`` are further spec keys."""
        data = {
            "sweep_id": sweep_id, "base_config": str(self.base), "sweep": sweep,
            "runner": "command",
            "command": [sys.executable, str(TRIAL), "{config}", "{db}", "{experiment_id}", "{trial_dir}"],
            "output_dir": self.output_rel, "db_path": self.db_rel, "grace_period": 1,
            **keys,
        }
        path = self.root / f"{name or sweep_id}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    # --- running sweeplab -------------------------------------------------------------------
    def command(self, *args: str | Path) -> list[str]:
        return [sys.executable, "-m", "sweeplab", *map(str, args)]

    def run(self, *args: str | Path, timeout: float = 60, stdin: int | None = subprocess.DEVNULL,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``sweeplab ARGS`` to its end and return it (stdout, stderr, returncode)."""
        return subprocess.run(self.command(*args), cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              stdin=stdin, env=env or clean_env())

    def start(self, *args: str | Path) -> subprocess.Popen[str]:
        """Start ``sweeplab ARGS`` in its own session, so that it alone can be killed or interrupted."""
        return subprocess.Popen(self.command(*args), cwd=self.root, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                start_new_session=True, env=clean_env())

    def resume(self, sweep_id: str, *flags: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.run("resume", sweep_id, "--sweep-dir", self.output_rel, *flags, timeout=timeout)

    # --- what it left -----------------------------------------------------------------------
    def sweep_dir(self, sweep_id: str) -> Path:
        return self.output / sweep_id

    def events(self, sweep_id: str) -> list[dict[str, Any]]:
        """The complete lines of ``events.jsonl`` (a line being written is skipped)."""
        path = self.sweep_dir(sweep_id) / "events.jsonl"
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").split("\n")
        return [json.loads(line) for line in lines[:-1] if line.strip()]  # the last piece may be partial

    def count_events(self, sweep_id: str, event: str, **match: Any) -> int:
        return sum(1 for e in self.events(sweep_id)
                   if e["event"] == event and all(e.get(k) == v for k, v in match.items()))

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def trial_rows(self, sweep_id: str) -> dict[str, tuple[str, int]]:
        """experiment_id → (status, attempts)."""
        rows = self.query("SELECT experiment_id, status, attempts FROM trials WHERE sweep_id = ?", sweep_id)
        return {r[0]: (r[1], r[2]) for r in rows}

    def result_counts(self, prefix: str) -> dict[str, int]:
        """experiment_id → number of rows in the merged ``results`` table (ids starting with ``prefix``)."""
        rows = self.query("SELECT experiment_id, COUNT(*) FROM results WHERE experiment_id LIKE ? "
                          "GROUP BY experiment_id", prefix + "%")
        return {r[0]: r[1] for r in rows}

    def pid_of(self, experiment_id: str, attempt: int) -> int:
        return int((self.state / f"{experiment_id}.{attempt}.pid").read_text())


def finish(process: subprocess.Popen[str], timeout: float = DEADLINE) -> tuple[int, str, str]:
    """Wait for a started ``sweeplab`` to exit; kill its whole session if it does not."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise AssertionError(f"sweeplab did not exit within {timeout}s\nstdout:\n{out}\nstderr:\n{err}") from None
    return process.returncode, out, err


def kill_session(process: subprocess.Popen[str]) -> None:
    """Test clean-up: end a started coordinator and every trial it left (they are in other groups)."""
    if process.poll() is None:
        process.kill()
        process.communicate()


def leftover_trials(root: Path) -> list[psutil.Process]:
    """Live engine-trial processes started for the workspace under ``root`` (also by a dead coordinator)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if str(TRIAL) in cmdline and any(arg.startswith(str(root)) for arg in cmdline):
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except psutil.Error:
                continue
    return found


def reap_leftovers(root: Path) -> None:
    """Kill what a test left running (it fails the test elsewhere if that matters)."""
    for process in leftover_trials(root):
        try:
            process.kill()
        except psutil.Error:
            pass


@pytest.fixture
def workspace(tmp_path: Path):
    """A fresh :class:`Workspace`; trial processes it leaves behind are killed afterwards."""
    created = Workspace(tmp_path)
    yield created
    reap_leftovers(tmp_path)
