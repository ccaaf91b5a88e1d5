"""Which metric a report centres on, and in which direction.

Interface:

* :func:`choose_objective` ``(config, metrics, *, metric=None, minimize=None)`` ->
  :class:`ObjectiveChoice` (``metric``, ``direction``: ``maximize`` | ``minimize``, ``source``:
  ``argument`` | ``spec`` | ``default``, ``reason``: one sentence the report prints).
  Precedence: an explicit ``metric`` argument; else the spec's first objective
  (``sweep_config.json`` -> ``spec`` -> ``objective``); else the first metric the trials
  reported other than ``duration`` (the runner's declared order), minimized, and the reason says so.
"""

from __future__ import annotations
