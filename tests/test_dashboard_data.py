"""What the dashboard computes and how it watches: the plots' numbers (per-level means, 95 % t
intervals, the tipping point, heatmap, best configurations), the snapshot of a real finished sweep,
and the change check that rebuilds a view once per change however many pages show it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sweeplab.dashboard.catalog import Catalog
from sweeplab.dashboard.figures import figure_data
from sweeplab.dashboard.snapshot import index_snapshot, sweep_snapshot, trial_snapshot
from sweeplab.dashboard.watch import Hub
from sweeplab.journal.live import LiveReader, change_token, database_files
from sweeplab.journal.reader import TrialRecord
from sweeplab.journal.writer import Journal


def record(index: int, params: dict, metrics: dict, status: str = "completed") -> TrialRecord:
    return TrialRecord(experiment_id=f"s_exp{index:04d}", key=f"{index:012x}", idx=index, repeat=0, label=None,
                       status=status, attempts=1, metrics_json=json.dumps(metrics), params_json=json.dumps(params),
                       start_time=None, end_time=None, duration=None, error_message=None)


def test_level_means_carry_95_percent_t_intervals() -> None:
    rng = np.random.default_rng(3)
    values = {1: rng.normal(5, 1, 4), 2: rng.normal(7, 2, 6), 3: np.array([4.0])}
    records = [record(i, {"a": level}, {"m": float(v)})
               for i, (level, v) in enumerate((lv, v) for lv, vs in values.items() for v in vs)]
    records.append(record(99, {"a": 1}, {"m": 1000.0}, status="failed"))  # not completed: left out
    data = figure_data(records, "m", maximize=True, spec_levels={}, sweep_id="s")
    (plot,) = data["plots"]
    assert [lv["level"] for lv in plot["levels"]] == [1, 2, 3] and data["n"] == 11
    for level_data in plot["levels"][:2]:
        sample = values[level_data["level"]]
        low, high = stats.t.interval(0.95, len(sample) - 1, loc=sample.mean(), scale=stats.sem(sample))
        assert level_data["mean"] == pytest.approx(sample.mean())
        assert (level_data["ci_low"], level_data["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert plot["levels"][2]["ci_low"] is None and plot["levels"][2]["n"] == 1  # one trial: no interval
    assert sorted(plot["y"]) == sorted(float(v) for vs in values.values() for v in vs)


def test_a_clear_step_shows_its_tipping_point_and_a_flat_line_none() -> None:
    rng = np.random.default_rng(0)
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    step = [record(i * 10 + r, {"rate": lv}, {"m": (0.0 if lv < 0.6 else 10.0) + rng.normal(0, 0.1)})
            for i, lv in enumerate(levels) for r in range(4)]
    plot = figure_data(step, "m", maximize=True, spec_levels={}, sweep_id="s")["plots"][0]
    assert plot["tipping_point"]["before"] == 0.5 and plot["tipping_point"]["after"] == 0.75
    flat = [record(i * 10 + r, {"rate": lv}, {"m": rng.normal(0, 1)}) for i, lv in enumerate(levels) for r in range(4)]
    assert figure_data(flat, "m", maximize=True, spec_levels={}, sweep_id="s")["plots"][0]["tipping_point"] is None


def test_heatmap_best_table_metric_choice_and_spec_order() -> None:
    records = [record(i, {"a": a, "b": b}, {"m": a * 10 + (b == "hi"), "other": -a})
               for i, (a, b) in enumerate([(1, "lo"), (1, "hi"), (2, "lo"), (2, "hi"), (2, "hi")])]
    data = figure_data(records, None, maximize=False, spec_levels={"a": [1, 2], "b": ["lo", "hi"]}, sweep_id="s")
    assert data["metric"] == "m" and data["metrics"] == ["m", "other"]  # None: the first metric reported
    assert data["parameters"] == ["a", "b"]
    assert data["heatmap"]["y"] == [1, 2] and data["heatmap"]["x"] == ["lo", "hi"]  # the spec's order
    assert data["heatmap"]["z"] == [[10.0, 11.0], [20.0, 21.0]]
    # the plan's order of parameters; categories in the spec's order, numbers sorted
    swapped = figure_data(records, "m", maximize=False, spec_levels={"b": ["hi", "lo"], "a": [2, 1]}, sweep_id="s")
    assert swapped["parameters"] == ["b", "a"] and [p["parameter"] for p in swapped["plots"]] == ["b", "a"]
    assert swapped["heatmap"]["y"] == ["hi", "lo"] and swapped["heatmap"]["x"] == [1, 2]
    assert swapped["heatmap"]["z"] == [[11.0, 21.0], [10.0, 20.0]]
    assert [row["mean"] for row in data["best"]] == [10.0, 11.0, 20.0, 21.0]  # minimize: smallest first
    assert data["best"][3]["n"] == 2
    other = figure_data(records, "other", maximize=True, spec_levels={}, sweep_id="s")
    assert other["metric"] == "other" and other["best"][0]["mean"] == -1.0
    assert figure_data(records, "nope", maximize=True, spec_levels={}, sweep_id="s")["n"] == 0


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real finished command sweep (one trial fails) and a table an experiment wrote, in logs/."""
    root = tmp_path_factory.mktemp("dashboard_data")
    (root / "trial.py").write_text(
        "import json, sqlite3, sys\nc = json.load(open(sys.argv[1]))\n"
        "if c['x'] == 3:\n    sys.exit('no good <x>')\n"
        "db = sqlite3.connect(sys.argv[2]); db.execute('CREATE TABLE IF NOT EXISTS self_reports "
        "(experiment_id TEXT, question TEXT, response TEXT)')\n"
        "db.execute('INSERT INTO self_reports VALUES (?, ?, ?)', (sys.argv[3], 'are you ok?', 'yes')); db.commit()\n"
        "print(json.dumps({'score': c['x'] * 2}))\n")
    (root / "base.json").write_text(json.dumps({"x": 0}))
    run = subprocess.run([sys.executable, "-m", "sweeplab", "run", "--base", "base.json", "--param", "x", "1", "2", "3",
                          "--runner", "command", "--command",
                          f"{sys.executable} trial.py {{config}} {{db}} {{experiment_id}}", "--sweep-id", "data_demo",
                          "--metric", "score", "--minimize", "--max-retries", "0", "-q"],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr  # x=3 failed
    return root


def test_snapshots_of_a_finished_sweep(finished: Path) -> None:
    catalog = Catalog(finished / "logs" / "sweeps", finished / "logs" / "experiments.db")
    index = index_snapshot(catalog)
    (row,) = index["sweeps"]
    assert (row["sweep_id"], row["total"], row["finished"], row["completed"]) == ("data_demo", 3, 3, 2)
    assert row["objective"] == {"metric": "score", "direction": "minimize"} and row["best"] == 2.0
    sweep = sweep_snapshot(catalog, "data_demo")
    assert sweep["found"] and sweep["counts"] == {"completed": 2, "failed": 1} and sweep["eta_seconds"] is None
    assert sweep["plan"]["parameters"] == [{"path": "x", "levels": [1, 2, 3]}]
    (failure,) = sweep["failures"]
    assert failure["error_tail"] == "no good <x>" and failure["trial_attempts"] == 1
    assert sweep["figures"]["metric"] == "score" and sweep["figures"]["plots"][0]["y"] == [2.0, 4.0]
    assert sweep_snapshot(catalog, "no_such_sweep")["found"] is False
    trial = trial_snapshot(catalog, "data_demo", sweep["figures"]["plots"][0]["keys"][0])
    assert trial["trial"]["params"] == {"x": 1} and trial["trial"]["metrics"] == {"score": 2}
    assert json.loads(trial["config"]) == {"x": 1}
    assert trial["experiment_tables"]["self_reports"]["rows"] == [[trial["trial"]["experiment_id"], "are you ok?",
                                                                    "yes"]]
    assert trial_snapshot(catalog, "data_demo", "0" * 12) is None


def test_one_rebuild_per_change_however_many_pages(finished: Path) -> None:
    db = finished / "logs" / "experiments.db"
    catalog = Catalog(finished / "logs" / "sweeps", db)
    token = change_token(*database_files(db))

    async def scenario() -> tuple[int, int, list[int]]:
        hub = Hub(catalog, interval=0.05)
        hub.start()
        key = ("sweep", "data_demo", "")
        streams = [hub.subscribe(key) for _ in range(5)]
        firsts = [json.loads(await asyncio.wait_for(stream.__anext__(), 30)) for stream in streams]  # five pages
        assert all(first["finished"] == 3 for first in firsts)
        topic = hub.topics[key]
        rebuilds_open = topic.rebuilds
        checks = hub.checks
        while hub.checks < checks + 5:  # five change checks with nothing changed: no rebuild
            await asyncio.sleep(0.01)
        rebuilds_idle = topic.rebuilds
        # a commit to the database that leaves this sweep alone (another table) changes the files, not the view
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE IF NOT EXISTS unrelated (x)")
        conn.execute("INSERT INTO unrelated VALUES (1)")
        conn.commit()
        conn.close()
        checks = hub.checks
        while hub.checks < checks + 5 or time.monotonic() < topic.not_before:
            await asyncio.sleep(0.01)
        rebuilds_unrelated = topic.rebuilds
        # the journal's writer changes the sweep: one rebuild, pushed to all five
        with Journal(db) as journal:
            journal.set_sweep_status("data_demo", "interrupted")
        deadline = time.monotonic() + 30
        while topic.rebuilds < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # every page gets the new view (bounded: a missing push fails here instead of hanging)
        updates = [json.loads(await asyncio.wait_for(stream.__anext__(), 30)) for stream in streams]
        assert all(update == updates[0] for update in updates)
        checks = hub.checks
        while hub.checks < checks + 5:  # and nothing more happens
            await asyncio.sleep(0.01)
        for stream in streams:
            await stream.aclose()
        await hub.stop()
        return rebuilds_open, rebuilds_idle, rebuilds_unrelated, [topic.rebuilds, topic.subscribers], updates

    with LiveReader.open(db) as reader:
        status = reader.sweep("data_demo")["status"]
    try:
        rebuilds_open, rebuilds_idle, rebuilds_unrelated, (rebuilds_after, subscribers), updates = \
            asyncio.run(scenario())
    finally:  # the module's sweep as it was, for the other tests
        with Journal(db) as journal:
            journal.set_sweep_status("data_demo", status)
    assert rebuilds_open == 1 and rebuilds_idle == 1 and rebuilds_unrelated == 1
    assert rebuilds_after == 2 and subscribers == 0
    assert updates[0]["status"] == "interrupted"
    assert change_token(*database_files(db)) != token


def test_the_reader_opens_the_journal_read_only(finished: Path) -> None:
    with LiveReader.open(finished / "logs" / "experiments.db") as reader:
        with pytest.raises(sqlite3.OperationalError):
            reader.conn.execute("DELETE FROM trials")
        assert reader.best("data_demo", "score", maximize=True) == ("score", 4.0)
        assert reader.best("data_demo", None, maximize=False) == ("score", 2.0)


def test_a_lab_trial_page_shows_its_self_reports_and_belief_assessments(tmp_path: Path) -> None:
    """The built-in experiment (simulated mind) writes self-reports and belief assessments under the
    trial's experiment id; the trial page finds them without knowing the runner."""
    base = Path(__file__).resolve().parents[1] / "experiments" / "examples" / "unstable_memory_moderate.json"
    run = subprocess.run([sys.executable, "-m", "sweeplab", "run", "--base", str(base), "--param",
                          "interventions.0.parameters.corruption_rate", "0.0", "1.0", "--sweep-id", "lab_demo", "-q"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    catalog = Catalog(tmp_path / "logs" / "sweeps", tmp_path / "logs" / "experiments.db")
    sweep = sweep_snapshot(catalog, "lab_demo")
    assert sweep["plan"]["parameters"] == [{"path": "interventions.0.parameters.corruption_rate",
                                            "levels": [0.0, 1.0]}]
    key = sweep["figures"]["plots"][0]["keys"][0]
    trial = trial_snapshot(catalog, "lab_demo", key)
    tables = trial["experiment_tables"]
    assert {"self_reports", "epistemic_assessments"} <= set(tables)
    for name in ("self_reports", "epistemic_assessments"):
        column = tables[name]["columns"].index("experiment_id")
        assert tables[name]["rows"] and {row[column] for row in tables[name]["rows"]} == {trial["trial"]["experiment_id"]}
    assert "belief_type" in tables["epistemic_assessments"]["columns"]


def test_a_sampled_design_shows_its_distribution_and_its_draws(tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text("import json, sys\nc = json.load(open(sys.argv[1]))\n"
                                       "print(json.dumps({'score': c['x'] * 2}))\n")
    (tmp_path / "base.json").write_text(json.dumps({"x": 0.0}))
    (tmp_path / "random.yaml").write_text(json.dumps({
        "sweep_id": "drawn", "base_config": "base.json", "strategy": "random", "n_trials": 5, "seed": 3,
        "sweep": {"x": {"uniform": [0.0, 1.0]}}, "runner": "command",
        "command": [sys.executable, "trial.py", "{config}"]}))
    run = subprocess.run([sys.executable, "-m", "sweeplab", "run", "random.yaml", "-q", "--yes"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    sweep = sweep_snapshot(Catalog(tmp_path / "logs" / "sweeps", tmp_path / "logs" / "experiments.db"), "drawn")
    assert sweep["plan"]["parameters"] == [{"path": "x", "levels": {"uniform": [0.0, 1.0]}}]
    (plot,) = sweep["figures"]["plots"]
    assert len(plot["x"]) == 5 and all(0.0 <= x <= 1.0 for x in plot["x"])
    assert sorted(plot["y"]) == sorted(2 * x for x in plot["x"]) and plot["tipping_point"] is None


def test_a_sweep_whose_coordinator_died_is_shown_stopped(tmp_path: Path) -> None:
    """The journal still says 'running' after a kill -9; the page learns from the lock file, and is told."""
    (tmp_path / "trial.py").write_text("import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n"
                                       "    time.sleep(0.01)\nprint('{\"score\": 1}')\n")
    (tmp_path / "base.json").write_text(json.dumps({"x": 0}))
    gate = tmp_path / "gate"
    coordinator = subprocess.Popen([sys.executable, "-m", "sweeplab", "run", "--base", "base.json", "--param", "x",
                                    "1", "2", "3", "--runner", "command", "--command",
                                    f"{sys.executable} trial.py {gate}", "--sweep-id", "killed", "-q"],
                                   cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    catalog = Catalog(tmp_path / "logs" / "sweeps", tmp_path / "logs" / "experiments.db")

    async def scenario() -> list[str]:
        hub = Hub(catalog, interval=0.05)
        hub.start()
        stream = hub.subscribe(("sweep", "killed", ""))
        seen = [json.loads(await asyncio.wait_for(stream.__anext__(), 30))]
        while seen[-1].get("status") != "running" or not seen[-1]["running"]:
            seen.append(json.loads(await asyncio.wait_for(stream.__anext__(), 30)))
        coordinator.kill()  # SIGKILL: no chance to write 'interrupted'
        coordinator.wait()
        while seen[-1]["status"] == "running":
            seen.append(json.loads(await asyncio.wait_for(stream.__anext__(), 30)))
        await stream.aclose()
        await hub.stop()
        return [update.get("status") for update in seen]

    try:
        statuses = asyncio.run(scenario())
    finally:
        coordinator.kill()
        gate.touch()  # the orphaned trial ends
    assert statuses[-1] == "stopped" and "running" in statuses
    with LiveReader.open(tmp_path / "logs" / "experiments.db") as reader:
        assert reader.sweep("killed")["status"] == "running"  # the journal itself was not changed
    assert index_snapshot(catalog)["sweeps"][0]["status"] == "stopped"
