"""``strategy: bayesian``: Optuna chooses, sweeplab runs, the journal remembers.

The study is an in-memory Optuna study, never stored anywhere: it is rebuilt from the journal
whenever the coordinator starts (a resume after ``kill -9`` included). Finished trials are added
to it with their values (``add_trial``); unfinished ones are enqueued and asked again, so they
run under their own numbers and count as running for the sampler. Then the loop asks
(``study.ask``) for each free slot, and tells (``study.tell``) each result once it is journaled.

Pending trials (parallel > 1): several trials are asked before the first is told. The default
TPE sampler runs with ``constant_liar=True``: a running trial counts as the worst value seen so
far, which pushes the next ask away from points already being evaluated. Other samplers see only
finished trials when they choose (GP and CMA-ES may then propose near a running point);
``random`` and ``qmc`` do not need results at all.

A completed trial that did not report an objective metric as a finite number, or a trial that
failed, is told as failed: the sampler learns nothing from it, and it counts against ``n_trials``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..planning.design import distributions_of
from ..planning.distributions import Distribution
from ..trial import Trial, TrialStatus, canonical_json
from .source import SearchSource, metric_value

if TYPE_CHECKING:
    import optuna

    from ..journal.writer import Journal
    from ..planning.resolve import ResolvedSweep
    from ..planning.search_plan import SearchPlan

__all__ = ["BayesianSearch", "make_sampler", "optuna_distribution"]

log = logging.getLogger(__name__)


def make_sampler(name: str | None, seed: int) -> optuna.samplers.BaseSampler:
    """The Optuna sampler called ``name`` (default TPE with constant liar), seeded."""
    import warnings

    import optuna
    samplers = optuna.samplers
    name = name or "tpe"
    # experimental samplers (qmc, nsgaiii, multivariate TPE) say so on every run: the guide says it once
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if name == "tpe":
        return samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)
    if name == "gp":
        return samplers.GPSampler(seed=seed)
    if name == "cmaes":
        return samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    if name == "qmc":
        return samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
    if name == "nsgaii":
        return samplers.NSGAIISampler(seed=seed)
    if name == "nsgaiii":
        return samplers.NSGAIIISampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")  # the spec was checked: planning/strategy.py


def optuna_distribution(distribution: Distribution) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution of a declared one; a choice is asked as the index of its value."""
    from optuna import distributions as od
    if distribution.kind == "uniform":
        return od.FloatDistribution(distribution.low, distribution.high)
    if distribution.kind == "loguniform":
        return od.FloatDistribution(distribution.low, distribution.high, log=True)
    if distribution.kind == "int":
        return od.IntDistribution(int(distribution.low), int(distribution.high))
    # indices: Optuna's categorical choices must be plain scalars, a swept value may be any JSON data
    return od.CategoricalDistribution(list(range(len(distribution.choices))))


class BayesianSearch(SearchSource):
    """An Optuna study over the sweep's distributions, rebuilt from the journal (see the module docstring)."""

    def __init__(self, sweep: ResolvedSweep, plan: SearchPlan, journal: Journal) -> None:
        super().__init__(sweep, plan, journal)
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        spec = sweep.spec
        self.objectives = spec.objectives
        self.declared = {d.path: d for d in distributions_of(spec)}
        self.distributions = {path: optuna_distribution(d) for path, d in self.declared.items()}
        self.sampler_name = spec.sampler or "tpe"
        sampler = make_sampler(self.sampler_name, spec.seed)
        self.study = optuna.create_study(directions=[o.direction for o in self.objectives], sampler=sampler)
        self._asked: dict[str, optuna.trial.Trial] = {}
        self.failed = 0
        self.replay()

    # --- params between the study and the journal -----------------------------------------------
    def _to_params(self, asked: dict[str, Any]) -> dict[str, Any]:
        params = {}
        for path, declared in self.declared.items():
            value = asked[path]
            params[path] = declared.choices[value] if declared.kind == "choice" else value
        return params

    def _to_study(self, params: dict[str, Any]) -> dict[str, Any]:
        asked = {}
        for path, declared in self.declared.items():
            value = params[path]
            if declared.kind == "choice":
                tokens = [canonical_json(c) for c in declared.choices]
                value = tokens.index(canonical_json(value))
            asked[path] = value
        return asked

    def _values(self, metrics: dict[str, Any]) -> list[float] | None:
        values = [metric_value(metrics, o.metric) for o in self.objectives]
        return None if any(v is None for v in values) else values  # type: ignore[return-value]

    # --- SearchSource -------------------------------------------------------------------------------
    def _pending(self, trial: Trial) -> None:
        # asked again under its own parameters, so that the sampler counts it as running
        self.study.enqueue_trial(self._to_study(trial.params), skip_if_exists=False)
        asked = self._asked[trial.key] = self.study.ask(self.distributions)
        asked.set_user_attr("experiment_id", trial.experiment_id)

    def _learn(self, trial: Trial, status: TrialStatus, metrics: dict[str, Any]) -> None:
        import optuna
        values = self._values(metrics) if status is TrialStatus.COMPLETED else None
        if status is TrialStatus.COMPLETED and values is None:
            log.warning("trial %s completed without the objective metric(s) %s as finite numbers: told as failed",
                        trial.experiment_id, ", ".join(o.metric for o in self.objectives))
        if values is None:
            self.failed += 1
        asked = self._asked.pop(trial.key, None)
        if asked is None:  # replayed from the journal: the study learns it as a finished trial
            state = optuna.trial.TrialState.COMPLETE if values is not None else optuna.trial.TrialState.FAIL
            self.study.add_trial(optuna.trial.create_trial(
                params=self._to_study(trial.params), distributions=self.distributions, state=state,
                values=values if values is not None else None,
                user_attrs={"experiment_id": trial.experiment_id}))
        elif values is not None:
            self.study.tell(asked, values)
        else:
            self.study.tell(asked, state=optuna.trial.TrialState.FAIL)

    def _choose(self) -> Sequence[Trial] | None:
        if self._exhausted():
            return None
        asked = self.study.ask(self.distributions)
        trial = self.plan.trial(self.next_index(), self._to_params(asked.params))
        self._asked[trial.key] = asked
        asked.set_user_attr("experiment_id", trial.experiment_id)
        return [trial]

    def _exhausted(self) -> bool:
        return self.registered >= self.plan.budget

    # --- the view -------------------------------------------------------------------------------------
    def best(self) -> list[dict[str, Any]]:
        """The best trial (or, with several objectives, the Pareto front) so far."""
        import optuna
        complete = [t for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            return []
        chosen = self.study.best_trials if len(self.objectives) > 1 else [self.study.best_trial]
        return [{"experiment_id": t.user_attrs.get("experiment_id"), "params": self._to_params(t.params),
                 "values": dict(zip((o.metric for o in self.objectives), t.values))} for t in chosen]

    def summary(self) -> dict[str, Any]:
        summary = super().summary()
        summary.update(sampler=self.sampler_name,
                       objectives=[{"metric": o.metric, "direction": o.direction} for o in self.objectives],
                       pending_trials=("constant liar: running trials count as the worst value seen"
                                       if self.sampler_name == "tpe" else "running trials are not seen by the sampler"),
                       failed=self.failed, best=self.best())
        return summary
