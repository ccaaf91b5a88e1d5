"""Designed-experiment analysis of a multi-parameter sweep: every parameter with the others held fixed.

Interface (what the report and the API read):

* :func:`analyze_design` ``(frame, parameters, metric, *, block="repeat", level_orders=None,
  cache=None)`` -> :class:`DesignAnalysis`. ``frame`` holds one row per completed trial with a column per
  parameter, the metric column and (optionally) the replicate column ``repeat``. It fits an
  ordinary least-squares model with every parameter as a categorical factor (numeric levels
  too, when a parameter has at most :data:`MAX_CATEGORICAL_LEVELS` levels; more become one
  linear term), every pairwise interaction that the data can estimate, and — when the sweep
  has more than one replicate — a ``C(replicate)`` block: sweeplab's plan gives replicate *r*
  the same seed at every grid point (common random numbers, ``planning/plan.py:derive_seed``),
  so replicates are blocks. Tests are type-II ANOVA F tests (:mod:`.anova`: statsmodels'
  ``anova_lm(typ=2)`` table, computed with NumPy least squares).
* :class:`TermTest` — one row of that table: ``term`` (``"a"`` or ``"a × b"``), ``factors``
  (the parameter paths it covers), ``kind`` (``main`` | ``interaction`` | ``block``),
  ``df``, ``sum_sq``, ``f``, ``p_value`` (None when untestable, with ``note``), ``share``
  (its share of the sum of squares: the parameter importance) and ``qualifier`` (for a main
  effect: the interaction that makes its marginal "no effect" an average over a crossover).
* :class:`DesignAnalysis` — ``metric``, ``factors`` (after aliasing), ``aliases`` (groups of
  parameters perfectly confounded, e.g. zipped, tested as one factor named ``a ≡ b``), ``blocked``, ``n``,
  ``residual_df``, ``terms``, ``warnings`` (imbalance from failed trials, empty cells,
  interactions left out for lack of residual degrees of freedom, aliasing), ``status``
  (``ok`` | ``degenerate`` | ``untestable``) and ``reason``.
* :func:`find_aliases` ``(frame, parameters)`` -> groups of parameters whose levels map one to one.
* :func:`balance_report` ``(frame, parameters)`` -> :class:`Balance` (cell counts, min/max, warning).
* :func:`~sweeplab.analysis.compute.contrasts.level_contrasts` ``(frame, parameter, metric,
  parameters, *, reference=None, all_pairs=False, block="repeat")`` -> list of ``LevelContrast``: each level against a
  reference level (default: the first in order) or all pairs, from the additive model (all
  main effects + block), with t-based 95 % intervals and Holm-adjusted p-values. This is how
  nominal (non-numeric) parameters are compared — never "adjacent" in spec order.
* :func:`parameter_importance` ``(design)`` -> ``{term: share}`` (type-II sums of squares over
  their total with the residual; ``"residual"`` included).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .anova import dummies, interaction, type2_anova
from .names import is_numeric_level, level_index, order_levels
from .stats import ALPHA

__all__ = ["MAX_CATEGORICAL_LEVELS", "TermTest", "DesignAnalysis", "Balance",
           "analyze_design", "find_aliases", "balance_report", "parameter_importance"]

log = logging.getLogger(__name__)

#: numeric parameters with more levels than this enter the model as one linear term
MAX_CATEGORICAL_LEVELS = 12
#: interactions are added only while the residual keeps at least this many degrees of freedom
MIN_RESIDUAL_DF = 2


@dataclass(frozen=True)
class TermTest:
    """One term of the type-II ANOVA table."""

    term: str
    factors: tuple[str, ...]
    kind: str  # main | interaction | block
    df: float
    sum_sq: float
    f: float | None
    p_value: float | None
    share: float
    qualifier: str = ""
    note: str = ""

    @property
    def significant(self) -> bool:
        """True when the term's own p-value is below :data:`ALPHA` (before any family adjustment)."""
        return self.p_value is not None and self.p_value < ALPHA


@dataclass(frozen=True)
class Balance:
    """Trials with a value per grid point: equal counts make a balanced design."""

    grid_points: int
    observed_points: int
    min_count: int
    max_count: int
    warning: str = ""

    @property
    def balanced(self) -> bool:
        """True when every grid point has the same number of values."""
        return self.min_count == self.max_count and self.observed_points == self.grid_points


