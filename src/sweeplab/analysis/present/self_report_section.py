"""The self-report section of the summary report: what the minds said, per parameter level."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..compute.names import short_name
from ..exceptions import NoSelfReportDataError
from .document import Block, Heading, Paragraph, Table, fmt_num, level_text

if TYPE_CHECKING:
    from ..compute.sweep_statistics import SweepStatistics

__all__ = ["self_report_blocks", "TOP_QUESTIONS"]

#: the report lists this many of the most asked questions
TOP_QUESTIONS = 10


def self_report_blocks(a: SweepStatistics) -> list[Block]:
    """The self-report section: questions asked, responses per level of each parameter."""
    blocks: list[Block] = [Heading("Self-reports")]
    if not a.has_self_reports:
        runner = a.config.get("runner", "unknown")
        blocks.append(Paragraph(f"No self-report data: the sweep's database has no self_reports table "
                                f"(runner {runner!r} records none)."))
        return blocks
    try:
        reports = a.self_reports()
    except NoSelfReportDataError:
        blocks.append(Paragraph("No self-report data: no completed trial of this sweep recorded a self-report."))
        return blocks
    trials = reports["experiment_id"].nunique()
    questions = reports.groupby("question", sort=False).agg(responses=("response", "size"),
                                                            trials=("experiment_id", "nunique"))
    questions = questions.sort_values("responses", ascending=False, kind="stable")
    blocks.append(Paragraph(f"{len(reports)} self-reports from {trials} completed trials; "
                            f"{len(questions)} distinct questions."))
    rows = [[(q[:70] + "...") if len(q) > 73 else q, str(int(r.responses)), str(int(r.trials))]
            for q, r in questions.head(TOP_QUESTIONS).iterrows()]
    blocks.append(Table(["question", "responses", "trials"], rows, caption="Most asked questions"))
    # Responses repeat a lot: count the words of each distinct response once.
    codes, distinct = pd.factorize(reports["response"])
    words = np.array([len(r.split()) for r in distinct], dtype=float)[codes] if len(codes) else np.zeros(0)
    trial_position = reports["trial_position"].to_numpy()
    for path in a.parameters:
        levels, level_codes = a.level_codes(path)
        report_codes = level_codes[trial_position]
        responses = np.bincount(report_codes, minlength=len(levels))
        trials = np.bincount(level_codes[np.unique(trial_position)], minlength=len(levels))
        word_sums = np.bincount(report_codes, weights=words, minlength=len(levels))
        rows = []
        for i, level in enumerate(levels):
            if responses[i]:
                rows.append([level_text(level), str(int(responses[i])), fmt_num(responses[i] / trials[i]),
                             fmt_num(float(word_sums[i] / responses[i]))])
            else:
                rows.append([level_text(level), "0", "n/a", "n/a"])
        blocks.append(Table([short_name(path), "responses", "per trial", "mean words"], rows,
                            caption=f"Self-reports by {short_name(path)}"))
    return blocks
