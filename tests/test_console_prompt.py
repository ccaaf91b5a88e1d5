"""The large-sweep prompt on a real terminal: ``[y/N]`` is shown as written, and "no" exits 0 with nothing written."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

from helpers.engine_support import DEADLINE, Workspace, clean_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _read_until(fd: int, needle: str, process: subprocess.Popen[bytes], seen: list[str]) -> str:
    """Read the terminal until ``needle`` shows (or the process ends, or the deadline passes)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                break
            seen.append(chunk.decode(errors="replace"))
            if needle in ANSI.sub("", "".join(seen)):
                break
        elif process.poll() is not None:
            break
    return ANSI.sub("", "".join(seen))


def test_answering_no_shows_the_brackets_exits_0_and_writes_nothing(workspace: Workspace) -> None:
    spec = workspace.spec("big", {"value": list(range(101))}, command=[sys.executable, "-S", "-c", "pass"])
    master, slave = pty.openpty()
    env = clean_env()
    env["COLUMNS"] = "80"
    process = subprocess.Popen(workspace.command("run", spec), cwd=workspace.root, stdin=slave, stdout=slave,
                               stderr=subprocess.PIPE, env=env)
    os.close(slave)
    seen: list[str] = []
    try:
        text = _read_until(master, "[y/N]", process, seen)
        assert "Run 101 trials? [y/N] " in text, text
        os.write(master, b"n\n")
        text = _read_until(master, "Nothing was run.", process, seen)
        assert process.wait(timeout=DEADLINE) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert "Nothing was run." in text
    assert not workspace.output.exists() and not workspace.db.exists()


def test_run_verbose_prints_each_trials_metrics_below_its_line(workspace: Workspace) -> None:
    spec = workspace.spec("loud", {"value": [1.0, 2.0], "mode": ["ok", "fail"]}, max_retries=0)
    loud = workspace.run("run", spec, "-v")
    assert loud.returncode == 1, loud.stderr
    lines = loud.stdout.splitlines()
    completed = [i for i, line in enumerate(lines) if line.startswith("[") and ": completed" in line]
    failed = [i for i, line in enumerate(lines) if line.startswith("[") and ": failed" in line]
    assert len(completed) == len(failed) == 2, loud.stdout
    assert all(re.match(r"    .*value=[12]", lines[i + 1]) for i in completed), loud.stdout  # the metrics, with -v
    assert all(lines[i + 1] == "    error: this trial always fails" for i in failed), loud.stdout

    plain = workspace.run("run", workspace.spec("calm", {"value": [1.0, 2.0]}))
    assert plain.returncode == 0, plain.stderr
    assert not any(line.startswith("    ") for line in plain.stdout.splitlines())  # without -v: one line a trial
