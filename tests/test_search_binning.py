"""Binning of continuous parameter values (sampled and searched sweeps), for per-parameter analysis."""

from __future__ import annotations

import doctest
import random
from collections import Counter

from sweeplab.planning import binning
from sweeplab.planning.binning import bin_levels, needs_bins


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(binning).failed == 0


def test_continuous_values_fall_into_bins_of_about_equal_size() -> None:
    rng = random.Random(0)
    values = [rng.lognormvariate(0, 1) for _ in range(60)]  # skewed: equal-width bins would be lopsided
    levels = bin_levels(values, bins=6)
    counts = Counter(levels)
    assert len(counts) == 6 and max(counts.values()) - min(counts.values()) <= 2
    for value, level in zip(values, levels):  # every value lies in its bin
        low, high = (float(part) for part in level.strip("[)]").split(", "))
        assert low * (1 - 5e-3) <= value <= high * (1 + 5e-3)  # labels keep 3 significant digits


def test_levels_of_a_grid_and_non_numbers_stay_as_they_are() -> None:
    assert bin_levels([0.1, 0.2, 0.1, 0.3]) == [0.1, 0.2, 0.1, 0.3]
    assert not needs_bins(["a"] * 20) and not needs_bins([True, False] * 10)
    assert bin_levels([None, *range(20)])[0] is None
