"""The numbers: read a sweep's journal and compute statistics, effects and thresholds.

Nothing here formats text or draws; :mod:`sweeplab.analysis.present` turns these results into
reports and figures. The modules, in the order the data flows:

* :mod:`.loader` finds a sweep on disk and reads its journal into a DataFrame;
* :mod:`.names` resolves the parameter and metric names a user types and orders levels;
* :mod:`.stats` and :mod:`.thresholds` are statistics on plain arrays (tests, CIs, tipping points);
* :mod:`.effects` holds the per-parameter and per-configuration results;
* :mod:`.self_reports` joins and groups the experiment's self-reports;
* :mod:`.sweep_statistics` (:class:`SweepStatistics`) ties them together for one sweep;
* :mod:`.compare` tests several sweeps against each other.

This package's ``__init__`` imports nothing, so importing one module stays cheap.
"""
