"""Does an open, updating dashboard slow a running sweep? Dispatch of a 500-trial command sweep with the
dashboard closed against open, side by side in interleaved rounds.

Conditions, each run ``--rounds`` times in turn (closed, sse, browser, closed, sse, browser, ...):

``closed``   ``sweeplab run`` alone.
``sse``      a ``sweeplab dashboard`` server running, with 5 clients reading the sweep page's event stream
             (what five open pages cost the server, without a browser's own rendering).
``browser``  the same server with a headless chromium showing the sweep page (Plotly redraws on
             every update: the real thing, browser's CPU included).

Figures per trial: the coordinator's dispatch, from the first trial's start to the sweep's end read
from ``events.jsonl`` (wall clock: what a slower coordinator would show), and the coordinator's own CPU
time (the sweep runs in this process through ``run_resolved``: ``time.process_time``, trials excluded;
the event-stream clients run in a child process, so nothing else of the dashboard is counted there);
beside them the CPU the dashboard's server and the browser used while the sweep ran. Trials are
``python -c print(...)`` at parallelism 2 on a 25 x 20 grid: the coordinator's work per trial dominates.
Run from the repository root:

    python bench/bench_dashboard.py [--rounds 7] [--trials 500]     # about 4 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

PY = sys.executable


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import psutil
    return (f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def write_spec(root: Path, sweep_id: str, trials: int) -> Path:
    base = root / "base.json"
    base.write_text(json.dumps({"x": 0, "y": 0}))
    spec = root / f"{sweep_id}.yaml"
    spec.write_text(json.dumps({
        # a 2-parameter grid: a plot per parameter (25 and trials/25 levels) and a heatmap
        "sweep_id": sweep_id, "base_config": str(base),
        "sweep": {"x": list(range(25)), "y": list(range(max(1, trials // 25)))},
        "runner": "command", "command": [PY, "-c", "import sys; print('{\"score\": %s}' % sys.argv[1])", "{x}"],
        "output_dir": str(root / "sweeps"), "db_path": str(root / "experiments.db"), "parallel": 2,
        "objective": {"metric": "score", "direction": "maximize"},
    }))
    return spec


def dispatch_seconds(root: Path, sweep_id: str) -> float:
    events = [json.loads(line) for line in (root / "sweeps" / sweep_id / "events.jsonl").read_text().splitlines()]
    first = min(datetime.fromisoformat(e["time"]) for e in events if e["event"] == "started")
    last = max(datetime.fromisoformat(e["time"]) for e in events if e["event"] == "sweep_finished")
    return (last - first).total_seconds()


SSE_CLIENTS = r"""
import sys, threading, urllib.request
counts = [0] * int(sys.argv[2])
def read(i):
    with urllib.request.urlopen(sys.argv[1], timeout=600) as stream:
        for line in stream:
            if line.startswith(b"event: update"):
                counts[i] += 1
                print(i, counts[i], flush=True)
for i in range(len(counts)):
    threading.Thread(target=read, args=(i,), daemon=True).start()
