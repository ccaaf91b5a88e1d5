"""Ground truth for the statistics: planted steps are found, null sweeps stay near 5 % false positives."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from analysis_sweepfactory import step_metrics, write_sweep
from scipy import stats as scipy_stats

from sweeplab.analysis import SweepAnalyzer
from sweeplab.analysis.compute.stats import (
    adjacent_comparisons,
    bootstrap_mean_draws,
    holm,
    omnibus_test,
)
from sweeplab.analysis.compute.thresholds import (
    estimate_change_point,
    relative_change,
    relative_change_thresholds,
)

LEVELS = [round(0.1 * i, 1) for i in range(11)]
N_NULL = 200


def _binomial_upper(n: int, p: float, tail: float = 0.001) -> int:
    """The count of rejections that n trials at rate p exceed with probability < tail."""
    return int(scipy_stats.binom.ppf(1 - tail, n, p))


def _binomial_lower(n: int, p: float, tail: float = 0.001) -> int:
    return int(scipy_stats.binom.ppf(tail, n, p))


def _step_groups(rng: np.random.Generator, step_index: int, reps: int, jump: float) -> list[np.ndarray]:
    return [rng.normal(jump if i >= step_index else 0.0, 1.0, reps) for i in range(len(LEVELS))]


def test_planted_step_is_found_at_the_right_place_and_covered() -> None:
    rng = np.random.default_rng(2024)
    hits = covered = 0
    runs = 40
    step_index = 6  # the step lies between 0.5 and 0.6
    for _ in range(runs):
        groups = _step_groups(rng, step_index, reps=4, jump=2.5)
        om = omnibus_test(groups)
        cp = estimate_change_point(LEVELS, groups, rng, n_boot=300, omnibus_significant=om.significant)
        assert cp is not None and cp.supported
        hits += (cp.before, cp.after) == (0.5, 0.6)
        covered += cp.interval_low <= 0.5 and cp.interval_high >= 0.6
    assert hits >= runs - 2
    assert covered >= runs - 2


def test_weak_step_gets_a_wider_interval_that_still_covers_it() -> None:
    rng = np.random.default_rng(11)
    widths, covered, runs = [], 0, 40
    for _ in range(runs):
        groups = _step_groups(rng, 3, reps=4, jump=1.0)
        cp = estimate_change_point(LEVELS, groups, rng, n_boot=300)
        assert cp is not None
        widths.append(LEVELS.index(cp.interval_high) - LEVELS.index(cp.interval_low))
        covered += cp.interval_low <= 0.2 and cp.interval_high >= 0.3
    # a 95 % interval; allow for the discreteness of boundaries and Monte-Carlo error
    assert covered >= _binomial_lower(runs, 0.95)
    assert np.mean(widths) > 1


def test_planted_step_end_to_end_through_the_journal(tmp_path: Any) -> None:
    write_sweep(tmp_path / "sweeps", "step", {"corruption_rate": LEVELS},
                step_metrics("corruption_rate", 0.35, 1.0, 4.0, 0.5), repeats=3, seed=3)
    analyzer = SweepAnalyzer("step", tmp_path / "sweeps", n_boot=400)
    cp = analyzer.estimate_change_point("corruption_rate", "score")
    assert cp is not None and cp.supported and (cp.before, cp.after) == (0.3, 0.4)
    assert cp.interval_low <= 0.3 and cp.interval_high >= 0.4
    # the relative rule sees the step too (and, being noise-blind, may see more)
    assert (0.3, 0.4) in [(b, a) for b, a, _ in analyzer.detect_threshold_effects("corruption_rate", "score")]
    effect = analyzer.parameter_effect("corruption_rate", "score")
    # with 3 replicates an exact Mann-Whitney test cannot reach p < 0.05, and says so
    assert not any(c.significant for c in effect.adjacent)
    assert all("too few replicates" in c.note for c in effect.adjacent)
    write_sweep(tmp_path / "sweeps", "step6", {"corruption_rate": LEVELS},
                step_metrics("corruption_rate", 0.35, 1.0, 4.0, 0.5), repeats=6, seed=4)
    effect = SweepAnalyzer("step6", tmp_path / "sweeps", n_boot=200).parameter_effect("corruption_rate", "score")
    assert [(c.before, c.after) for c in effect.adjacent if c.significant] == [(0.3, 0.4)]
    noise = analyzer.parameter_effect("corruption_rate", "noise_only")
    assert not noise.omnibus.significant and noise.change_point is not None and not noise.change_point.supported


@pytest.mark.parametrize("distribution", ["normal", "exponential"])
def test_null_sweeps_false_positive_rate_near_nominal(distribution: str) -> None:
    rng = np.random.default_rng(99 if distribution == "normal" else 100)
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    kw = anova = adjacent = tipping = 0
    anova_used = 0
    for _ in range(N_NULL):
        draw = rng.normal if distribution == "normal" else (lambda loc, scale, size: rng.exponential(scale, size))
        groups = [np.asarray(draw(0.0, 1.0, 6)) for _ in levels]
        om = omnibus_test(groups)
        kw += om.significant
        if om.anova_p is not None:
            anova_used += 1
            anova += om.anova_p < 0.05
        adjacent += any(c.significant for c in adjacent_comparisons(levels, groups))
        cp = estimate_change_point(levels, groups, rng, n_boot=100, omnibus_significant=om.significant)
        tipping += bool(cp and cp.supported)
    upper = _binomial_upper(N_NULL, 0.05)
    assert kw <= upper and tipping <= upper and adjacent <= upper
    # Kruskal-Wallis is a little conservative with 6 per level, but not useless
    assert kw >= _binomial_lower(N_NULL, 0.03)
    if anova_used >= 50:
        assert anova <= _binomial_upper(anova_used, 0.05)
    if distribution == "exponential":
        assert anova_used < N_NULL  # the normality check keeps ANOVA away from skewed data


def test_one_observation_per_level_is_not_tested() -> None:
    groups = [np.array([float(i)]) for i in range(5)]
    om = omnibus_test(groups)
    assert not om.tested and om.note == "n=1 per level: no test"
    assert all(c.p_value is None and "no test" in c.note for c in adjacent_comparisons(range(5), groups))


def test_identical_values_are_not_an_effect() -> None:
    groups = [np.full(4, 2.0) for _ in range(3)]
    om = omnibus_test(groups)
    assert om.p_value is None and om.status == "degenerate" and not om.significant


def test_holm_matches_the_step_down_definition() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # 2 x 0.8 is capped at 1; monotone step-down
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20)
    adjusted = holm(list(p))
    assert all(a >= b for a, b in zip(adjusted, p)) and max(adjusted) <= 1.0


def test_bootstrap_interval_covers_the_mean_at_nominal_rate() -> None:
    rng = np.random.default_rng(5)
    runs, covered = 300, 0
    for _ in range(runs):
        values = rng.normal(3.0, 2.0, 40)
        low, high = np.percentile(bootstrap_mean_draws(values, rng, 400), [2.5, 97.5])
        covered += low <= 3.0 <= high
    assert _binomial_lower(runs, 0.93) <= covered <= _binomial_upper(runs, 0.95)


def test_relative_change_rules() -> None:
    assert relative_change(0.0, 0.4) == math.inf
    assert relative_change(0.0, -0.4) == -math.inf
    assert relative_change(0.0, 0.0) == 0.0
    assert relative_change(-2.0, -1.0) == pytest.approx(0.5)
    found = relative_change_thresholds([1, 2, 3, 4], [0.0, 0.4, math.nan, 0.5], 0.5)
    assert found == [(1, 2, math.inf)]  # the empty level 3 is skipped: 0.4 -> 0.5 is +25 %


def test_large_sample_mann_whitney_matches_scipy() -> None:
    from sweeplab.analysis.compute.stats import LARGE_SAMPLE, two_sample_test

    rng = np.random.default_rng(8)
    for _ in range(5):
        a = rng.poisson(3.0, LARGE_SAMPLE + 40).astype(float)  # many ties
        b = rng.poisson(3.4, LARGE_SAMPLE + 10).astype(float)
        p, delta = two_sample_test(a, b)
        reference = scipy_stats.mannwhitneyu(b, a, alternative="two-sided", method="asymptotic")
        assert p == pytest.approx(reference.pvalue, rel=1e-9)
        assert delta == pytest.approx(2 * reference.statistic / (len(a) * len(b)) - 1)
