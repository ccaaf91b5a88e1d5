"""What each strategy needs from the spec, checked when the spec is read (exit code 2, nothing written).

* ``grid``: lists and generators only; ``n_trials``, ``sampler`` and ``refine`` have no meaning.
* ``random``, ``lhs``, ``sobol``: ``n_trials`` points drawn from the declared distributions.
* ``bayesian``: ``n_trials`` trials chosen by an Optuna sampler on the ``objective``.
* ``refine``: one numeric parameter on a coarse grid, ``refine: {resolution}``, a metric and a budget
  (``n_trials``).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ..errors import SpecError
from .distributions import DISTRIBUTION_KINDS, SAMPLED_STRATEGIES, is_distribution, parse_distribution
from .json_data import short_repr
from .values import expand_values

__all__ = ["check_strategy", "describe_strategy", "SEARCH_FILE", "SAMPLERS", "MULTI_OBJECTIVE_SAMPLERS", "REFINE_MIN_LEVELS", "is_search",
           "swept_paths"]

#: what a search (bayesian, refine) writes in its sweep folder: its state and its result
SEARCH_FILE = "search.json"
#: Optuna samplers a bayesian sweep may name
SAMPLERS = ("tpe", "gp", "cmaes", "random", "qmc", "nsgaii", "nsgaiii")
#: the samplers that handle more than one objective
MULTI_OBJECTIVE_SAMPLERS = ("tpe", "random", "qmc", "nsgaii", "nsgaiii", "gp")
#: what a sampler needs beyond Optuna: (module, package to install)
SAMPLER_NEEDS = {"gp": (("torch", "torch"),), "cmaes": (("cmaes", "cmaes"),)}
#: a refine sweep's coarse grid needs at least this many levels to see a change between two of them
REFINE_MIN_LEVELS = 3
_REPLICATE_KEY = "experiment_id_suffix"


def is_search(strategy: str) -> bool:
    """Whether the strategy chooses its trials while the sweep runs (bayesian, refine)."""
    return strategy in ("bayesian", "refine")


def swept_paths(spec: Any) -> list[str]:
    """The parameters under ``sweep:`` (the replicate labels left out)."""
    return [path for path in spec.sweep if path != _REPLICATE_KEY]


def check_strategy(spec: Any, where: str) -> None:
    """Refuse keys the strategy does not use, and a strategy without what it needs (a :class:`SpecError`)."""
    strategy = spec.strategy
    if strategy == "grid":
        _check_grid(spec, where)
        return
    for key, value in (("sampler", spec.sampler), ("refine", spec.refine)):
        wanted = {"sampler": "bayesian", "refine": "refine"}[key]
        if value is not None and strategy != wanted:
            raise SpecError(f"{where}: key '{key}' applies to strategy {wanted}, but the strategy is {strategy}: "
                            f"remove '{key}' or set 'strategy: {wanted}'")
    if spec.zip:
        raise SpecError(f"{where}: 'zip' groups belong to grids; strategy {strategy} chooses every parameter's "
                        "value itself: remove 'zip' (declare each parameter under 'sweep')")
    if not swept_paths(spec):
        raise SpecError(f"{where}: strategy {strategy} needs at least one parameter under 'sweep'")
    if strategy == "refine":
        _check_refine(spec, where)
        return
    if spec.n_trials is None:
        raise SpecError(f"{where}: strategy {strategy} needs 'n_trials' (how many trials to run), e.g. "
                        "'n_trials: 20' or --n-trials 20")
    for path in swept_paths(spec):
        parse_distribution(path, spec.sweep[path])
    if strategy in SAMPLED_STRATEGIES:
        return
    # bayesian
    if not spec.objectives:
        raise SpecError(f"{where}: strategy bayesian needs an 'objective' to optimise, e.g. "
                        "'objective: {metric: score, direction: maximize}' or --metric score --maximize")
    if spec.repeats != 1 or _REPLICATE_KEY in spec.sweep:
        raise SpecError(f"{where}: strategy bayesian runs one trial per point (key 'repeats' is {spec.repeats}): "
                        "remove 'repeats' and 'experiment_id_suffix'; the sampler weighs noisy results itself")
    sampler = spec.sampler or "tpe"
    if sampler not in SAMPLERS:
        raise SpecError(f"{where}: key 'sampler' has the value {short_repr(spec.sampler)}, which is not valid: "
                        f"expected one of {', '.join(SAMPLERS)} (default tpe)")
    if len(spec.objectives) > 1 and sampler not in MULTI_OBJECTIVE_SAMPLERS:
        raise SpecError(f"{where}: sampler {sampler} optimises one objective, and the spec names "
                        f"{len(spec.objectives)}: choose one of {', '.join(MULTI_OBJECTIVE_SAMPLERS)}, or one objective")
    for module, package in (("optuna", "sweeplab[optuna]"), *SAMPLER_NEEDS.get(sampler, ())):
        if importlib.util.find_spec(module) is None:
            raise SpecError(f"{where}: strategy bayesian with sampler {sampler} needs the package '{package}', "
                            f"which is not installed: pip install '{package}'"
                            + (", or choose another sampler (tpe needs nothing more)" if module != "optuna" else ""))


def _check_grid(spec: Any, where: str) -> None:
    for path, raw in spec.sweep.items():
        if is_distribution(raw):
            raise SpecError(f"{where}: sweep parameter '{path}' is a distribution ({short_repr(raw)}), which a grid "
                            "cannot enumerate: set 'strategy' to random, lhs, sobol or bayesian (with 'n_trials'), "
                            "or give a list of values or a generator such as {linspace: [A, B, N]}")
    for key in ("n_trials", "sampler", "refine"):
        if getattr(spec, key) is not None:
            raise SpecError(f"{where}: key '{key}' has no meaning for strategy grid (which runs every combination "
                            f"of the values): remove it, or choose a strategy (random, lhs, sobol, bayesian, refine)")


def _check_refine(spec: Any, where: str) -> None:
    if spec.refine is None:
        raise SpecError(f"{where}: strategy refine needs 'refine: {{resolution: WIDTH}}' (the width of the "
                        "interval holding the change at which to stop), e.g. 'refine: {resolution: 0.02}'")
    if spec.refine.metric is None and not spec.objectives:
        raise SpecError(f"{where}: strategy refine needs the metric whose change it locates: 'refine: {{metric: "
                        "NAME, ...}}', or an 'objective' (or --metric NAME)")
    if spec.n_trials is None:
        raise SpecError(f"{where}: strategy refine needs a budget of trials, 'n_trials' (the coarse grid's "
                        "trials count too), e.g. 'n_trials: 60'")
    paths = swept_paths(spec)
    if len(paths) != 1:
        raise SpecError(f"{where}: strategy refine locates a threshold along one parameter; 'sweep' names "
                        f"{len(paths)} ({', '.join(paths)}): keep one (fix the others in the base config)")
    path = paths[0]
    raw = spec.sweep[path]
    if isinstance(raw, dict) and any(k in DISTRIBUTION_KINDS for k in raw):
        raise SpecError(f"{where}: sweep parameter '{path}' of strategy refine is its coarse grid: give a list of "
                        "numbers or a generator such as {linspace: [0, 1, 6]}, not a distribution")
    values = expand_values(path, raw)
    if len(values) < REFINE_MIN_LEVELS or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise SpecError(f"{where}: sweep parameter '{path}' of strategy refine needs a coarse grid of at least "
                        f"{REFINE_MIN_LEVELS} numbers, got {short_repr(raw)}")
    replicates = len(spec.sweep[_REPLICATE_KEY]) if isinstance(spec.sweep.get(_REPLICATE_KEY), list) else spec.repeats
    if len(values) * replicates > spec.n_trials:
        raise SpecError(f"{where}: the budget n_trials={spec.n_trials} is smaller than the coarse grid "
                        f"({len(values)} levels x {replicates} replicates = {len(values) * replicates} trials): "
                        "raise 'n_trials' or use fewer levels")


def describe_strategy(spec: Any) -> str | None:
    """One line on how a sweep that is not a grid chooses its trials, for the plan summary (None for a grid)."""
    strategy = spec.strategy
    if strategy == "grid":
        return None
    if strategy == "refine":
        metric = spec.refine.metric if spec.refine and spec.refine.metric else spec.objectives[0].metric
        return (f"refine '{metric}' to an interval {spec.refine.resolution:g} wide: the values above are round 0; "
                f"later levels are chosen while the sweep runs, at most {spec.n_trials} trials in all")
    if strategy == "bayesian":
        from .distributions import parse_distribution
        ranges = "; ".join(f"{path}: {parse_distribution(path, spec.sweep[path]).describe()}"
                           for path in swept_paths(spec))
        goals = ", ".join(f"{o.direction} {o.metric}" for o in spec.objectives)
        return (f"bayesian ({spec.sampler or 'tpe'} sampler; {goals}): {spec.n_trials} trials chosen while the "
                f"sweep runs, over {ranges}")
    return f"{strategy}: a design of {spec.n_trials} points from seed {spec.seed} (--list shows every trial)"
