"""What the trials returned for each metric that is not a finite number, counted per level.

Interface:

* :class:`ValueCounts` (``finite``, ``nan``, ``inf`` (either sign), ``non_numeric``,
  ``absent``: completed trials that did not report the metric) for one metric at one level
  (or overall); ``unusable`` = nan + inf + non_numeric.
* :class:`MetricValueReport` (``metric``, ``overall``: ValueCounts, ``by_level``:
  {parameter: {level: ValueCounts}}, ``levels_without_values``: {parameter: [levels whose
  completed trials gave no finite value]}, ``note``).
* :func:`value_report` ``(frame, kinds, metric, parameters, level_orders)`` -> MetricValueReport.
  ``kinds`` is the loader's :attr:`SweepData.value_kinds` frame (one code per trial and metric).
* :func:`no_metric_trials` ``(frame, kinds)`` -> the number of completed trials that reported no metric at all.

The loader reads finite numbers from ``metrics_json`` and the others from ``extra_json``
(non-finite floats as ``"nan"``, ``"inf"``, ``"-inf"``; other values as JSON); a journal
written before ``extra_json`` existed may still hold NaN in ``metrics_json``, which counts as nan.
"""

from __future__ import annotations
