"""The dashboard's access rules against the real server (``sweeplab dashboard`` in a child process):
loopback by default, a token for any other address, 401 without it, read-only, no path from a URL
outside the sweep folders, and refusals of bad flags with exit code 2.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sweeplab.dashboard.catalog import read_tail, valid_sweep_id, valid_trial_key

pytest.importorskip("uvicorn", reason="the dashboard extra installs the web stack")

TRIAL = "import json, sys\nc = json.load(open(sys.argv[1]))\nprint(json.dumps({'score': c['x']}))\n"


def _dashboard(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sweeplab", "dashboard", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True)


def _address(process: subprocess.Popen[str]) -> tuple[str, int, str | None]:
    line = process.stdout.readline()
    match = re.search(r"http://([\d.]+):(\d+)/(?:\?token=(\S+))?", line)
    assert match, f"no address in {line!r}; stderr: {process.stderr.read() if process.poll() is not None else ''}"
    return match.group(1), int(match.group(2)), match.group(3)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.communicate(timeout=30)


def _get(port: int, path: str, headers: dict[str, str] | None = None,
         method: str = "GET") -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        answer = conn.getresponse()
        body = answer.read(200_000).decode("utf-8", errors="replace")
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
    finally:
        conn.close()


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished command sweep in logs/ of a fresh folder."""
    root = tmp_path_factory.mktemp("dashboard_security")
    (root / "trial.py").write_text(TRIAL)
    (root / "base.json").write_text(json.dumps({"x": 0}))
    run = subprocess.run([sys.executable, "-m", "sweeplab", "run", "--base", "base.json", "--param", "x", "1", "2",
                          "--runner", "command", "--command", f"{sys.executable} trial.py {{config}}",
                          "--sweep-id", "safe_demo", "-q"], cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    (root / "secret.txt").write_text("top secret outside the sweep folders")
    return root


@pytest.fixture(scope="module")
def loopback(finished_sweep: Path) -> Iterator[int]:
    process = _dashboard(finished_sweep, "--port", "0")
    host, port, token = _address(process)
    assert host == "127.0.0.1" and token is None
    yield port
    _stop(process)


# --------------------------------------------------------------------------- refusals (exit 2)


@pytest.mark.parametrize(("args", "says"), [
    (["--host", "0.0.0.0"], "needs a token"),
    (["--host", "0.0.0.0", "--token", "short"], "at least 16"),
    (["--port", "70000"], "is not a port"),
    (["--host", "no-such-host.invalid"], "not an address"),
])
def test_bad_flags_are_refused_with_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    process = _dashboard(tmp_path, *args, "--port" if "--port" not in args else "--interval",
                         "0" if "--port" not in args else "0.5")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2, (out, err)
    assert says in err and "Traceback" not in err
    assert out == ""  # no address: nothing listens


def test_a_port_in_use_is_refused_with_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _dashboard(tmp_path, "--port", str(port))
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and f"port {port}" in err and "--port 0" in err


def test_run_with_a_dashboard_on_a_port_in_use_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    (tmp_path / "base.json").write_text(json.dumps({"x": 0}))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "sweeplab", "run", "--base", "base.json", "--param", "x", "1",
                              "--runner", "command", "--command", f"{sys.executable} trial.py {{config}}",
                              "--sweep-id", "refused", "--dashboard", "--dashboard-port", str(port), "-q"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert f"port {port}" in run.stderr and "did not start" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "logs" / "sweeps" / "refused").exists()
    assert not (tmp_path / "logs" / "experiments.db").exists()


# --------------------------------------------------------------------------- the token


def test_a_non_loopback_bind_needs_the_token_on_every_request(finished_sweep: Path) -> None:
    process = _dashboard(finished_sweep, "--host", "0.0.0.0", "--port", "0", "--token", "auto")
    try:
        host, port, token = _address(process)
        assert host == "0.0.0.0" and token and len(token) >= 16
        for path in ("/", "/sweep/safe_demo", "/api/sweeps", "/api/sweeps/safe_demo", "/api/events/index",
                     "/static/dashboard.js", "/static/plotly.min.js"):
            status, _headers, body = _get(port, path)
            assert status == 401, path
            assert "safe_demo" not in body
        assert _get(port, "/api/sweeps?token=" + token[:-1] + "x")[0] == 401
        assert _get(port, "/api/sweeps", {"Cookie": "sweeplab_dashboard_token=wrong"})[0] == 401
        status, headers, body = _get(port, "/api/sweeps?token=" + token)
        assert status == 200 and "safe_demo" in body
        cookie = headers["set-cookie"].split(";")[0]
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
        assert _get(port, "/api/sweeps/safe_demo", {"Cookie": cookie})[0] == 200
        assert _get(port, "/api/sweeps/safe_demo", {"Authorization": f"Bearer {token}"})[0] == 200
        # with a token the Host header may name this machine's public address
        assert _get(port, "/api/sweeps", {"Authorization": f"Bearer {token}", "Host": "10.1.2.3:80"})[0] == 200
    finally:
        _stop(process)


