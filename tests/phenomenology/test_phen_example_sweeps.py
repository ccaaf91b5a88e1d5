"""Every shipped example sweep plans from the repository root, and each Season 3 mode has one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SWEEPS = sorted((REPO / "sweeps").glob("*.yaml"))
#: the modes beyond the first three, each with an example sweep of its natural parameter
NEW_MODES = {"determinism_revelation", "illusory_operator", "prisoners_dilemma", "split_brain", "hive_cluster",
             "panopticon_observer"}


@pytest.mark.parametrize("sweep", SWEEPS, ids=[path.stem for path in SWEEPS])
def test_the_example_sweep_plans(sweep: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sweeplab", "run", str(sweep.relative_to(REPO)), "--dry-run"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "trials" in done.stdout


def test_every_new_mode_has_an_example_sweep() -> None:
    import json

    modes = set()
    for sweep in SWEEPS:
        base = json.loads((REPO / yaml.safe_load(sweep.read_text())["base_config"]).read_text())
        modes.add(base.get("mode") or ("panopticon_observer" if base.get("experiment_type") == "panopticon_full"
                                       else None))
    assert NEW_MODES <= modes, NEW_MODES - modes