@dataclass(frozen=True)
class DesignAnalysis:
    """The designed-experiment model of one metric over all swept parameters."""

    metric: str
    factors: list[str]
    aliases: list[tuple[str, ...]]
    blocked: bool
    n: int
    residual_df: float
    terms: list[TermTest]
    warnings: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | degenerate | untestable
    reason: str = ""
    balance: Balance | None = None
    model: str = ""  # the formula, in the parameters' names

    def term(self, name: str) -> TermTest | None:
        """The row of ``name`` (a factor, ``"a × b"``, or ``"replicate"``)."""
        for t in self.terms:
            if t.term == name or t.factors == (name,):
                return t
        return None

    @property
    def residual_share(self) -> float:
        """The share of the sum of squares the model leaves unexplained."""
        return max(0.0, 1.0 - sum(t.share for t in self.terms))


def _codes(values: Sequence[Any], levels: Sequence[Any]) -> np.ndarray:
    return np.array(level_index(list(values), list(levels)), dtype=np.intp)


def find_aliases(frame: pd.DataFrame, parameters: Sequence[str]) -> list[tuple[str, ...]]:
    """Groups of parameters whose levels determine each other one to one (zipped sweeps), in order.

    Levels must repeat for a one-to-one map to mean confounding: in a sampled design (random,
    LHS, Sobol) every trial has its own values, so any two parameters map one to one without
    being aliased; those count as aliased only when they are perfectly correlated.
    """
    values = {p: frame[p].tolist() for p in parameters}
    codes = {p: _codes(values[p], order_levels(values[p])) for p in parameters}
    distinct = {p: len(set(codes[p].tolist())) for p in parameters}
    groups: list[list[str]] = []
    for p in parameters:
        for group in groups:
            q = group[0]
            pairs = len(set(zip(codes[p].tolist(), codes[q].tolist())))
            if not pairs == distinct[p] == distinct[q] > 1:
                continue
            if distinct[p] * 2 > len(frame) and not _collinear(values[p], values[q]):
                continue
            group.append(p)
            break
        else:
            groups.append([p])
    return [tuple(g) for g in groups if len(g) > 1]


def _collinear(first: list[Any], second: list[Any]) -> bool:
    """True when two numeric columns are exact linear functions of each other."""
    if not all(is_numeric_level(v) for v in [*first, *second]):
        return False
    a, b = np.array(first, dtype=float), np.array(second, dtype=float)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return False
    return bool(abs(np.corrcoef(a, b)[0, 1]) > 1 - 1e-9)


def balance_report(frame: pd.DataFrame, factors: Sequence[str]) -> Balance:
    """Counts of rows per observed combination of ``factors`` against the full grid."""
    if not factors or frame.empty:
        return Balance(0, 0, 0, 0)
    keys = [tuple(row) for row in zip(*(_codes(frame[f].tolist(), order_levels(frame[f].tolist()))
                                        for f in factors))]
    counts = pd.Series(keys).value_counts()
    grid = math.prod(len(order_levels(frame[f].tolist())) for f in factors)
    low, high = int(counts.min()), int(counts.max())
    empty = grid - len(counts)
    warning = ""
    if empty > 0 or low != high:
        warning = (f"unbalanced design: grid points have {0 if empty else low} to {high} values"
                   + (f", {empty} of {grid} grid points have none" if empty else "")
                   + " (failed trials or missing values); the model's type-II tests hold each parameter's "
                     "effect with the others fixed, raw level means mix them")
    return Balance(grid, len(counts), 0 if empty else low, high, warning)


@dataclass
class _Model:
    """The coded model data: the metric, one entry per factor (aliases merged), the block."""

    y: np.ndarray
    columns: dict[str, np.ndarray]  # display name -> model columns
    members: dict[str, tuple[str, ...]]  # display name -> parameter paths
    codes: dict[str, np.ndarray | None]  # display name -> level codes (None: a linear term)
    block: np.ndarray | None


def _prepare(frame: pd.DataFrame, parameters: Sequence[str], metric: str, block: str | None,
             level_orders: Mapping[str, Sequence[Any]] | None, cache: dict[Any, Any] | None,
             linear: Collection[str] = (),
             ) -> tuple[pd.DataFrame, _Model, list, list[str], Balance]:
    """The finite rows, the coded model, the alias groups, the notes about them and the balance.

    Everything but the metric's values depends only on which trials have a value: metrics
    measured on the same trials share it through ``cache``.
    """
    data = frame[np.isfinite(frame[metric].to_numpy(dtype=float))]
    key = ("structure", data.index.to_numpy().tobytes(), tuple(parameters), block)
    structure = cache.get(key) if cache is not None else None
    if structure is None:
        structure = _structure(data, parameters, block, level_orders, linear)
        if cache is not None:
            cache[key] = structure
    template, aliases, notes, balance = structure
    model = _Model(data[metric].to_numpy(dtype=float), dict(template.columns), dict(template.members),
                   dict(template.codes), template.block)
    return data, model, aliases, list(notes), balance


