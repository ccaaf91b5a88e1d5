"""Make ``docs/images/dashboard.png``: the sweep page of a real sweep caught while it runs.

A 5 × 3 grid with 3 replicates (45 command trials, 2 at a time) whose metric steps up between
rate 0.5 and 0.75; one configuration fails. Each trial waits for a gate file, so the picture is taken
at a chosen moment (41 trials done, two running) rather than whenever a sleep ends. Run from the
repository root with the dashboard and test extras installed and Debian's chromium:

    python docs/images/dashboard_screenshot.py [OUTPUT.png]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIAL = r'''
import json, os, random, sys, time
config = json.load(open(sys.argv[1]))
gate = os.path.join(config["gates"], sys.argv[2])
while not os.path.exists(gate):
    time.sleep(0.01)
if config["batch_size"] == 64 and config["rate"] == 0.25:
    sys.exit("CUDA out of memory: tried to allocate 2.50 GiB (batch_size 64 at rate 0.25)")
rng = random.Random(int(sys.argv[3]))
step = 0.62 if config["rate"] >= 0.75 else 0.31
print(json.dumps({"accuracy": step + 0.02 * config["batch_size"] / 64 + rng.gauss(0, 0.025),
                  "loss": 1.0 - step + rng.gauss(0, 0.05)}))
'''


def started_trials(root: Path) -> list[str]:
    """Experiment ids of the trials started so far, in order (from the sweep's events.jsonl)."""
    events = root / "logs" / "sweeps" / "rate_study" / "events.jsonl"
    if not events.exists():
        return []
    lines = events.read_text().split("\n")[:-1]  # the last piece may be a line being written
    return [json.loads(line)["experiment_id"] for line in lines if '"event": "started"' in line]


def main(output: Path) -> None:
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp(prefix="dashboard_screenshot_"))
    (root / "gates").mkdir()
    (root / "trial.py").write_text(TRIAL)
    (root / "base.json").write_text(json.dumps({"rate": 0.0, "batch_size": 16, "gates": str(root / "gates")}))
    (root / "sweep.yaml").write_text(json.dumps({
        "sweep_id": "rate_study", "base_config": "base.json", "description": "learning-rate warm-up: where does it tip?",
        "sweep": {"rate": [0.0, 0.25, 0.5, 0.75, 1.0], "batch_size": [16, 32, 64]}, "repeats": 3,
        "runner": "command", "command": [sys.executable, "trial.py", "{config}", "{experiment_id}", "{seed}"],
        "parallel": 2, "max_retries": 0, "objective": {"metric": "accuracy", "direction": "maximize"},
    }))
    run = subprocess.Popen([sys.executable, "-m", "sweeplab", "run", "sweep.yaml", "--dashboard", "--dashboard-port",
                            "0", "--yes", "-q"], cwd=root, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        address = re.search(r"Dashboard: (\S+)", run.stdout.readline()).group(1)
        finished = 0
        while finished < 41:  # open the gates of the trials in the order they start, until 41 are done
            started = started_trials(root)
            for experiment_id in started[finished:finished + 1]:
                (root / "gates" / experiment_id).touch()
                finished += 1
            time.sleep(0.02)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox"])
            page = browser.new_context(bypass_csp=True, viewport={"width": 1360, "height": 900},
                                       device_scale_factor=1).new_page()
            page.goto(address)
            page.wait_for_function("document.getElementById('progress-count').textContent.startsWith('41 /')",
                                   timeout=30_000)
            page.wait_for_function("document.querySelectorAll('#running tbody tr').length === 2")
            page.wait_for_timeout(1500)  # an elapsed time above zero on the running trials
            page.add_style_tag(content="#plots .plot { width: 640px; } main { max-width: 1340px; }")
            page.screenshot(path=str(output), full_page=True)
            browser.close()
        print(f"wrote {output}")
    finally:
        deadline = time.monotonic() + 60
        while run.poll() is None and time.monotonic() < deadline:  # let the rest finish
            for experiment_id in started_trials(root):
                (root / "gates" / experiment_id).touch()
            time.sleep(0.1)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("dashboard.png"))
