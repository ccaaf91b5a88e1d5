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
* :func:`level_contrasts` ``(frame, parameter, metric, parameters, *, reference=None,
  all_pairs=False, block="repeat")`` -> list of :class:`LevelContrast`: each level against a
  reference level (default: the first in order) or all pairs, from the additive model (all
  main effects + block), with t-based 95 % intervals and Holm-adjusted p-values. This is how
  nominal (non-numeric) parameters are compared — never "adjacent" in spec order.
* :func:`parameter_importance` ``(design)`` -> ``{term: share}`` (type-II sums of squares over
  their total with the residual; ``"residual"`` included).
"""

from __future__ import annotations
