"""The words and pictures: report documents, their text and Markdown forms, plot data and figures.

Presenters take what :mod:`sweeplab.analysis.compute` computed (a
:class:`~sweeplab.analysis.compute.sweep_statistics.SweepStatistics` or its result dataclasses)
and never import the :class:`~sweeplab.analysis.analyzer.SweepAnalyzer` facade.

* :mod:`.document` is a report as blocks (headings, paragraphs, tables) and number formatting;
* :mod:`.render` renders blocks as plain text or Markdown;
* :mod:`.summary` builds the summary report's sections; :mod:`.compare` the comparison's;
* :mod:`.plot_data` writes ``plot_data.json``; :mod:`.figures` draws the PNGs from it (standalone:
  copied into ``plot_sweep.py``); :mod:`.plots` writes data, figures and that script.

This package's ``__init__`` imports nothing, so importing one module stays cheap.
"""
