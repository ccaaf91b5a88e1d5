"""Issue 12, designed-experiment analysis, by simulation with fixed seeds (compute API on frames).

Rates over ``reps`` replications are compared with 5 % plus three binomial standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sweeplab.analysis.compute.contrasts import level_contrasts
from sweeplab.analysis.compute.design import analyze_design, find_aliases, parameter_importance
from sweeplab.analysis.compute.multiplicity import benjamini_hochberg, build_family
from sweeplab.analysis.compute.stats import omnibus_test

def _bound(reps: int) -> float:
    return 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)


BOUND = _bound(200)


def _grid(a_levels: list, b_levels: list, repeats: int) -> pd.DataFrame:
    rows = [{"a": a, "b": b, "repeat": r} for r in range(repeats) for a in a_levels for b in b_levels]
    return pd.DataFrame(rows)


def test_crossover_interaction_is_detected_and_the_marginal_no_effect_qualified() -> None:
    rng = np.random.default_rng(12)
    frame = _grid([0, 1], ["x", "y"], 4)
    # a helps under x and hurts under y by the same amount: no marginal effect of a at all
    crossover = np.where(frame["b"] == "x", 1.0, -1.0) * np.where(frame["a"] == 1, 1.0, -1.0)
    reps, detected, qualified, marginal_null = 200, 0, 0, 0
    for _ in range(reps):
        frame["m"] = crossover + rng.normal(0, 1.0, len(frame))
        design = analyze_design(frame, ["a", "b"], "m")
        interaction = design.term("a × b")
        detected += interaction is not None and interaction.significant
        main = design.term("a")
        qualified += bool(main.qualifier) if interaction.significant else 0
        marginal = omnibus_test([frame.loc[frame["a"] == v, "m"].to_numpy() for v in (0, 1)])
        marginal_null += marginal.p_value is not None and marginal.p_value >= 0.05
    assert detected / reps >= 0.80
    assert qualified == detected  # every detected crossover qualifies the main effect
    assert marginal_null / reps >= 0.8  # the one-parameter view would report "no effect"


def test_a_one_sigma_effect_keeps_its_power_next_to_a_five_sigma_effect() -> None:
    rng = np.random.default_rng(13)
    frame = _grid([0, 1], [0, 1, 2, 3], 5)
    truth = 1.0 * frame["a"] + 5.0 * frame["b"]  # a: 1 sigma, b: 5 sigma per level
    reps, found, marginal_found = 200, 0, 0
    for _ in range(reps):
        frame["m"] = truth + rng.normal(0, 1.0, len(frame))
        found += analyze_design(frame, ["a", "b"], "m").term("a").significant
        marginal = omnibus_test([frame.loc[frame["a"] == v, "m"].to_numpy() for v in (0, 1)])
        marginal_found += marginal.p_value is not None and marginal.p_value < 0.05
    assert found / reps >= 0.5
    assert found > 2 * marginal_found  # the marginal test loses it in b's spread


def test_blocking_by_replicate_recovers_power_under_common_seeds() -> None:
    rng = np.random.default_rng(14)
    frame = _grid([0, 1, 2], [0, 1], 4)
    reps, blocked, unblocked = 200, 0, 0
    for _ in range(reps):
        seed_effect = rng.normal(0, 2.0, 4)[frame["repeat"]]  # replicate r's seed shifts every grid point
        frame["m"] = 0.5 * frame["a"] + seed_effect + rng.normal(0, 0.5, len(frame))
        blocked += analyze_design(frame, ["a", "b"], "m").term("a").significant
        unblocked += analyze_design(frame, ["a", "b"], "m", block=None).term("a").significant
    assert blocked / reps >= 0.74 and blocked > unblocked + reps // 5, (blocked, unblocked)


def test_null_sweeps_keep_term_and_family_rates() -> None:
    rng = np.random.default_rng(15)
    frame = _grid([0, 1, 2], ["x", "y", "z"], 3)
    reps, any_term, family_any = 200, 0, 0
    for _ in range(reps):
        p_values = {}
        for metric in range(10):  # ten null metrics, as in the issue
            frame["m"] = rng.normal(size=len(frame))
            design = analyze_design(frame, ["a", "b"], "m")
            for term in design.terms:
                if term.kind != "block":
                    p_values[(f"m{metric}", term.term)] = term.p_value
            if metric == 0:
                any_term += design.term("a").significant
        family_any += build_family(p_values).any_significant
    assert any_term / reps <= _bound(reps)
    assert family_any / reps <= _bound(reps)


def test_failed_trials_that_unbalance_the_design_are_warned_and_do_not_fake_an_effect() -> None:
    rng = np.random.default_rng(16)
    frame = _grid([0, 1, 2, 3], [0, 1], 5)
    reps, false_a = 200, 0
    for _ in range(reps):
        frame["m"] = 3.0 * frame["b"] + rng.normal(size=len(frame))
        # trials fail where b is high, more often at high a: raw means of a drift with b's share
        keep = ~((frame["b"] == 1) & (frame["repeat"] < frame["a"]))
        design = analyze_design(frame[keep], ["a", "b"], "m")
        false_a += design.term("a").significant
    assert any("unbalanced design" in w for w in design.warnings)
    assert design.balance is not None and not design.balance.balanced
    assert false_a / reps <= BOUND


def test_zipped_parameters_are_one_factor() -> None:
    frame = pd.DataFrame({"lr": [0.1, 0.01, 0.001] * 4, "warmup": [10, 100, 1000] * 4,
                          "repeat": np.repeat(range(4), 3)})
    frame["m"] = np.log10(frame["lr"]) + np.random.default_rng(17).normal(0, 0.1, len(frame))
    assert find_aliases(frame, ["lr", "warmup"]) == [("lr", "warmup")]
    design = analyze_design(frame, ["lr", "warmup"], "m")
    assert [t.term for t in design.terms if t.kind == "main"] == ["lr ≡ warmup"]
    assert any("cannot be told apart" in w for w in design.warnings)


def test_nominal_levels_are_compared_against_a_reference_with_others_fixed() -> None:
    rng = np.random.default_rng(18)
    frame = _grid(["adam", "sgd", "rmsprop"], [0, 1, 2], 3)
    frame["m"] = frame["a"].map({"adam": 0.0, "sgd": 2.0, "rmsprop": 0.0}) + 10 * frame["b"] + rng.normal(
        0, 0.5, len(frame))
    contrasts = level_contrasts(frame, "a", "m", ["a", "b"], reference="adam")
    by_level = {c.level: c for c in contrasts}
    assert set(by_level) == {"sgd", "rmsprop"}
    assert by_level["sgd"].significant and by_level["sgd"].ci_low < 2.0 < by_level["sgd"].ci_high
    assert not by_level["rmsprop"].significant
    pairs = level_contrasts(frame, "a", "m", ["a", "b"], all_pairs=True)
    assert len(pairs) == 3


def test_importance_ranks_the_parameters_by_their_share_of_variance() -> None:
    rng = np.random.default_rng(19)
    frame = _grid([0, 1, 2], [0, 1, 2], 3)
    frame["m"] = 4.0 * frame["a"] + 0.5 * frame["b"] + rng.normal(0, 0.5, len(frame))
    shares = parameter_importance(analyze_design(frame, ["a", "b"], "m"))
    assert shares["a"] > 0.8 > shares["b"] and shares["a"] > shares["b"] > shares["a × b"]
    assert sum(shares.values()) == pytest.approx(1.0)


def test_degenerate_designs_say_why() -> None:
    frame = _grid([0, 1], [0, 1], 2)
    frame["m"] = 1.0
    assert analyze_design(frame, ["a", "b"], "m").status == "degenerate"
    one = _grid([0, 1], [0, 1], 1)
    one["m"] = [1.0, 2.0, 3.0, 5.0]
    design = analyze_design(one, ["a", "b"], "m")
    assert design.status == "ok" and any("too few trials" in w for w in design.warnings)


def test_benjamini_hochberg_matches_the_definition() -> None:
    p = [0.01, 0.02, 0.03, 0.5, None]
    q = benjamini_hochberg(p)
    assert q[:4] == pytest.approx([0.04, 0.04, 0.04, 0.5]) and q[4] is None


def test_the_type_two_table_is_statsmodels_one() -> None:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(20)
    frame = _grid([0, 1, 2], ["x", "y"], 4)
    frame["m"] = frame["a"] * (frame["b"] == "x") + rng.normal(size=len(frame))
    frame = frame.drop(index=[0, 5, 7]).reset_index(drop=True)  # unbalanced: type II differs from type I
    design = analyze_design(frame, ["a", "b"], "m")
    reference = anova_lm(smf.ols("m ~ C(a) + C(b) + C(a):C(b) + C(repeat)", data=frame).fit(), typ=2)
    for term, row in (("a", "C(a)"), ("b", "C(b)"), ("a × b", "C(a):C(b)"), ("replicate", "C(repeat)")):
        ours = design.term(term)
        assert ours.sum_sq == pytest.approx(reference.loc[row, "sum_sq"], rel=1e-9)
        assert ours.p_value == pytest.approx(reference.loc[row, "PR(>F)"], rel=1e-7)
    assert design.residual_df == reference.loc["Residual", "df"]


def test_sampled_designs_are_not_aliased_by_their_unique_values() -> None:
    rng = np.random.default_rng(21)
    frame = pd.DataFrame({"lr": rng.uniform(0, 1, 60), "wd": rng.uniform(0, 1, 60), "repeat": 0})
    frame["m"] = 2.0 * frame["lr"] + rng.normal(0, 0.3, 60)
    assert find_aliases(frame, ["lr", "wd"]) == []
    design = analyze_design(frame, ["lr", "wd"], "m")
    assert design.term("lr").significant and design.term("lr").df == 1
    frame["lr_copy"] = 3 * frame["lr"] + 1  # a zipped linear twin is still one factor
    assert find_aliases(frame, ["lr", "wd", "lr_copy"]) == [("lr", "lr_copy")]


def test_nominal_contrasts_hold_a_sampled_numeric_parameter_as_a_line() -> None:
    rng = np.random.default_rng(22)
    frame = pd.DataFrame({"opt": ["adam", "sgd"] * 30, "lr": rng.uniform(0, 1, 60), "repeat": 0})
    frame["m"] = (frame["opt"] == "sgd") * 1.0 + 5.0 * frame["lr"] + rng.normal(0, 0.3, 60)
    (contrast,) = level_contrasts(frame, "opt", "m", ["opt", "lr"], reference="adam")
    assert contrast.significant and contrast.ci_low < 1.0 < contrast.ci_high


def test_the_model_keeps_its_level_on_skewed_counts() -> None:
    rng = np.random.default_rng(23)
    frame = _grid([0, 1, 2, 3], [0, 1, 2], 3)
    reps, rejections = 300, 0
    for _ in range(reps):
        frame["m"] = rng.poisson(1.0, len(frame)).astype(float)  # counts: the metrics issue 12 found flagged
        design = analyze_design(frame, ["a", "b"], "m")
        rejections += any(t.significant for t in design.terms if t.kind == "main")
    # two main effects at 5 % each: at most about 10 %, plus the sampling bound
    assert rejections / reps <= 0.0975 + 3 * math.sqrt(0.0975 * 0.9025 / reps)
