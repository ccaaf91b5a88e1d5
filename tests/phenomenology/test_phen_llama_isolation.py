"""A language model whose native code dies never takes the experiment, a test run or a sweep down.

The model runs in a host process (``minds/llama_host.py``). To make its native code die for real, these
tests put a stand-in ``llama_cpp`` package first on the host's ``PYTHONPATH`` whose ``Llama`` kills its
own process with a signal, as an unsupported CPU instruction in llama.cpp does (SIGILL). What is under
test is everything around it: the real host process, its real death, the experiment CLI, the engine.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sweeplab.phenomenology.minds.base import Message, MindDied, MindRequest
from sweeplab.phenomenology.minds.llama import LlamaMind
from sweeplab.phenomenology.minds.llama_host import MindHostDied

#: a llama_cpp whose model dies by SIGILL when it loads ("load") or when it first speaks ("speak")
FAKE_LLAMA_CPP = textwrap.dedent('''
    import os, signal
    DIE_AT = os.environ.get("FAKE_LLAMA_DIES_AT", "load")

    def llama_log_callback(function):
        return function

    def llama_log_set(callback, user_data):
        pass

    def llama_set_n_threads(ctx, threads, batch_threads):
        pass

    class Llama:
        def __init__(self, **kwargs):
            if DIE_AT == "load":
                os.kill(os.getpid(), signal.SIGILL)
            self.metadata = {"general.architecture": "llama", "llama.block_count": "2"}
            self.ctx = None

        def tokenize(self, data, add_bos=False, special=False):
            return list(range(len(data.split())))

        def create_completion(self, **kwargs):
            os.kill(os.getpid(), signal.SIGILL)

        def close(self):
            pass
''')


@pytest.fixture
def dying_llama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model file, and the stand-in llama_cpp first on the path of every process started from here."""
    package = tmp_path / "fake" / "llama_cpp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_LLAMA_CPP)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(package.parent), os.environ.get("PYTHONPATH", "")]))
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 64)
    monkeypatch.syspath_prepend(str(package.parent))  # the parent finds a llama_cpp (it never imports it)
    return model


def config(model: Path, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "experiment_id": "dies", "mode": "isolated", "mind": "llama", "model_path": str(model), "max_cycles": 3,
        "seed": 1, "resource_constraints": {"ram_limit_gb": 4.0, "context_window": 256,
                                            "max_tokens_per_response": 8, "cpu_threads": 1},
        "self_report_schedule": {"on_startup": False},
    }
    base.update(overrides)
    return base


def test_a_model_that_dies_while_loading_raises_and_this_process_lives(dying_llama: Path) -> None:
    with pytest.raises(MindHostDied) as raised:
        LlamaMind(model_path=str(dying_llama), seed=1)
    assert raised.value.signal_number == signal.SIGILL
    message = str(raised.value)
    assert "SIGILL" in message and "illegal instruction" in message
    assert "llama_cmake_args.sh" in message and "--no-cache-dir" in message  # how to fix it
    assert isinstance(raised.value, MindDied)


def test_a_model_that_dies_while_speaking_raises_and_a_closed_mind_stays_closed(
        dying_llama: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LLAMA_DIES_AT", "speak")
    mind = LlamaMind(model_path=str(dying_llama), seed=1, context_window=256)
    host = mind.host_pid
    assert host is not None and host != os.getpid()
    request = MindRequest((Message("system", "You are a mind."), Message("user", "Speak.")), max_tokens=8)
    with pytest.raises(MindHostDied, match="SIGILL"):
        mind.respond(request)
    assert mind.host_pid is None
    with pytest.raises(MindDied, match="not running"):
        mind.respond(request)
    mind.close()  # nothing left to close: no error


def run_experiment_cli(tmp_path: Path, cfg: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return subprocess.run([sys.executable, "-m", "sweeplab", "experiment", "--config", str(path),
                           "--db", str(tmp_path / "e.db"), "--quiet"], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)


def test_the_experiment_cli_records_the_death_and_ends_by_the_same_signal(
        dying_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LLAMA_DIES_AT", "speak")
    done = run_experiment_cli(tmp_path, config(dying_llama))
    assert done.returncode == -signal.SIGILL, done.stderr
    assert "Traceback" not in done.stderr
    assert "failed at cycle 1" in done.stderr and "killed by SIGILL (illegal instruction" in done.stderr
    assert "total_cycles" in json.loads(done.stdout.strip().splitlines()[-1])  # the metrics are still printed
    with sqlite3.connect(tmp_path / "e.db") as conn:
        assert conn.execute("SELECT status FROM experiments").fetchall() == [("failed",)]
    assert not list(tmp_path.glob("core*"))


def test_the_experiment_cli_names_a_model_that_cannot_start(dying_llama: Path, tmp_path: Path) -> None:
    done = run_experiment_cli(tmp_path, config(dying_llama))
    assert done.returncode == -signal.SIGILL, done.stderr
    assert "Traceback" not in done.stderr
    assert "the mind could not start" in done.stderr and "SIGILL" in done.stderr


def test_a_sweep_records_each_trial_as_crashed_with_the_reason(dying_llama: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(config(dying_llama)))
    done = subprocess.run(
        [sys.executable, "-m", "sweeplab", "run", "--base", str(base), "--sweep-id", "dying",
         "--param", "max_cycles", "2", "3", "--parallel", "2", "--max-retries", "0",
         "--output", str(tmp_path / "sweeps"), "--db", str(tmp_path / "experiments.db"), "--yes", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr  # some trials did not complete; the coordinator itself is fine
    assert "Traceback" not in done.stderr
    with sqlite3.connect(tmp_path / "experiments.db") as conn:
        rows = conn.execute("SELECT status, error_message FROM trials WHERE sweep_id = 'dying'").fetchall()
    assert len(rows) == 2
    for status, error in rows:
        assert status == "crashed"
        assert "killed by SIGILL" in error and "illegal instruction" in error
