"""The experiment's self-reports, joined to their trials and grouped by a parameter's levels.

Self-reports are read once per sweep (:func:`~sweeplab.analysis.compute.loader.load_self_reports`);
these functions place each report at its trial (``trial_position``: the trial's row among the
completed trials) so that grouping by level reuses the parameter's level codes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["join_to_trials", "responses_by_level", "matching_questions", "keyword_mentions"]


def join_to_trials(reports: pd.DataFrame, completed: pd.DataFrame, parameters: Sequence[str]) -> pd.DataFrame:
    """Keep the reports of ``completed`` trials and add ``trial_position`` and one column per parameter."""
    position = pd.Index(completed["experiment_id"]).get_indexer(reports["experiment_id"])
    reports = reports[position >= 0].reset_index(drop=True)
    position = position[position >= 0]
    reports["trial_position"] = position  # row of the trial among the completed trials
    for path in parameters:
        reports[path] = completed[path].to_numpy()[position]
    return reports


def responses_by_level(levels: list[Any], codes: np.ndarray, reports: pd.DataFrame) -> dict[Any, pd.Series]:
    """The responses of ``reports`` per level, given the completed trials' level ``codes``."""
    report_codes = codes[reports["trial_position"].to_numpy()]
    responses = reports["response"]
    return {lvl: responses[report_codes == i] for i, lvl in enumerate(levels)}


def matching_questions(reports: pd.DataFrame, pattern: str) -> pd.DataFrame:
    """The reports whose question contains ``pattern`` (case-insensitive, literal)."""
    return reports[reports["question"].str.contains(pattern, case=False, regex=False)]


def keyword_mentions(by_level: dict[Any, pd.Series], keyword: str) -> dict[Any, dict[str, float]]:
    """Per level: mention_count, total_responses and mention_rate of ``keyword`` (case-insensitive)."""
    out: dict[Any, dict[str, float]] = {}
    for lvl, responses in by_level.items():
        total = len(responses)
        count = int(responses.str.contains(keyword, case=False, regex=False).sum()) if total else 0
        out[lvl] = {"mention_count": count, "total_responses": total,
                    "mention_rate": count / total if total else math.nan}
    return out
