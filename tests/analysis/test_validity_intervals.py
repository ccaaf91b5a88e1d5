"""Issue 12, wrong results 2-4 and coverage: degenerate tests, exact small-n p-values, t intervals.

Simulations use fixed seeds and are vectorised; the sampling bound of a rate measured over
``reps`` replications is 3·sqrt(p(1-p)/reps).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweeplab.analysis.compute.effects import configuration_result
from sweeplab.analysis.compute.rank_tests import two_sample_result
from sweeplab.analysis.compute.stats import adjacent_comparisons, describe_level, mean_interval, omnibus_test


def test_three_against_three_tied_samples_get_the_exact_p() -> None:
    result = two_sample_result(np.zeros(3), np.full(3, 0.4))
    # 20 ways to split six values, 2 of them as extreme: p = 0.1, not the approximation's 0.047
    assert result.p_value == pytest.approx(0.1) and result.method.startswith("exact")
    comparisons = adjacent_comparisons([0, 1], [np.zeros(3), np.full(3, 0.4)])
    assert comparisons[0].p_value == pytest.approx(0.1) and not comparisons[0].significant


def test_exact_p_matches_full_enumeration_with_ties() -> None:
    import itertools

    a, b = np.array([1.0, 1.0, 2.0, 3.0]), np.array([2.0, 3.0, 3.0, 4.0, 5.0])
    pooled = np.concatenate([b, a])
    from scipy.stats import rankdata

    ranks = rankdata(pooled)
    observed = abs(ranks[:5].sum() - 5 * 10 / 2)
    sums = [abs(ranks[list(c)].sum() - 25) for c in itertools.combinations(range(9), 5)]
    expected = np.mean(np.array(sums) >= observed - 1e-9)
    assert two_sample_result(a, b).p_value == pytest.approx(expected)


def test_small_n_rank_tests_keep_their_level_under_the_null() -> None:
    rng = np.random.default_rng(1)
    reps = 300
    rejections = 0
    for _ in range(reps):
        values = rng.integers(0, 3, size=(3, 3)).astype(float)  # counts with many ties
        result = omnibus_test(list(values))
        rejections += result.p_value is not None and result.p_value < 0.05
    assert rejections / reps <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)


def test_identical_groups_zero_variance_and_one_group_are_degenerate() -> None:
    noise = np.array([0.3, -1.2, 0.8, 2.1])
    identical = omnibus_test([noise, noise.copy(), noise[::-1].copy()])
    assert identical.status == "degenerate" and identical.p_value is None and identical.anova_f is None
    constant = omnibus_test([np.full(3, 2.0), np.full(3, 2.0)])
    assert constant.status == "degenerate" and constant.p_value is None
    single = omnibus_test([noise])
    assert single.status == "untestable" and single.p_value is None
    pair = two_sample_result(noise, noise[::-1].copy())
    assert pair.status == "degenerate" and pair.p_value is None


def test_nearly_identical_groups_give_no_negative_statistics() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=6)
    groups = [base, base + 1e-15, base - 1e-15]
    result = omnibus_test(groups)
    assert result.statistic is None or result.statistic >= 0
    assert result.anova_f is None or result.anova_f >= 0


@pytest.mark.parametrize("n", [3, 5, 10])
def test_level_intervals_cover_the_true_mean(n: int) -> None:
    rng = np.random.default_rng(n)
    reps = 2000
    samples = rng.normal(5.0, 2.0, size=(reps, n))
    covered = 0
    for row in samples:
        summary = describe_level(0, row)
        covered += summary.ci_low <= 5.0 <= summary.ci_high
    assert covered / reps >= 0.93


def test_the_configuration_interval_is_the_level_interval() -> None:
    values = np.array([1.0, 1.5, 0.7, 1.1])
    level = describe_level("x", values)
    config = configuration_result({"x": 1}, values, np.random.default_rng(0), 100)
    assert (config.ci_low, config.ci_high) == (level.ci_low, level.ci_high) == mean_interval(values)