def _structure(data: pd.DataFrame, parameters: Sequence[str], block: str | None,
               level_orders: Mapping[str, Sequence[Any]] | None,
               linear: Collection[str] = ()) -> tuple[_Model, list, list[str], Balance]:
    notes: list[str] = []
    aliases = find_aliases(data, parameters)
    merged = {q for group in aliases for q in group[1:]}
    for group in aliases:
        notes.append(f"{' and '.join(group)} change together (zipped or confounded): tested as one factor, "
                     "their effects cannot be told apart")
    model = _Model(np.zeros(0), {}, {}, {}, None)
    for p in parameters:
        if p in merged:
            continue
        group = next((g for g in aliases if g[0] == p), (p,))
        values = data[p].tolist()
        levels = order_levels(values, (level_orders or {}).get(p))
        if len(levels) < 2:
            notes.append(f"{p} has one level with data: not tested")
            continue
        name = " ≡ ".join(group)
        model.members[name] = group
        if (len(levels) > MAX_CATEGORICAL_LEVELS or p in linear) and all(is_numeric_level(v) for v in levels):
            column = np.array(values, dtype=float)
            model.columns[name] = (column - column.mean())[:, None]
            model.codes[name] = None
            notes.append(f"{p} has {len(levels)} numeric levels: it enters the model as one linear term"
                         if p not in linear or len(levels) > MAX_CATEGORICAL_LEVELS else
                         f"{p} is sampled ({len(levels)} distinct values): it enters the model as one linear term")
        else:
            codes = _codes(values, levels)
            model.columns[name] = dummies(codes, len(levels))
            model.codes[name] = codes
    if block and block in data.columns and data[block].nunique() > 1:
        reps = data[block].to_numpy()
        model.block = np.unique(reps, return_inverse=True)[1]
    # a linear term (a sampled or many-valued parameter) needs no level of its own filled: only factors count
    balance = balance_report(data, [m[0] for name, m in model.members.items() if model.codes[name] is not None])
    if balance.warning:
        notes.append(balance.warning)
    return model, aliases, notes, balance


def _degrees(model: _Model, name: str) -> int:
    return model.columns[name].shape[1]


def analyze_design(frame: pd.DataFrame, parameters: Sequence[str], metric: str, *, block: str | None = "repeat",
                   level_orders: Mapping[str, Sequence[Any]] | None = None,
                   cache: dict[Any, Any] | None = None, linear: Collection[str] = ()) -> DesignAnalysis:
    """Type-II ANOVA of ``metric`` on every parameter, their estimable pairwise interactions and the block.

    ``cache`` (a dict kept by the caller for one frame) lets metrics measured on the same trials
    share the design's coding, cross-product matrix and factorizations. ``linear`` names numeric
    parameters that enter as one linear term whatever their number of values (sampled ones).
    """
    data, model, aliases, notes, balance = _prepare(frame, parameters, metric, block, level_orders, cache, linear)
    y = model.y
    n = len(y)
    names = list(model.columns)
    blocked = model.block is not None
    if not names:
        return DesignAnalysis(metric, names, aliases, blocked, n, 0, [], notes, "untestable",
                              "no parameter has two levels with data", balance)
    sst = float(((y - y.mean()) ** 2).sum())
    if sst <= 1e-12 * max(1.0, float((y ** 2).sum())):
        return DesignAnalysis(metric, names, aliases, blocked, n, 0, [], notes, "degenerate",
                              "all values identical: nothing can differ", balance)
    # The terms depend on which trials have a value, not on the values: metrics on the same trials share them.
    rows_key = data.index.to_numpy().tobytes()
    terms_key = ("terms", block, tuple(parameters), rows_key)
    shared = cache.get(terms_key) if cache is not None else None
    if shared is None:
        shared = _terms(model, names, n, block)
        if cache is not None:
            cache[terms_key] = shared
    terms, kinds, contains, members, term_notes, used_df = shared
    notes += term_notes
    model.members.update(members)
    if n - used_df < 1:
        return DesignAnalysis(metric, names, aliases, blocked, n, n - used_df, [], notes, "untestable",
                              "no residual degrees of freedom: replicate the sweep to test its parameters", balance)
    key = (tuple(terms), block, tuple(parameters), rows_key)
    table = type2_anova(y, terms, contains, cache, key)
    exact_fit = table.residual_ss <= 1e-12 * sst
    total_ss = sum(r.sum_sq for r in table.rows) + table.residual_ss
    out: list[TermTest] = []
    for row in table.rows:
        ss = 0.0 if row.sum_sq <= 1e-12 * sst else row.sum_sq
        f_value, p_value = (None, None) if exact_fit else (row.f, row.p_value)
        if ss == 0.0 and not exact_fit and row.df > 0 and table.residual_df > 0:
            f_value, p_value = 0.0, 1.0
        out.append(TermTest(row.term, model.members[row.term], kinds[row.term], float(row.df), ss, f_value, p_value,
                            ss / total_ss if total_ss > 0 else 0.0,
                            note="the model fits exactly: no test" if exact_fit else ""))
    model_text = "metric ~ " + " + ".join([t for t in terms if t != "replicate"]
                                          + (["replicate (block)"] if blocked else []))
    status, reason = ("untestable", "the model fits exactly: no residual to test against") if exact_fit else ("ok", "")
    return DesignAnalysis(metric, names, aliases, blocked, n, float(table.residual_df), _qualify(out), notes, status,
                          reason, balance, model_text)


