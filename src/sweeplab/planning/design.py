"""The axes of a sweep that is not a grid, built from its declared distributions.

* ``random``, ``lhs``, ``sobol``: one design axis of ``n_trials`` numbered points (every parameter
  varies in it), drawn by :func:`~sweeplab.planning.distributions.design_rows` from the spec's seed.
* ``bayesian``: one axis per parameter holding only the values that stand for its range (both
  bounds, every choice). They are what the base config is checked against and what the plan
  summary shows; the trials themselves are chosen while the sweep runs.
* ``refine``: the one parameter's coarse grid (the first round); later levels are chosen while
  the sweep runs.
"""

from __future__ import annotations

from typing import Any

from .axes import Axis
from .distributions import SAMPLED_STRATEGIES, Distribution, design_rows, parse_distribution
from .strategy import swept_paths
from .values import expand_values

__all__ = ["strategy_axes", "distributions_of"]


def distributions_of(spec: Any) -> list[Distribution]:
    """The declared distribution of every swept parameter, in the order of ``sweep:``."""
    return [parse_distribution(path, spec.sweep[path]) for path in swept_paths(spec)]


def strategy_axes(spec: Any) -> list[Axis]:
    """The axes of a spec whose strategy is not grid (see the module docstring)."""
    if spec.strategy in SAMPLED_STRATEGIES:
        distributions = distributions_of(spec)
        rows = design_rows(spec.strategy, distributions, spec.n_trials, spec.seed)
        return [Axis(tuple(d.path for d in distributions), tuple(rows), design=True)]
    if spec.strategy == "refine":
        path = swept_paths(spec)[0]
        return [Axis((path,), tuple((v,) for v in expand_values(path, spec.sweep[path])))]
    return [Axis((d.path,), tuple((v,) for v in d.probe_values())) for d in distributions_of(spec)]
