"""Wrong results 1-5 of issue 12 through a real ``runner: python`` sweep run by the engine.

The trial function (``validity_functions.depth_metrics``) knows the truth: max_depth is swept
over ``[2, null, 1]``; ``seed_only`` depends on the replicate's seed alone; ``loss`` is inf at
depth 2; ``ratio`` is nan at the null depth; ``optimizer_name`` is text; ``tied`` is 0 at
depth 1 and 0.4 elsewhere in every replicate.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sweeplab.analysis.compute.sweep_statistics import SweepStatistics

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def stats(tmp_path_factory: pytest.TempPathFactory) -> SweepStatistics:
    root = tmp_path_factory.mktemp("validity")
    shutil.copy(HERE / "validity_functions.py", root / "validity_functions.py")
    (root / "base.json").write_text(json.dumps({"max_depth": None}))
    spec = {"sweep_id": "depths", "base_config": "base.json", "runner": "python",
            "function": "validity_functions:depth_metrics", "repeats": 4, "seed": 11,
            "sweep": {"max_depth": [2, None, 1]}, "parallel": 2, "output_dir": "out", "db_path": "out/db.sqlite"}
    (root / "depths.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "sweeplab", "run", "depths.yaml", "--yes"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return SweepStatistics("depths", root / "out")


def test_null_level_is_a_level_of_its_own_in_order(stats: SweepStatistics) -> None:
    assert stats.levels("max_depth") == [1, 2, None]
    summary = stats.compute_parameter_statistics("max_depth", "score")
    assert list(summary) == [1, 2, None] and all(s["count"] == 4 for s in summary.values())
    assert summary[None]["mean"] == pytest.approx(3.0, abs=0.2)
    effect = stats.parameter_effect("max_depth", "score")
    assert not effect.ordered
    # the change point and shape use the numeric levels only, and say so
    assert effect.change_point is not None and effect.change_point.after == 2
    assert 0.0 <= effect.change_point.step_share <= 1.0
    assert "non-numeric levels left out" in effect.change_point.note
    best = stats.rank_configurations("score", minimize=False, top=1)[0]
    assert best.parameters == {"max_depth": None} and best.count == 4


def test_identical_groups_are_reported_as_degenerate(stats: SweepStatistics) -> None:
    effect = stats.parameter_effect("max_depth", "seed_only")
    assert effect.omnibus.status == "degenerate" and effect.omnibus.p_value is None
    assert effect.omnibus.anova_f is None and "same values" in effect.omnibus.note
    assert all(c.p_value is None and c.status == "degenerate" for c in effect.adjacent)


def test_tied_small_samples_get_the_exact_p(stats: SweepStatistics) -> None:
    first = stats.parameter_effect("max_depth", "tied").adjacent[0]
    assert (first.before, first.after) == (1, 2)
    # 4 against 4 values, all tied within a level: 2 of the 70 splits are as extreme
    assert first.p_value == pytest.approx(2 / 70) and first.method.startswith("exact permutation")


def test_one_interval_per_level_everywhere(stats: SweepStatistics) -> None:
    summaries = {s.level: s for s in stats.parameter_effect("max_depth", "score").summaries}
    for config in stats.rank_configurations("score", top=3):
        level = summaries[config.parameters["max_depth"]]
        assert (config.ci_low, config.ci_high) == (level.ci_low, level.ci_high)
        assert level.ci_low < level.mean < level.ci_high


def test_non_finite_and_non_numeric_values_are_counted(stats: SweepStatistics) -> None:
    loss = stats.value_report("loss")
    assert loss.overall.inf == 4 and loss.overall.finite == 8
    assert loss.by_level["max_depth"][2].inf == 4 and loss.levels_without_values["max_depth"] == [2]
    assert "4 inf" in loss.note and "max_depth = 2" in loss.note
    ratio = stats.value_report("ratio")
    assert ratio.by_level["max_depth"][None].nan == 4 and ratio.by_level["max_depth"][1].nan == 0
    assert stats.non_numeric_metrics == ["optimizer_name"]
    assert stats.value_report("optimizer_name").overall.non_numeric == 12
    assert stats.value_report("score").clean
    assert stats.no_metric_trials == 0
    # the comparison spans only levels with values, and the levels kept are visible
    loss_effect = stats.parameter_effect("max_depth", "loss")
    assert [s.level for s in loss_effect.summaries] == [1, None] and loss_effect.missing_levels == [2]
    assert [c.note for c in loss_effect.adjacent] == ["spans 2 (no finite value there)"]
    assert not any(math.isinf(v) for v in np.concatenate(list(map(np.asarray,
                   stats.compare_by_parameter("max_depth", "loss").values()))))
