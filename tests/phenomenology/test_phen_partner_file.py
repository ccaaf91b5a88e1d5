"""A partner named by a relative path runs inside a sweep: the base config carries the partner's body."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from lab_files import lab_file


def test_a_relative_partner_config_reaches_every_trial(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    player_a, player_b = lab_file("prisoners_dilemma_asymmetric.json"), lab_file(
        "prisoners_dilemma_asymmetric_player_b.json")
    player_a.update(partner_config="player_b.json", max_cycles=4)
    (configs / "player_a.json").write_text(json.dumps(player_a))
    (configs / "player_b.json").write_text(json.dumps(player_b))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "sweeplab", "run", "--base", str(configs / "player_a.json"), "--sweep-id", "pair",
         "--param", "interventions.0.parameters.manipulation_rate", "0.0", "1.0", "--max-retries", "0",
         "--output", "sweeps", "--db", "e.db", "--parallel", "2", "--yes", "--quiet"],
        cwd=elsewhere, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((elsewhere / "sweeps" / "pair" / "sweep_results.json").read_text())["results"]
    assert [r["status"] for r in results] == ["completed", "completed"]
    with sqlite3.connect(elsewhere / "e.db") as conn:
        minds = conn.execute("SELECT COUNT(*) FROM participants GROUP BY experiment_id").fetchall()
    assert minds == [(2,), (2,)]


def test_a_missing_partner_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    player_a = lab_file("prisoners_dilemma_asymmetric.json")
    player_a["partner_config"] = "nobody.json"
    (tmp_path / "a.json").write_text(json.dumps(player_a))
    done = subprocess.run(
        [sys.executable, "-m", "sweeplab", "run", "--base", "a.json", "--param", "max_cycles", "2", "3",
         "--output", "sweeps", "--db", "e.db", "--yes", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "partner_config 'nobody.json'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "sweeps").exists() and not (tmp_path / "e.db").exists()
