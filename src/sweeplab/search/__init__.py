"""Searches: strategies that choose their trials while the sweep runs (bayesian, refine).

The coordinator asks :func:`open_search` for the sweep's :class:`~.source.SearchSource`, built from
the journal, and hands it to the scheduler in place of a list of trials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .source import SEARCH_FILE, SearchSource

if TYPE_CHECKING:
    from ..journal.writer import Journal
    from ..planning.resolve import ResolvedSweep
    from ..planning.search_plan import SearchPlan

__all__ = ["open_search", "SearchSource", "SEARCH_FILE"]


def open_search(sweep: ResolvedSweep, plan: SearchPlan, journal: Journal) -> SearchSource:
    """The search of ``sweep`` (strategy bayesian or refine), rebuilt from what ``journal`` holds."""
    if sweep.spec.strategy == "refine":
        from .refine_source import RefineSearch
        return RefineSearch(sweep, plan, journal)
    from .bayesian import BayesianSearch  # imports Optuna: only a bayesian sweep pays for it
    return BayesianSearch(sweep, plan, journal)
