"""Fail fast: a sweep whose first attempts all fail alike stops admitting trials (``max_failures``).

A misspelled function, a missing data file or a broken environment fails every trial the same way;
running the other 995 trials only to fail them too wastes hours and hides the one message that
matters. The :class:`FailureGuard` watches the attempts of a run in the order they end: when the
first ``max_failures`` of them all failed (failed, crashed or timed out) with the same error, it
trips, and the coordinator stops admitting trials, lets the running ones end, and the run exits
non-zero with the error. Once one attempt completes, or two errors differ, the guard stands down
for the rest of the run. ``max_failures: 0`` never trips. A resume starts a fresh guard, so after
fixing the cause ``sweeplab resume`` runs the rest.

A completed trial that lacks an expected metric (``expect_metrics``) is turned into a failed one
here too (:func:`check_expected`), before it is journaled and counted.
"""

from __future__ import annotations

import dataclasses
import re

from ..trial import TrialResult, TrialStatus, missing_expected

__all__ = ["FailureGuard", "check_expected", "error_signature"]

# ids, numbers, addresses and times differ between trials that fail for the same reason
_VARYING = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")
_FAILURES = frozenset({TrialStatus.FAILED, TrialStatus.CRASHED, TrialStatus.TIMEOUT})


def error_signature(error: str) -> str:
    """What two failures must share to count as "the same error": the last line of the error, with
    numbers and addresses blanked out.

    >>> error_signature("Traceback ...\\nKeyError: 'lr' in trial 17") == error_signature("KeyError: 'lr' in trial 3")
    True
    """
    lines = [line.strip() for line in (error or "").strip().splitlines() if line.strip()]
    return _VARYING.sub("#", lines[-1]) if lines else ""


def check_expected(result: TrialResult, expected: tuple[str, ...] | list[str]) -> TrialResult:
    """``result`` as failed (final: a rerun reports the same) when it completed without a metric of
    ``expected``; otherwise ``result`` itself."""
    if not expected or result.status is not TrialStatus.COMPLETED:
        return result
    problem = missing_expected(expected, result.metrics, result.extra)
    if problem is None:
        return result
    return dataclasses.replace(result, status=TrialStatus.FAILED, error=problem, invalid_config=True)


class FailureGuard:
    """Trips when the first ``limit`` attempts of a run all failed with the same error (0: never)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._signature: str | None = None
        self._failures = 0
        self._armed = limit > 0
        self.tripped = False

    @property
    def armed(self) -> bool:
        """Whether an attempt's end can still trip the guard."""
        return self._armed

    def record(self, result: TrialResult) -> bool:
        """Count an ended attempt; True when this one trips the guard. Cancelled attempts do not count."""
        if not self._armed or result.status is TrialStatus.CANCELLED:
            return False
        signature = error_signature(result.error)
        if result.status not in _FAILURES or (self._signature is not None and signature != self._signature):
            self._armed = False  # the sweep can work, or fails for several reasons: not a broken setup
            return False
        self._signature = signature
        self._failures += 1
        if self._failures >= self.limit:
            self._armed = False
            self.tripped = True
            return True
        return False

    def message(self, result: TrialResult, sweep_id: str, sweep_dir: str) -> str:
        """What the user reads when the guard tripped on ``result``."""
        last = [line for line in (result.error or "").strip().splitlines() if line.strip()][-1:] or ["(no message)"]
        return (f"stopped admitting trials: the first {self._failures} attempts all failed with the same error "
                f"({result.status.value}: {last[0].strip()[:300]}). Fix the cause and run 'sweeplab resume "
                f"{sweep_id} --sweep-dir {sweep_dir}'; to run every trial whatever fails, set max_failures: 0 "
                "(--max-failures 0)")
