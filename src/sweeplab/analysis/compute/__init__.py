"""The numbers: read a sweep's journal and compute statistics, effects and thresholds.

Nothing here formats text or draws; :mod:`sweeplab.analysis.present` turns these results into
reports and figures. The modules, in the order the data flows:

* :mod:`.loader` finds a sweep on disk and reads its journal into a DataFrame;
* :mod:`.names` resolves the parameter and metric names a user types and orders levels;
* :mod:`.values` counts what trials returned that is not a finite number (nan, inf, text, nothing);
* :mod:`.stats`, :mod:`.rank_tests` and :mod:`.thresholds` are statistics on plain arrays (t
  intervals, exact/permutation rank tests, degenerate cases, relative changes with intervals);
* :mod:`.changepoints` says whether a change is a step, gradual or flat (BIC over constant,
  linear, logistic and step models);
* :mod:`.effects` holds the per-parameter and per-configuration results;
* :mod:`.design` (with :mod:`.anova`) is the designed-experiment model: every parameter with the
  others held fixed, pairwise interactions, the replicate block, aliasing and imbalance, and the
  variance shares that rank the parameters; :mod:`.contrasts` compares nominal levels;
* :mod:`.multiplicity` (Benjamini-Hochberg over metrics x terms), :mod:`.power` (smallest
  attainable p, minimal detectable effect) and :mod:`.objective` (which metric, which direction, why);
* :mod:`.self_reports` joins and groups the experiment's self-reports;
* :mod:`.sweep_statistics` (:class:`SweepStatistics`) ties them together for one sweep;
* :mod:`.compare` tests several sweeps against each other.

This package's ``__init__`` imports nothing, so importing one module stays cheap.
"""