def test_a_given_token_is_used(finished_sweep: Path) -> None:
    process = _dashboard(finished_sweep, "--port", "0", "--token", "a-long-enough-secret-value")
    try:
        _host, port, token = _address(process)
        assert token == "a-long-enough-secret-value"
        assert _get(port, "/api/sweeps")[0] == 401
        assert _get(port, "/api/sweeps?token=a-long-enough-secret-value")[0] == 200
    finally:
        _stop(process)


# --------------------------------------------------------------------------- loopback rules


def test_loopback_answers_loopback_hosts_only(loopback: int) -> None:
    assert _get(loopback, "/api/sweeps")[0] == 200
    assert _get(loopback, "/api/sweeps", {"Host": "localhost:1"})[0] == 200
    # a page elsewhere reaching 127.0.0.1 through a DNS name it controls (rebinding) is refused
    assert _get(loopback, "/api/sweeps", {"Host": "attacker.example"})[0] == 403


def test_the_dashboard_is_read_only(loopback: int) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _body = _get(loopback, "/api/sweeps/safe_demo", method=method)
        assert status == 405 and headers["allow"] == "GET, HEAD"


def test_pages_carry_a_content_security_policy(loopback: int) -> None:
    status, headers, body = _get(loopback, "/sweep/safe_demo")
    assert status == 200 and "<script src=\"/static/dashboard.js\"" in body
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = _get(loopback, "/static/plotly.min.js")
    assert status == 200 and "plotly" in body[:2000].lower()  # served from the plotly package, no CDN


@pytest.mark.parametrize("path", [
    "/static/..%2fapp.py", "/static/%2e%2e%2f%2e%2e%2fsecret.txt", "/static/../../secret.txt",
    "/sweep/..%2f..%2fsecret.txt", "/sweep/../../secret.txt", "/api/sweeps/..%2F..%2Fsecret.txt",
    "/api/sweeps/..", "/api/sweeps/.", "/api/sweeps/safe_demo%2F..%2F..%2Fsecret.txt",
    "/api/sweeps/safe_demo/trials/..%2F..%2F..%2Fsecret.txt", "/api/sweeps/safe_demo/trials/..",
    "/sweep/safe_demo/trial/..%2f..%2f..%2fsecret.txt", "/../../secret.txt", "/secret.txt",
    "/api/events/sweeps/..%2F..", "/static/%2fetc%2fpasswd", "/api/sweeps/safe_demo?metric=../../secret.txt",
])
def test_no_path_reaches_files_outside_the_sweep_folders(loopback: int, path: str) -> None:
    status, _headers, body = _get(loopback, path)
    assert "top secret" not in body and "root:" not in body
    assert status in (200, 404), (path, status)
    if status == 200:  # only the metric query is answered: with the sweep's own data
        assert path.startswith("/api/sweeps/safe_demo?") and json.loads(body)["sweep_id"] == "safe_demo"


def test_ids_and_keys_from_urls_are_checked() -> None:
    assert valid_sweep_id("safe_demo") and valid_sweep_id("sweep-1.2")
    for bad in ("..", ".", "a/b", "../x", "a..b", "", "a\\b", "a\0b", "x" * 201):
        assert not valid_sweep_id(bad), bad
    assert valid_trial_key("4b30eb2a078f")
    for bad in ("..", "4B30", "exp0001", "a/b", "", "f" * 65):
        assert not valid_trial_key(bad), bad


def test_output_tails_are_read_below_the_sweep_folder_only(tmp_path: Path) -> None:
    sweep = tmp_path / "sweeps" / "s"
    attempt = sweep / "trials" / "exp0001" / "attempt-1"
    attempt.mkdir(parents=True)
    (attempt / "stderr.txt").write_text("x" * 10_000 + "the end")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    (attempt / "stdout.txt").symlink_to(outside)
    tail = read_tail(attempt, "stderr.txt", sweep, limit=100)
    assert tail is not None and tail.endswith("the end") and len(tail) == 101  # '…' and the last 100 bytes
    assert read_tail(attempt, "stdout.txt", sweep) is None  # a link out of the folder
    assert read_tail(tmp_path, "outside.txt", sweep) is None  # an attempt folder outside it
    assert read_tail(attempt, "missing.txt", sweep) is None
