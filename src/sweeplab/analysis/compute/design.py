"""Designed-experiment analysis of a multi-parameter sweep: every parameter with the others held fixed.

Interface (what the report and the API read):

* :func:`analyze_design` ``(frame, parameters, metric, *, block="repeat", level_orders=None)``
  -> :class:`DesignAnalysis`. ``frame`` holds one row per completed trial with a column per
  parameter, the metric column and (optionally) the replicate column ``repeat``. It fits an
  ordinary least-squares model with every parameter as a categorical factor (numeric levels
  too, when a parameter has at most :data:`MAX_CATEGORICAL_LEVELS` levels; more become one
  linear term), every pairwise interaction that the data can estimate, and — when the sweep
  has more than one replicate — a ``C(replicate)`` block: sweeplab's plan gives replicate *r*
  the same seed at every grid point (common random numbers, ``planning/plan.py:derive_seed``),
  so replicates are blocks. Tests are type-II ANOVA F tests (statsmodels ``anova_lm(typ=2)``).
* :class:`TermTest` — one row of that table: ``term`` (``"a"`` or ``"a × b"``), ``factors``
  (the parameter paths it covers), ``kind`` (``main`` | ``interaction`` | ``block``),
  ``df``, ``sum_sq``, ``f``, ``p_value`` (None when untestable, with ``note``), ``share``
  (its share of the sum of squares: the parameter importance) and ``qualifier`` (for a main
  effect: the interaction that makes its marginal "no effect" an average over a crossover).
* :class:`DesignAnalysis` — ``metric``, ``factors`` (after aliasing), ``aliases`` (groups of
  parameters perfectly confounded, e.g. zipped, tested as one factor), ``blocked``, ``n``,
  ``residual_df``, ``terms``, ``warnings`` (imbalance from failed trials, empty cells,
  interactions left out for lack of residual degrees of freedom, aliasing), ``status``
  (``ok`` | ``degenerate`` | ``untestable``) and ``reason``.
* :func:`find_aliases` ``(frame, parameters)`` -> groups of parameters whose levels map one to one.
* :func:`balance_report` ``(frame, parameters)`` -> :class:`Balance` (cell counts, min/max, warning).
* :func:`~sweeplab.analysis.compute.contrasts.level_contrasts` ``(frame, parameter, metric, parameters, *, reference=None,
  all_pairs=False, block="repeat")`` -> list of :class:`LevelContrast`: each level against a
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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    """Groups of parameters whose levels determine each other one to one (zipped sweeps), in order."""
    codes = {p: _codes(frame[p].tolist(), order_levels(frame[p].tolist())) for p in parameters}
    groups: list[list[str]] = []
    for p in parameters:
        for group in groups:
            q = group[0]
            pairs = set(zip(codes[p].tolist(), codes[q].tolist()))
            if len(pairs) == len(set(codes[p].tolist())) == len(set(codes[q].tolist())) and len(pairs) > 1:
                group.append(p)
                break
        else:
            groups.append([p])
    return [tuple(g) for g in groups if len(g) > 1]


def balance_report(frame: pd.DataFrame, factors: Sequence[str]) -> Balance:
    """Counts of rows per observed combination of ``factors`` against the full grid."""
    if not factors or frame.empty:
        return Balance(0, 0, 0, 0)
    keys = [tuple(row) for row in zip(*(_codes(frame[f].tolist(), order_levels(frame[f].tolist()))
                                        for f in factors))]
    counts = pd.Series(keys).value_counts()
    grid = math.prod(len(set(frame[f].map(lambda v: (type(v) is bool, v)))) for f in factors)
    low = int(counts.min()) if len(counts) < grid else int(counts.min())
    high = int(counts.max())
    empty = grid - len(counts)
    warning = ""
    if empty > 0 or low != high:
        warning = (f"unbalanced design: grid points have {0 if empty else low} to {high} values"
                   + (f", {empty} of {grid} grid points have none" if empty else "")
                   + " (failed trials or missing values); the model's type-II tests hold each parameter's "
                     "effect with the others fixed, raw level means mix them")
    return Balance(grid, len(counts), 0 if empty else low, high, warning)


def _prepare(frame: pd.DataFrame, parameters: Sequence[str], metric: str, block: str | None,
             level_orders: Mapping[str, Sequence[Any]] | None):
    """The model frame: y, one coded column per factor (aliases merged), the block; plus notes."""
    data = frame[np.isfinite(frame[metric].to_numpy(dtype=float))]
    notes: list[str] = []
    aliases = find_aliases(data, parameters)
    merged = {q for group in aliases for q in group[1:]}
    for group in aliases:
        notes.append(f"{' and '.join(group)} change together (zipped or confounded): tested as one factor, "
                     "their effects cannot be told apart")
    model = pd.DataFrame({"y": data[metric].to_numpy(dtype=float)})
    factors: dict[str, str] = {}  # column -> display name
    members: dict[str, tuple[str, ...]] = {}
    categorical: dict[str, bool] = {}
    for p in parameters:
        if p in merged:
            continue
        group = next((g for g in aliases if g[0] == p), (p,))
        values = data[p].tolist()
        levels = order_levels(values, (level_orders or {}).get(p))
        if len(levels) < 2:
            notes.append(f"{p} has one level with data: not tested")
            continue
        column = f"f{len(factors)}"
        factors[column] = " ≡ ".join(group)
        members[column] = group
        if len(levels) > MAX_CATEGORICAL_LEVELS and all(is_numeric_level(v) for v in levels):
            model[column] = np.array(values, dtype=float)
            categorical[column] = False
            notes.append(f"{p} has {len(levels)} numeric levels: it enters the model as one linear term")
        else:
            model[column] = [f"L{i}" for i in _codes(values, levels)]
            categorical[column] = True
    blocked = bool(block and block in data.columns and data[block].nunique() > 1)
    if blocked:
        model["rep"] = [f"R{int(r)}" for r in data[block].to_numpy()]
    return data, model, factors, members, categorical, blocked, aliases, notes


def _term(column: str, categorical: Mapping[str, bool]) -> str:
    return f"C({column})" if categorical[column] else column


def analyze_design(frame: pd.DataFrame, parameters: Sequence[str], metric: str, *, block: str | None = "repeat",
                   level_orders: Mapping[str, Sequence[Any]] | None = None) -> DesignAnalysis:
    """Type-II ANOVA of ``metric`` on every parameter, their estimable pairwise interactions and the block."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    data, model, factors, members, categorical, blocked, aliases, notes = _prepare(
        frame, parameters, metric, block, level_orders)
    n = len(model)
    names = list(factors.values())
    balance = balance_report(data, [m[0] for m in members.values()])
    if balance.warning:
        notes.append(balance.warning)
    if not factors:
        return DesignAnalysis(metric, names, aliases, blocked, n, 0, [], notes, "untestable",
                              "no parameter has two levels with data", balance)
    y = model["y"].to_numpy()
    sst = float(((y - y.mean()) ** 2).sum())
    if sst <= 1e-12 * max(1.0, float((y ** 2).sum())):
        return DesignAnalysis(metric, names, aliases, blocked, n, 0, [], notes, "degenerate",
                              "all values identical: nothing can differ", balance)
    mains = [_term(c, categorical) for c in factors]
    used_df = 1 + sum(model[c].nunique() - 1 if categorical[c] else 1 for c in factors)
    if blocked:
        used_df += model["rep"].nunique() - 1
    interactions: list[tuple[str, str]] = []
    for a, b in itertools.combinations(factors, 2):
        df = ((model[a].nunique() - 1) if categorical[a] else 1) * ((model[b].nunique() - 1) if categorical[b] else 1)
        if categorical[a] and categorical[b] and model.groupby([a, b]).ngroups < model[a].nunique() * model[b].nunique():
            notes.append(f"{factors[a]} × {factors[b]}: some combinations have no data, interaction not estimable")
            continue
        if n - used_df - df < MIN_RESIDUAL_DF:
            notes.append(f"{factors[a]} × {factors[b]}: too few trials left to test the interaction "
                         "(add replicates)")
            continue
        interactions.append((a, b))
        used_df += df
    if n - used_df < 1:
        return DesignAnalysis(metric, names, aliases, blocked, n, n - used_df, [], notes, "untestable",
                              "no residual degrees of freedom: replicate the sweep to test its parameters", balance)
    rhs = mains + [f"{_term(a, categorical)}:{_term(b, categorical)}" for a, b in interactions]
    if blocked:
        rhs.append("C(rep)")
    formula = "y ~ " + " + ".join(rhs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.ols(formula, data=model).fit()
        table = anova_lm(fit, typ=2)
    residual_ss = float(table.loc["Residual", "sum_sq"])
    residual_df = float(table.loc["Residual", "df"])
    exact_fit = residual_ss <= 1e-12 * sst
    total_ss = float(table["sum_sq"].sum())
    terms: list[TermTest] = []
    labels = {_term(c, categorical): c for c in factors}
    for row_name, row in table.iterrows():
        if row_name == "Residual":
            continue
        parts = str(row_name).split(":")
        if parts == ["C(rep)"]:
            display, covered, kind = "replicate", (block or "repeat",), "block"
        else:
            cols = [labels[p] for p in parts]
            display = " × ".join(factors[c] for c in cols)
            covered = tuple(q for c in cols for q in members[c])
            kind = "main" if len(cols) == 1 else "interaction"
        ss = max(float(row["sum_sq"]), 0.0)
        if ss <= 1e-12 * sst:
            ss = 0.0
        p_value = None if exact_fit or math.isnan(row["PR(>F)"]) else float(row["PR(>F)"])
        f_value = None if p_value is None else float(row["F"])
        if ss == 0.0 and not exact_fit:
            f_value, p_value = 0.0, 1.0
        terms.append(TermTest(display, covered, kind, float(row["df"]), ss, f_value, p_value,
                              ss / total_ss if total_ss > 0 else 0.0,
                              note="the model fits exactly: no test" if exact_fit else ""))
    terms = _qualify(terms)
    model_text = "metric ~ " + " + ".join([*names, *(f"{factors[a]} × {factors[b]}" for a, b in interactions)]
                                          + (["replicate (block)"] if blocked else []))
    status, reason = ("untestable", "the model fits exactly: no residual to test against") if exact_fit else ("ok", "")
    return DesignAnalysis(metric, names, aliases, blocked, n, residual_df, terms, notes, status, reason, balance,
                          model_text)


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