def _qualify(terms: list[TermTest]) -> list[TermTest]:
    """Mark main effects whose marginal 'no effect' averages over a significant interaction."""
    out = []
    for t in terms:
        if t.kind == "main":
            partners = [i for i in terms if i.kind == "interaction" and set(t.factors) <= set(i.factors)
                        and i.significant]
            if partners:
                strongest = min(partners, key=lambda i: i.p_value or 1.0)
                t = TermTest(t.term, t.factors, t.kind, t.df, t.sum_sq, t.f, t.p_value, t.share,
                             qualifier=(f"interaction {strongest.term} (p={strongest.p_value:.2g}): its effect "
                                        "depends on the other parameter"
                                        + (", so 'no main effect' is an average over opposite effects"
                                           if not t.significant else "")), note=t.note)
        out.append(t)
    return out


def parameter_importance(design: DesignAnalysis) -> dict[str, float]:
    """Share of the sum of squares per term (type-II), plus ``residual``; sums to 1 up to imbalance."""
    shares = {t.term: t.share for t in design.terms}
    shares["residual"] = design.residual_share
    return shares


def _terms(model: _Model, names: list[str], n: int, block: str | None) -> tuple[Any, ...]:
    """The model's terms (main effects, estimable pairwise interactions, the block) with their kinds, the
    terms containing each, the members of the new terms, notes on interactions left out, and the df used."""
    terms: dict[str, np.ndarray] = dict(model.columns)
    kinds = {name: "main" for name in names}
    contains: dict[str, list[str]] = {name: [] for name in names}
    members: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    used_df = 1 + sum(_degrees(model, c) for c in names)
    block_df = int(model.block.max()) if model.block is not None else 0
    used_df += block_df
    for a, b in itertools.combinations(names, 2):
        ca, cb = model.codes[a], model.codes[b]
        df = _degrees(model, a) * _degrees(model, b)
        if ca is not None and cb is not None and len(set(zip(ca.tolist(), cb.tolist()))) < \
                (int(ca.max()) + 1) * (int(cb.max()) + 1):
            notes.append(f"{a} × {b}: some combinations have no data, interaction not estimable")
            continue
        if n - used_df - df < MIN_RESIDUAL_DF:
            notes.append(f"{a} × {b}: too few trials left to test the interaction (add replicates)")
            continue
        name = f"{a} × {b}"
        terms[name] = interaction(model.columns[a], model.columns[b])
        kinds[name] = "interaction"
        contains[a].append(name)
        contains[b].append(name)
        members[name] = (*model.members[a], *model.members[b])
        used_df += df
    if model.block is not None and n - used_df >= 1:
        terms["replicate"] = dummies(model.block, block_df + 1)
        kinds["replicate"] = "block"
        members["replicate"] = (block or "repeat",)
    return terms, kinds, contains, members, notes, used_df
