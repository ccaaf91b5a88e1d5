"""A trial for the fault-injection tests, run by the command runner.

``python fault_trial.py {config} {db} {experiment_id} {trial_dir}``

What it does comes from its resolved config (a sweep parameter changes it per trial):

``state_dir``  where it leaves marks for the test: one ``runs/<experiment_id>.<pid>`` file per
               execution, holding its attempt folder (so a test counts how often a trial ran and
               how many runs wrote into one folder)
``db``         what it writes into its own database: ``ok`` (a row in ``results``), ``same_key``
               (a row with a fixed PRIMARY KEY, the same in every trial), ``wide`` (``results``
               with an extra column), ``weird`` (a table named ``we"ird``), ``not_sqlite`` (text),
               ``corrupt`` (an SQLite file with garbage over its pages), ``reserved`` (a table
               named ``trials``)
``escape``     start a grandchild that calls ``setsid()`` (leaving the trial's process group and
               session) and sleeps; its pid goes to ``state_dir/<experiment_id>.escaped``
``gate``       if set, wait until ``state_dir/<gate>`` exists before writing anything
``sleep``      seconds to sleep before finishing
``hang``       after the above, never finish on its own

Standard library only, so it starts fast.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time


def _write(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)  # the test waits for the final name: it appears complete


def _escape(marker: str) -> None:
    """Fork a grandchild that leaves our session and sleeps; wait until its pid is written."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:  # daemonised: its parent exits, so it is no longer our descendant
            _write(marker, str(os.getpid()))
            while True:
                time.sleep(3600)
        os._exit(0)
    os.wait()
    while not os.path.exists(marker):
        time.sleep(0.01)


def _write_db(kind: str, db_path: str, experiment_id: str, value: float) -> None:
    if kind == "not_sqlite":
        with open(db_path, "w") as handle:
            handle.write("these are not the rows you are looking for\n" * 200)
        return
    db = sqlite3.connect(db_path)
    if kind == "same_key":
        db.execute("CREATE TABLE IF NOT EXISTS summary (name TEXT PRIMARY KEY, value REAL)")
        db.execute("INSERT INTO summary VALUES ('best', ?)", (value,))
    elif kind == "wide":
        db.execute("CREATE TABLE IF NOT EXISTS results (experiment_id TEXT, value REAL, extra TEXT)")
        db.execute("INSERT INTO results VALUES (?, ?, 'wide')", (experiment_id, value))
    elif kind == "weird":
        db.execute('CREATE TABLE IF NOT EXISTS "we""ird" ("col""umn" TEXT, experiment_id TEXT)')
        db.execute('INSERT INTO "we""ird" VALUES (\'x\', ?)', (experiment_id,))
    elif kind == "reserved":
        db.execute("CREATE TABLE IF NOT EXISTS trials (experiment_id TEXT)")
        db.execute("INSERT INTO trials VALUES (?)", (experiment_id,))
    else:
        db.execute("CREATE TABLE IF NOT EXISTS results (experiment_id TEXT, value REAL)")
        db.execute("INSERT INTO results VALUES (?, ?)", (experiment_id, value))
    if kind == "corrupt":
        db.execute("CREATE TABLE filler (x TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("y" * 500,) for _ in range(200)])
    db.commit()
    db.close()
    if kind == "corrupt":
        with open(db_path, "r+b") as handle:  # keep the header, scribble over the pages after it
            handle.seek(4096)
            handle.write(os.urandom(64 * 1024))


def main(argv: list[str]) -> int:
    config_path, db_path, experiment_id, trial_dir = argv
    with open(config_path) as handle:
        config = json.load(handle)
    state_dir = config["state_dir"]
    runs = os.path.join(state_dir, "runs")
    os.makedirs(runs, exist_ok=True)
    _write(os.path.join(runs, f"{experiment_id}.{os.getpid()}"), trial_dir)
    if config.get("escape"):
        _escape(os.path.join(state_dir, f"{experiment_id}.escaped"))
    gate = config.get("gate")
    if gate:
        while not os.path.exists(os.path.join(state_dir, gate)):
            time.sleep(0.02)
    if config.get("hang"):
        while True:
            time.sleep(3600)
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))
    value = float(config.get("value", 0.0))
    _write_db(config.get("db", "ok"), db_path, experiment_id, value)
    print(json.dumps({"value": value}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
