"""Declared distributions of swept parameters, and the sampled designs drawn from them.

Under ``sweep:`` a parameter of a sampled or searched sweep (strategy random, lhs, sobol,
bayesian) may be declared as a distribution instead of a list:

>>> parse_distribution("x", {"uniform": [0, 1]})
Distribution(path='x', kind='uniform', low=0.0, high=1.0, choices=())
>>> parse_distribution("n", {"int": [1, 4]}).value_at(0.99)
4
>>> parse_distribution("k", ["a", "b"]).kind    # a plain list is a choice
'choice'

:func:`design_rows` draws ``n`` points of a design from the unit hypercube (plain random numbers,
a Latin hypercube or a scrambled Sobol sequence, from :mod:`scipy.stats.qmc`) and maps each
coordinate through its distribution, reproducibly from the spec's seed.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from .json_data import short_repr
from .values import clean_float, expand_values

__all__ = ["Distribution", "DISTRIBUTION_KINDS", "parse_distribution", "is_distribution", "design_rows",
           "design_seed", "SAMPLED_STRATEGIES"]

#: the keys of a distribution mapping under ``sweep:``
DISTRIBUTION_KINDS = ("uniform", "loguniform", "int", "choice")
#: strategies whose trials are a design drawn before the sweep starts
SAMPLED_STRATEGIES = ("random", "lhs", "sobol")
_FORMS = "{uniform: [A, B]}, {loguniform: [A, B]}, {int: [A, B]} or {choice: [V1, V2, ...]}"


@dataclass(frozen=True)
class Distribution:
    """One parameter's distribution: ``kind`` with bounds ``low``..``high`` or a list of ``choices``."""

    path: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def value_at(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1) (the inverse of the distribution function)."""
        u = min(max(u, 0.0), math.nextafter(1.0, 0.0))
        if self.kind == "uniform":
            return clean_float(self.low + u * (self.high - self.low))
        if self.kind == "loguniform":
            return clean_float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        if self.kind == "int":
            low, high = int(self.low), int(self.high)
            return min(high, low + int(u * (high - low + 1)))
        return self.choices[min(len(self.choices) - 1, int(u * len(self.choices)))]

    def probe_values(self) -> list[Any]:
        """Values that stand for the whole range when a config is checked: both ends, or every choice."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return sorted({int(self.low), int(self.high)})
        return sorted({clean_float(self.low), clean_float(self.high)})

    def describe(self) -> str:
        """The distribution as the spec wrote it, for messages and the plan summary."""
        if self.kind == "choice":
            return f"choice of {len(self.choices)}"
        return f"{self.kind} [{self.low:g}, {self.high:g}]"


def is_distribution(raw: Any) -> bool:
    """Whether a value under ``sweep:`` is a distribution mapping (``{uniform: ...}`` and the like)."""
    return isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in DISTRIBUTION_KINDS


def _bounds(path: str, kind: str, raw: Any) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise SpecError(f"sweep parameter '{path}': '{kind}' expects a list of two bounds [low, high], got "
                        f"{short_repr(raw)}")
    for bound in raw:
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
            raise SpecError(f"sweep parameter '{path}': the bounds of '{kind}' must be finite numbers, got "
                            f"{short_repr(raw)}")
    low, high = raw
    if kind == "int" and not all(isinstance(b, int) for b in raw):
        raise SpecError(f"sweep parameter '{path}': the bounds of 'int' must be whole numbers, got {short_repr(raw)}; "
                        "use {uniform: [A, B]} for a real number")
    if low >= high:
        raise SpecError(f"sweep parameter '{path}': the bounds of '{kind}' must be low < high, got {short_repr(raw)}: "
                        "write the smaller bound first")
    if kind == "loguniform" and low <= 0:
        raise SpecError(f"sweep parameter '{path}': 'loguniform' needs a positive lower bound (it samples the "
                        f"logarithm), got {short_repr(raw)}; use {{uniform: [A, B]}} for a range that includes 0")
    return low, high


def parse_distribution(path: str, raw: Any) -> Distribution:
    """The distribution of one swept parameter: a distribution mapping, or any list, generator or
    scalar (whose values become a choice)."""
    if is_distribution(raw):
        kind, value = next(iter(raw.items()))
        if kind == "choice":
            if not isinstance(value, list) or not value:
                raise SpecError(f"sweep parameter '{path}': 'choice' expects a non-empty list of values, got "
                                f"{short_repr(value)}")
            return Distribution(path, "choice", choices=tuple(expand_values(path, value)))
        low, high = _bounds(path, kind, value)
        return Distribution(path, kind, low, high)
    if isinstance(raw, dict) and any(k in DISTRIBUTION_KINDS for k in raw):
        raise SpecError(f"sweep parameter '{path}': a distribution is a mapping with one key, one of {_FORMS}; "
                        f"got {short_repr(raw)}")
    return Distribution(path, "choice", choices=tuple(expand_values(path, raw)))


def design_seed(seed: int, strategy: str) -> int:
    """The seed of a design: from the spec's seed, apart from the replicates' seeds."""
    digest = hashlib.sha256(f"sweeplab-design:{strategy}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def unit_points(strategy: str, dimensions: int, count: int, seed: int) -> list[list[float]]:
    """``count`` points in [0, 1)^``dimensions`` of the strategy's design, reproducible from ``seed``.

    ``random`` draws the rows one after another from one generator, and ``sobol`` is a sequence,
    so a larger ``count`` keeps the earlier points (a design can be extended); a Latin hypercube
    is stratified for its own ``count`` and changes as a whole.
    """
    import numpy as np  # imported here: a grid sweep never needs numpy or scipy
    generator = np.random.default_rng(design_seed(seed, strategy))
    if strategy == "random":
        return generator.random((count, dimensions)).tolist()
    from scipy.stats import qmc
    if strategy == "lhs":
        return qmc.LatinHypercube(d=dimensions, rng=generator).random(count).tolist()
    if strategy == "sobol":
        with warnings.catch_warnings():  # a count that is not a power of 2 is allowed (documented)
            warnings.simplefilter("ignore", UserWarning)
            return qmc.Sobol(d=dimensions, scramble=True, rng=generator).random(count).tolist()
    raise SpecError(f"strategy '{strategy}' draws no design: expected one of {', '.join(SAMPLED_STRATEGIES)}")


def design_rows(strategy: str, distributions: list[Distribution], count: int, seed: int) -> list[tuple[Any, ...]]:
    """The ``count`` parameter rows of a sampled design, one value per distribution in order."""
    points = unit_points(strategy, max(1, len(distributions)), count, seed)
    return [tuple(d.value_at(point[i]) for i, d in enumerate(distributions)) for point in points]
