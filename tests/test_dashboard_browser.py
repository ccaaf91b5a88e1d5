"""The dashboard in a real headless browser (Debian's chromium driven by Playwright) against the real
server (``sweeplab run --dashboard``: uvicorn on 127.0.0.1, a free port) while a real sweep runs.

The sweep's trials are command-runner processes that each wait for a gate file this test creates,
so the test decides when each trial finishes; the browser side waits with Playwright's waits on
what the page shows, never with sleeps.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from sweeplab.journal.live import database_files

playwright_api = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is missing: .ci/run installs it")

#: what every wait in the browser may take (2 shared cores)
WAIT_MS = 30_000

GATED_TRIAL = r'''
import json, os, sys, time
config = json.load(open(sys.argv[1]))
gate = os.path.join(config["gates"], "go_%s_%s" % (config["x"], config["y"]))
while not os.path.exists(gate):  # the test opens the gate: it decides when this trial ends
    time.sleep(0.01)
if config["x"] == 1 and config["y"] == 1:
    print("Traceback: <script>window.__injected = 1</script> & <b>bold</b>", file=sys.stderr)
    sys.exit(1)
print("working on it")
print(json.dumps({"score": config["x"] * 10 + config["y"], "other": -config["x"]}))
'''


def _launch_browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])


def _new_page(browser, **options):
    """A page whose test-side waits may evaluate script; the page's own content security policy
    would refuse them. The escaping checks do not rest on that policy: they hold without it."""
    return browser.new_context(bypass_csp=True, **options).new_page()


def _read_address(process: subprocess.Popen[str], deadline: float = 60.0) -> str:
    """The 'Dashboard: URL' line ``sweeplab run --dashboard`` prints before running."""
    end = time.monotonic() + deadline
    assert process.stdout is not None
    while time.monotonic() < end:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"Dashboard: (http://\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no dashboard address printed; stderr: {process.stderr.read() if process.stderr else ''}")


@pytest.fixture
def gated_sweep(tmp_path: Path):
    """A 6-trial command sweep (x 1..3 × y 0..1, 2 at a time) whose trials wait for gate files."""
    (tmp_path / "gates").mkdir()
    script = tmp_path / "gated_trial.py"
    script.write_text(GATED_TRIAL)
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"x": 0, "y": 0, "gates": str(tmp_path / "gates")}))
    spec = tmp_path / "live.yaml"
    spec.write_text(yaml.safe_dump({
        "sweep_id": "live_demo", "base_config": str(base), "sweep": {"x": [1, 2, 3], "y": [0, 1]},
        "runner": "command", "command": [sys.executable, str(script), "{config}"],
        "output_dir": "sweeps", "db_path": "db/experiments.db", "parallel": 2, "max_retries": 0,
        "objective": {"metric": "score", "direction": "maximize"}, "description": "a sweep the test opens gate by gate",
    }))
    process = subprocess.Popen([sys.executable, "-m", "sweeplab", "run", str(spec), "--dashboard", "--dashboard-port",
                                "0", "--yes", "-q"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        yield tmp_path, process
    finally:
        for x in (1, 2, 3):  # let every trial end, then the sweep and its dashboard
            for y in (0, 1):
                (tmp_path / "gates" / f"go_{x}_{y}").touch()
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _open(tmp_path: Path, x: int, y: int) -> None:
    (tmp_path / "gates" / f"go_{x}_{y}").touch()


def _points(page, index: int = 0) -> int:
    return int(page.eval_on_selector(f"#plot-{index}", "div => div.dataset.points || '0'"))


def test_live_sweep_page_updates_without_reload(gated_sweep, tmp_path: Path) -> None:
    root, process = gated_sweep
    address = _read_address(process)
    assert address.startswith("http://127.0.0.1:") and address.endswith("/sweep/live_demo")
    dialogs: list[str] = []
    expect = playwright_api.expect
    with playwright_api.sync_playwright() as pw:
        browser = _launch_browser(pw)
        page = _new_page(browser, viewport={"width": 1280, "height": 1800})
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(address)
        expect(page.locator("#running-count")).to_have_text("(2)", timeout=WAIT_MS)
        expect(page.locator("#progress-count")).to_have_text("0 / 6", timeout=WAIT_MS)
        expect(page.locator("#plan tbody")).to_contain_text("1, 2, 3")
        expect(page.locator("#running tbody")).to_contain_text("live_demo_exp0001_x=1_y=0")

        # the failing trial (x=1, y=1) ends first: its error tail on the sweep page, then on its own
        _open(root, 1, 1)
        expect(page.locator("#progress-count")).to_have_text("1 / 6", timeout=WAIT_MS)
        expect(page.locator("#failures tbody")).to_contain_text("<script>window.__injected = 1</script>",
                                                                 timeout=WAIT_MS)
        page.locator("#failures tbody a").first.click()
        expect(page.locator("#trial-status")).to_have_text("failed", timeout=WAIT_MS)
        expect(page.locator("#attempts pre.error-tail")).to_contain_text(
            "<script>window.__injected = 1</script> & <b>bold</b>", timeout=WAIT_MS)
        expect(page.locator("#attempts pre.stderr")).to_contain_text("Traceback: <script>")
        assert page.locator("#attempts b").count() == 0  # the trial's <b> is text, not an element
        assert page.evaluate("typeof window.__injected") == "undefined"
        expect(page.locator("#config")).to_contain_text('"y": 1')

        # the index lists the running sweep
        page.goto(address.rsplit("/sweep/", 1)[0] + "/")
        expect(page.locator("#sweeps tbody")).to_contain_text("live_demo", timeout=WAIT_MS)
        expect(page.locator("#sweeps tbody")).to_contain_text("1 / 6")

        page.goto(address)
        expect(page.locator("#progress-count")).to_have_text("1 / 6", timeout=WAIT_MS)
        # a mark on the window: it survives only if the page is never reloaded from here on
        page.evaluate("window.__sameDocument = 'yes'")
        _open(root, 1, 0)
        expect(page.locator("#progress-count")).to_have_text("2 / 6", timeout=WAIT_MS)
        page.wait_for_function("document.querySelector('#plot-0') && document.querySelector('#plot-0').dataset.points === '1'",
                               timeout=WAIT_MS)
        # the plotted trial points are the ones that finished, drawn by Plotly in the page
        assert page.evaluate("document.getElementById('plot-0').data[0].y") == [10]

        _open(root, 2, 0)
        _open(root, 2, 1)
        page.wait_for_function("document.getElementById('plot-0').dataset.points === '3'", timeout=WAIT_MS)
        assert sorted(page.evaluate("document.getElementById('plot-0').data[0].y")) == [10, 20, 21]
        _open(root, 3, 0)
        page.wait_for_function("document.getElementById('plot-0').dataset.points === '4'", timeout=WAIT_MS)
        expect(page.locator("#running tbody")).to_contain_text("live_demo_exp0006_x=3_y=1", timeout=WAIT_MS)
        expect(page.locator("#best tbody tr").first).to_contain_text("30", timeout=WAIT_MS)
        assert page.locator("#heatmap .main-svg").count() > 0
        page.screenshot(path=str(tmp_path / "sweep_page.png"), full_page=True)
        assert (tmp_path / "sweep_page.png").stat().st_size > 10_000

        # the last trial: the page reaches the total before the sweep's dashboard stops
        _open(root, 3, 1)
        expect(page.locator("#progress-count")).to_have_text("6 / 6", timeout=WAIT_MS)
        page.wait_for_function("document.getElementById('plot-0').dataset.points === '5'", timeout=WAIT_MS)
        expect(page.locator("#best tbody tr").first).to_contain_text("31", timeout=WAIT_MS)
        assert page.evaluate("window.__sameDocument") == "yes"
        browser.close()
    assert dialogs == []
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr  # one trial failed
    with pytest.raises(urllib.error.URLError):  # the dashboard ended with the sweep
        urllib.request.urlopen(address, timeout=5)


def test_trial_page_shows_config_metrics_and_output(tmp_path: Path) -> None:
    """A finished sweep served by 'sweeplab dashboard': the trial page and the database left as it was."""
    script = tmp_path / "trial.py"
    script.write_text("import json, sys\nc = json.load(open(sys.argv[1]))\nprint('hello from', c['x'])\n"
                      "print(json.dumps({'score': c['x'] * 2}))\n")
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"x": 0}))
    run = subprocess.run([sys.executable, "-m", "sweeplab", "run", "--base", str(base), "--param", "x", "1", "2",
                          "--runner", "command", "--command", f"{sys.executable} {script} {{config}}",
                          "--sweep-id", "done_demo", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    db = tmp_path / "logs" / "experiments.db"
    assert not any(p.exists() for p in database_files(db)[1:])  # no writer: no write-ahead log
    before = sorted(p.name for p in db.parent.iterdir())
    server = subprocess.Popen([sys.executable, "-m", "sweeplab", "dashboard", "--port", "0"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = server.stdout.readline()
        address = re.search(r"http://\S+", line).group(0)
        with playwright_api.sync_playwright() as pw:
            browser = _launch_browser(pw)
            page = _new_page(browser)
            page.goto(address + "sweep/done_demo")
            expect = playwright_api.expect
            expect(page.locator("#progress-count")).to_have_text("2 / 2", timeout=WAIT_MS)
            page.wait_for_function("document.getElementById('plot-0').dataset.points === '2'", timeout=WAIT_MS)
            data = json.loads(urllib.request.urlopen(address + "api/sweeps/done_demo", timeout=10).read())
            assert data["figures"]["n"] == 2 and data["status"] == "completed"
            # a click on a plotted trial opens its page
            page.evaluate("""() => { const div = document.getElementById('plot-0');
                                     div.emit('plotly_click', {points: [div.data[0] && {customdata: div.data[0].customdata[0]}]}); }""")
            expect(page.locator("#trial-status")).to_have_text("completed", timeout=WAIT_MS)
            assert "/sweep/done_demo/trial/" in page.url
            expect(page.locator("#metrics")).to_contain_text("score")
            expect(page.locator("#config")).to_contain_text('"x"')
            expect(page.locator("#attempts pre.stdout")).to_contain_text("hello from")
            browser.close()
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert server.returncode in (0, -signal.SIGTERM)  # uvicorn ends by the signal it was sent, after its shutdown
    assert sorted(p.name for p in db.parent.iterdir()) == before  # read-only: nothing created beside it