sys.stdin.read()  # until the benchmark closes our stdin
"""


def cpu_seconds(processes: list) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except Exception:  # a process that ended
            continue
        total += times.user + times.system
    return total


def run_round(root: Path, condition: str, index: int, trials: int, address: str, page,
              watched: list) -> tuple[float, float, float, str]:
    """(dispatch s/trial, coordinator CPU s/trial, dashboard+browser CPU s, note) of one sweep."""
    import psutil

    from sweeplab.engine.launch import run_resolved
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import load_spec

    sweep_id = f"{condition}_{index}"
    spec = write_spec(root, sweep_id, trials)
    clients = None
    others = list(watched)
    if condition == "sse":
        clients = subprocess.Popen([PY, "-c", SSE_CLIENTS, f"{address}api/events/sweeps/{sweep_id}", "5"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        others.append(psutil.Process(clients.pid))
    if condition == "browser":
        page.goto(f"{address}sweep/{sweep_id}")
        page.wait_for_selector("#waiting:not([hidden])")  # the page is open before the sweep starts
    else:
        page.goto("about:blank")  # no page of the dashboard open: it is closed
    resolved = resolve(load_spec(spec))
    other_before = cpu_seconds(others)
    cpu_before = time.process_time()
    outcome = run_resolved(resolved)
    coordinator_cpu = time.process_time() - cpu_before
    if outcome.exit_code != 0:
        raise SystemExit(f"the sweep failed: {outcome}")
    note = ""
    if page is not None and condition == "browser":
        page.wait_for_function(f"document.getElementById('progress-count').textContent === '{trials} / {trials}'",
                               timeout=60_000)
        note = f"page showed {page.text_content('#progress-count')}"
    other_cpu = cpu_seconds(others) - other_before
    if clients is not None:
        clients.stdin.close()
        lines = clients.stdout.read().split()
        clients.wait(timeout=30)
        note = f"{len(lines) // 2} updates to 5 clients"
    return dispatch_seconds(root, sweep_id) / trials, coordinator_cpu / trials, other_cpu, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--trials", type=int, default=500)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    import psutil

    root = Path(tempfile.mkdtemp(prefix="bench_dashboard_"))
    server = subprocess.Popen([PY, "-m", "sweeplab", "dashboard", "--port", "0", "--db", str(root / "experiments.db"),
                               "--sweep-dir", str(root / "sweeps")], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    address = re.search(r"http://\S+", server.stdout.readline()).group(0)
    results: dict[str, list[float]] = {"closed": [], "sse": [], "browser": []}
    coordinator: dict[str, list[float]] = {name: [] for name in results}
    others: dict[str, list[float]] = {name: [] for name in results}
    notes: dict[str, str] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                         args=["--no-sandbox"])
            page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1600}).new_page()
            page.goto(address)
            # the dashboard's server and the browser (the Playwright driver and chromium's processes)
            watched = [psutil.Process(server.pid)] + [p for p in psutil.Process().children(recursive=True)
                                                      if p.pid != server.pid]
            run_round(root, "closed", -1, 50, address, page, watched)  # warm-up: imports, caches, disk
            for index in range(args.rounds):
                for condition in results:
                    per_trial, cpu, other, note = run_round(root, condition, index, args.trials, address, page,
                                                            watched)
                    results[condition].append(per_trial)
                    coordinator[condition].append(cpu)
                    others[condition].append(other)
                    notes[condition] = note or notes.get(condition, "")
                    print(f"  round {index + 1} {condition:8s} dispatch {per_trial * 1000:6.2f} ms/trial, coordinator "
                          f"CPU {cpu * 1000:5.2f} ms/trial, dashboard+browser CPU {other:5.2f} s  {note}", flush=True)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    report(args, results, coordinator, others, notes)
    shutil.rmtree(root, ignore_errors=True)  # ~10,000 trial folders: slow on a busy disk, after the figures


def report(args: argparse.Namespace, results: dict[str, list[float]], coordinator: dict[str, list[float]],
           others: dict[str, list[float]], notes: dict[str, str]) -> None:
    closed = statistics.median(results["closed"])
    print(f"\n{machine()}\n")
    print(f"[dashboard] {args.trials} trivial command trials (25 x {args.trials // 25} grid), parallelism 2, "
          f"{args.rounds} interleaved rounds; dispatch = first trial's start to the sweep's end (events.jsonl), "
          "per trial")
    print(f"  {'condition':46s} median    min    max (ms/trial)   vs closed: median of per-round ratios "
          "(min … max)")
    labels = {"closed": "dashboard closed", "sse": "dashboard open, 5 event-stream clients",
              "browser": "dashboard open in headless chromium (Plotly)"}
    for condition, values in results.items():
        ratios = [value / base for value, base in zip(values, results["closed"])]
        print(f"  {labels[condition]:46s} {statistics.median(values) * 1000:6.2f} {min(values) * 1000:6.2f} "
              f"{max(values) * 1000:6.2f}   {statistics.median(ratios) - 1:+.1%} ({min(ratios) - 1:+.1%} … "
              f"{max(ratios) - 1:+.1%})   {notes.get(condition, '')}")
    print(f"  ratio of the medians: sse {statistics.median(results['sse']) / closed - 1:+.1%}, "
          f"browser {statistics.median(results['browser']) / closed - 1:+.1%}")
    print("\n  coordinator CPU per trial (this process, trials excluded) and CPU of the dashboard's server "
          "and the browser during the sweep:")
    base_cpu = statistics.median(coordinator["closed"])
    for condition in results:
        median_cpu = statistics.median(coordinator[condition])
        print(f"  {labels[condition]:46s} coordinator {median_cpu * 1000:5.2f} ms/trial ({median_cpu / base_cpu - 1:+.1%})"
              f"   dashboard+browser {statistics.median(others[condition]):5.2f} s per sweep")


if __name__ == "__main__":
    main()
