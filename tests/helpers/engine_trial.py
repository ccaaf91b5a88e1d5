"""A stand-in trial for the engine tests, run by the command runner.

``python engine_trial.py {config} {db} {experiment_id} {trial_dir}``

What it does comes from its resolved config (so a sweep parameter can change it per trial):

``mode``        ok | flaky | fail | invalid | hang | hang_first (attempt 1 only) | family | memhog
``value``       the number it records (a row in ``results`` of ``{db}``, and metric ``value``)
``state_dir``   where it leaves marks for the test: ``<id>.<attempt>.pid`` when it starts,
                ``<id>.count`` (flaky), ``<id>.family.json`` (family)
``gate``        if set, wait until ``state_dir/<gate>`` exists before finishing
``fail_times``  flaky: fail this many attempts, then succeed
``metrics_file`` write ``metrics.json`` (value) as well as a stdout JSON line (value + 1000)

Every successful attempt writes one row ``(experiment_id, value)`` into its own database, which
the journal merges into the sweep's database. Standard library only, so it starts fast.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time


def _write(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)  # the test waits for the final name: it appears complete


def _hang(ignore_term: bool) -> None:
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(3600)


def main(argv: list[str]) -> int:
    if argv[0] == "--grandchild":
        _write(argv[1], str(os.getpid()))
        _hang(ignore_term=True)
    config_path, db_path, experiment_id, trial_dir = argv
    with open(config_path) as handle:
        config = json.load(handle)
    mode = config.get("mode", "ok")
    state_dir = config["state_dir"]
    attempt = int(os.path.basename(trial_dir).rsplit("-", 1)[-1])
    _write(os.path.join(state_dir, f"{experiment_id}.{attempt}.pid"), str(os.getpid()))

    if mode == "invalid":
        print("parameter 'value' must be positive", file=sys.stderr)
        return 2
    if mode == "fail":
        print("this trial always fails", file=sys.stderr)
        return 1
    if mode == "flaky":
        counter = os.path.join(state_dir, f"{experiment_id}.count")
        count = int(open(counter).read()) if os.path.exists(counter) else 0
        _write(counter, str(count + 1))
        if count < int(config.get("fail_times", 2)):
            print(f"flaky failure number {count + 1}", file=sys.stderr)
            return 1
    if mode == "hang":
        _hang(ignore_term=False)
    if mode == "hang_first" and attempt == 1:
        _hang(ignore_term=True)  # only SIGKILL ends it
    if mode == "family":
        ready = os.path.join(state_dir, f"{experiment_id}.grandchild")
        child = subprocess.Popen([sys.executable, __file__, "--grandchild", ready])
        while not os.path.exists(ready):
            time.sleep(0.01)
        _write(os.path.join(state_dir, f"{experiment_id}.family.json"),
               json.dumps([os.getpid(), child.pid]))
        _hang(ignore_term=True)
    if mode == "reserve":  # 1 GB of address space, mapped and never touched
        import mmap

        region = mmap.mmap(-1, 1024 * 1024 * 1024)
        assert len(region) == 1024 * 1024 * 1024
    if mode == "memhog":
        blocks = []
        for _ in range(50):
            block = bytearray(10 * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
            blocks.append(block)
    gate = config.get("gate")
    if gate:
        while not os.path.exists(os.path.join(state_dir, gate)):
            time.sleep(0.02)
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))

    value = float(config.get("value", 0.0))
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS results (experiment_id TEXT, value REAL)")
    db.execute("INSERT INTO results VALUES (?, ?)", (experiment_id, value))
    db.commit()
    db.close()
    metrics = {"value": value, "attempt": attempt, "omp_threads": int(os.environ.get("OMP_NUM_THREADS", "0"))}
    if config.get("metrics_file"):
        _write(os.path.join(trial_dir, "metrics.json"), json.dumps(metrics))
        metrics = dict(metrics, value=value + 1000)
    print("working ...")
    print(json.dumps(metrics))
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
