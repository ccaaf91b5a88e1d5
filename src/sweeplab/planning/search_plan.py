"""The plan of a search (bayesian, refine): its trials are chosen while the sweep runs.

A :class:`SearchPlan` knows the budget (``n_trials``) and how a chosen point becomes a
:class:`~sweeplab.trial.Trial` with a stable key, seed and experiment id; which points are chosen
is :mod:`sweeplab.search`'s business. It holds no trials: ``len(plan)`` is the budget, iterating
it yields nothing.

Keys: a refine trial is keyed like a grid trial (base config, seed, parameters, replicate), so the
coarse grid of a refine sweep *is* the grid sweep it refines, and a level asked for twice is the
same trial. A bayesian trial's key adds its number: the sampler may propose a point twice, and
each proposal is a trial of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, overload

from ..trial import Trial, canonical_json
from .plan import Plan, _id_text, _short_names, derive_seed
from .resolve import ResolvedSweep
from .strategy import is_search

__all__ = ["SearchPlan", "plan_for"]


class SearchPlan(Plan):
    """The budget and the trial factory of a bayesian or refine sweep (see the module docstring)."""

    dynamic = True

    def __init__(self, sweep: ResolvedSweep) -> None:
        super().__init__(sweep)
        self.strategy = sweep.spec.strategy
        self.budget = int(sweep.spec.n_trials or 0)
        self._names = _short_names(sweep.paths)

    def __len__(self) -> int:
        return self.budget

    @overload
    def __getitem__(self, position: int) -> Trial: ...
    @overload
    def __getitem__(self, position: slice) -> list[Trial]: ...

    def __getitem__(self, position: int | slice) -> Trial | list[Trial]:
        if isinstance(position, slice):
            return []
        raise IndexError(f"a {self.strategy} sweep chooses its trials while it runs: there is no trial at "
                         f"position {position} before then")

    def __iter__(self) -> Iterator[Trial]:
        return iter(())

    def keys(self) -> Iterator[tuple[int, str]]:
        return iter(())

    def label_of(self, repeat: int) -> str | None:
        """The replicate's label; replicates a refine round adds beyond the spec's are ``rep<N>``."""
        labels = self.sweep.labels
        return labels[repeat] if repeat < len(labels) else f"rep{repeat + 1}"

    def trial(self, index: int, params: dict[str, Any], repeat: int = 0) -> Trial:
        """The trial numbered ``index`` (from 1) at ``params``, replicate ``repeat``."""
        pieces = [f"{path}={canonical_json(value)}" for path, value in params.items()]
        if self.strategy != "refine":
            pieces.append(f"search trial #{index}")
        label = self.label_of(repeat)
        key_parts = [self._key_prefix, f"rep={repeat}", *sorted(pieces)]
        if label is not None:
            key_parts.append(f"label={label}")
        key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:12]
        id_parts = [f"{_id_text(self._names.get(p, p))}={_id_text(v, drawn=True)}" for p, v in params.items()]
        if label is not None:
            id_parts.append(_id_text(label))
        # refine's replicates share seeds across levels (common random numbers), as a grid's do;
        # each bayesian trial gets its own
        seed = derive_seed(self.sweep.spec.seed, repeat if self.strategy == "refine" else index)
        return Trial(index=index, key=key, experiment_id=self._experiment_id(index, id_parts, key), params=params,
                     repeat=repeat, seed=seed, label=label)


def plan_for(sweep: ResolvedSweep) -> Plan:
    """The plan of ``sweep``: a :class:`~sweeplab.planning.plan.Plan` of every trial, or a
    :class:`SearchPlan` when the strategy chooses its trials while it runs."""
    return SearchPlan(sweep) if is_search(sweep.spec.strategy) else Plan(sweep)
