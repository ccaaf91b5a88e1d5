"""Refining a threshold: where along one parameter does a metric change, and how precisely.

The algorithm, round by round (pure functions of the observations, so a resume recomputes them):

1. **Locate** (:func:`locate`): fit a step — one mean below a split, another above — to every
   observation by least squares, over every split between adjacent levels (after round 0, only
   splits inside the interval the round before located: the search narrows, so that a smooth
   curve, whose best split drifts as levels are added, still converges). The change lies between
   the two levels that flank the best split: that interval is the result, its midpoint the estimate. The step is *established* when it is at least ``MIN_STEP_Z`` standard errors
   (pooled residual spread) — a heuristic bar that allows for having picked the best of several splits.
2. **Decide** (:func:`next_round`): stop when the interval is at most ``resolution`` wide
   (``resolved``), or when the budget cannot pay for one more level (``budget``). While no step
   is established, every level gets more replicates (up to ``MAX_REPLICATE_FACTOR`` times the
   spec's); when that is spent or unaffordable and still no step stands out: ``no change``. Otherwise place ``levels_per_round`` new levels evenly inside
   the interval, each with the spec's replicates, and — where the evidence is weak, a flanking
   level whose mean is within ``MIN_SIDE_Z`` standard errors of the midpoint between the two
   plateaus — more replicates at that flanking level (up to ``MAX_REPLICATE_FACTOR`` times the spec's).

With levels_per_round m, every round narrows the interval by a factor m + 1: a coarse grid of
width w reaches resolution r in about log(w / r) / log(m + 1) rounds, against w / r levels for a
uniform grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..planning.values import clean_float

__all__ = ["Located", "Decision", "locate", "next_round", "MIN_STEP_Z", "MIN_SIDE_Z", "MAX_REPLICATE_FACTOR"]

#: a step smaller than this many standard errors is no established change
MIN_STEP_Z = 3.0
#: a flanking level closer than this many standard errors to the plateaus' midpoint is weak evidence
MIN_SIDE_Z = 2.0
#: weak levels get replicates up to this multiple of the spec's replicates
MAX_REPLICATE_FACTOR = 3


@dataclass(frozen=True)
class Located:
    """Where the change lies: between the levels ``low`` and ``high`` (``estimate`` their midpoint)."""

    low: float
    high: float
    below: float      # mean of the observations at levels <= low
    above: float      # mean at levels >= high
    step_z: float     # |above - below| in standard errors
    weak: tuple[float, ...] = ()  # flanking levels whose side is uncertain

    @property
    def estimate(self) -> float:
        return clean_float((self.low + self.high) / 2)

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def established(self) -> bool:
        return self.step_z >= MIN_STEP_Z


@dataclass(frozen=True)
class Decision:
    """What a round decided: trials to add as (level, replicate), or why it stops."""

    located: Located | None
    add: tuple[tuple[float, int], ...] = ()
    stop: str | None = None  # "resolved", "no change", "budget"
    notes: tuple[str, ...] = field(default=())


def locate(observations: Mapping[float, Sequence[float]], within: tuple[float, float] | None = None) -> Located | None:
    """The least-squares step of ``observations`` (level → values), or None without two observed levels.

    ``within``: only splits between levels inside this interval are considered (the interval the
    round before located); the means below and above still use every observation.
    """
    levels = sorted(x for x, values in observations.items() if values)
    if len(levels) < 2:
        return None
    counts = [len(observations[x]) for x in levels]
    sums = [math.fsum(observations[x]) for x in levels]
    squares = [math.fsum(v * v for v in observations[x]) for x in levels]
    total_n, total_s, total_q = sum(counts), math.fsum(sums), math.fsum(squares)
    best: tuple[float, int] | None = None
    n_left = s_left = q_left = 0.0
    for split in range(1, len(levels)):
        n_left += counts[split - 1]
        s_left += sums[split - 1]
        q_left += squares[split - 1]
        n_right, s_right, q_right = total_n - n_left, total_s - s_left, total_q - q_left
        if within is not None and not within[0] <= levels[split - 1] < levels[split] <= within[1]:
            continue
        sse = (q_left - s_left * s_left / n_left) + (q_right - s_right * s_right / n_right)
        if best is None or sse < best[0] - 1e-12:
            best = (sse, split)
    if best is None:  # no two observed levels inside 'within': look everywhere
        return locate(observations)
    sse, split = best
    n_left = sum(counts[:split])
    n_right = total_n - n_left
    below = math.fsum(sums[:split]) / n_left
    above = math.fsum(sums[split:]) / n_right
    sigma = math.sqrt(max(sse, 0.0) / (total_n - 2)) if total_n > 2 else 0.0
    step = above - below
    se = sigma * math.sqrt(1 / n_left + 1 / n_right)
    step_z = abs(step) / se if se > 0 else (math.inf if step != 0 else 0.0)
    weak = []
    middle = (below + above) / 2
    direction = 1.0 if step >= 0 else -1.0
    for position, side in ((split - 1, -1.0), (split, 1.0)):
        x = levels[position]
        mean = sums[position] / counts[position]
        level_se = sigma / math.sqrt(counts[position])
        side_z = (mean - middle) * direction * side / level_se if level_se > 0 else math.inf
        if side_z < MIN_SIDE_Z:
            weak.append(x)
    return Located(levels[split - 1], levels[split], below, above, step_z, tuple(weak))


def _inner_levels(low: float, high: float, count: int, existing: set[float], integer: bool) -> list[float]:
    inner = [clean_float(low + (high - low) * i / (count + 1)) for i in range(1, count + 1)]
    if integer:  # a whole-number parameter (cycles, sizes) gets whole-number levels
        inner = [int(round(x)) for x in inner]
    return [x for x in dict.fromkeys(inner) if low < x < high and x not in existing]


def next_round(observations: Mapping[float, Sequence[float]], registered: Mapping[float, int], *,
               resolution: float, levels_per_round: int, replicates: int, budget_left: int,
               within: tuple[float, float] | None = None, integer: bool = False) -> Decision:
    """The next round of a refine search (see the module docstring).

    ``observations``: level → the metric's values of its completed trials; ``registered``: level →
    how many replicates it has (any outcome), so that added replicates take new numbers; ``within``:
    the interval the round before located (the search narrows inside it); ``integer``: levels are whole
    numbers (the coarse grid's are), so an interval between neighbours cannot be divided further.
    """
    located = locate(observations, within)
    if located is None:
        return Decision(located, stop="no change")
    if not located.established:
        # weak evidence everywhere: more replicates at every level, while the budget and the cap allow
        more = [(x, have + r) for x, have in sorted(registered.items()) if x in observations
                and have + replicates <= MAX_REPLICATE_FACTOR * replicates for r in range(replicates)]
        if not more or len(more) > budget_left:
            return Decision(located, stop="no change")
        return Decision(located, add=tuple(more), notes=(f"no step stands out of the noise yet "
                                                         f"({located.step_z:.2g} standard errors): "
                                                         f"{replicates} more replicate(s) at every level",))
    if located.width <= resolution * (1 + 1e-9):
        return Decision(located, stop="resolved")
    existing = set(registered)
    count = min(levels_per_round, budget_left // replicates)
    levels = _inner_levels(located.low, located.high, count, existing, integer) if count else []
    if not levels:
        return Decision(located, stop="budget" if count == 0 else "resolved",
                        notes=() if count == 0 else ("the interval cannot be divided further",))
    add = [(x, r) for x in levels for r in range(replicates)]
    notes = []
    for x in located.weak:
        have = registered.get(x, 0)
        extra = [(x, have + r) for r in range(replicates)]
        if have + replicates <= MAX_REPLICATE_FACTOR * replicates and len(add) + len(extra) <= budget_left:
            add += extra
            notes.append(f"weak evidence at {x:g}: {replicates} more replicate(s)")
    return Decision(located, add=tuple(add), notes=tuple(notes))
