"""Write a sweep's plot data, its figures and the standalone script that redraws them.

Figures are drawn by :mod:`sweeplab.analysis.present.figures` from the plot data alone, so
``plot_sweep.py`` (written by :func:`write_viz_script`) produces exactly the same files.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import figures
from .plot_data import build_plot_data, write_plot_data

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics
    from ..compute.objective import ObjectiveChoice

__all__ = ["PLOT_DATA_NAME", "FIGURES_DIR", "VIZ_SCRIPT_NAME", "write_plots", "write_viz_script"]

log = logging.getLogger(__name__)

PLOT_DATA_NAME = "plot_data.json"
FIGURES_DIR = "figures"
VIZ_SCRIPT_NAME = "plot_sweep.py"


def write_plots(sweep: SweepStatistics, folder: Path | None = None, metrics: Sequence[str] | None = None,
                objective: ObjectiveChoice | None = None) -> tuple[Path, list[Path]]:
    """Write ``plot_data.json`` and the PNG figures (under ``figures/``) into ``folder``.

    ``folder`` defaults to the sweep's folder; ``metrics`` limits the figures to those metrics
    (every metric by default). Returns the data file and the figure paths.
    """
    folder = Path(folder) if folder is not None else sweep.folder
    data = build_plot_data(sweep, metrics, objective)
    data_path = folder / PLOT_DATA_NAME
    write_plot_data(data, data_path)
    written = figures.render_all(data, folder / FIGURES_DIR)
    log.info("wrote %s and %d figures in %s", data_path, len(written), folder / FIGURES_DIR)
    return data_path, written


def write_viz_script(folder: Path) -> Path:
    """Write ``plot_sweep.py``, a matplotlib-only script that redraws the figures from ``plot_data.json``."""
    header = ('#!/usr/bin/env python3\n'
              '# Written by `sweeplab analyze --viz-script`. Needs only Python and matplotlib (and NumPy).\n'
              '# Usage: python plot_sweep.py [plot_data.json] [--out figures/]\n')
    path = Path(folder) / VIZ_SCRIPT_NAME
    path.write_text(header + inspect.getsource(figures), encoding="utf-8")
    path.chmod(0o755)
    return path
