"""Honest change points: is the change over an ordered numeric parameter a step, gradual, or none?

Interface:

* :func:`classify_shape` ``(levels, groups, rng=None, n_boot=1000)`` -> :class:`ShapeFit`.
  Four models are fitted by least squares to every observation (not to level means):
  ``constant`` (1 parameter), ``linear`` (2), ``logistic`` (4: low, high, midpoint, scale)
  and ``step`` (3: a mean on each side and the boundary between two adjacent levels). The
  stated criterion is the Gaussian BIC, ``n log(SSE/n) + k log n``. The shape is

  - ``step`` when the step has the lowest BIC **and** it beats the constant by an F test at
    α = 0.05 (a logistic can become as sharp as a step, so a step only wins when nothing
    smooth fits as well with fewer or equal parameters);
  - ``gradual`` when linear or logistic has the lowest BIC and beats the constant (F test);
    the result carries the slope with its t-based 95 % interval and, for a logistic, the
    midpoint with its 95 % interval (delta method from the fit's covariance);
  - ``flat`` when the constant has the lowest BIC or no model beats it;
  - ``untestable`` (with ``reason``) for fewer than 3 levels with data or no replication.
* :class:`ShapeFit` fields: ``shape``, ``criterion`` (text), ``bic`` (model -> BIC),
  ``best_model``, ``p_value`` (the chosen model against the constant), ``step`` (a
  :class:`StepFit` when a step is fitted: ``before``, ``after``, ``mean_before``,
  ``mean_after``, ``difference`` and its 95 % interval, ``interval_low``/``interval_high``:
  the bootstrap 95 % range of the boundary), ``slope``/``slope_ci``, ``midpoint``/``midpoint_ci``,
  ``reason``.
"""

from __future__ import annotations
