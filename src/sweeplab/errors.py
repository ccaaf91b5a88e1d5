"""The exception tree of sweeplab.

Every error a user can cause derives from :class:`UserError`; the CLI prints its message
(what, where, what was expected, how to fix it) and exits with code 2, without a traceback
and without having written anything.

::

    SweepError
    ├── UserError                 bad input: exit code 2, nothing written
    │   ├── SpecError             the sweep spec (YAML, CLI flags, Python arguments)
    │   │   └── PathError         a dot path that does not exist in the base config
    │   ├── ConfigError           a trial's resolved config is invalid for its runner
    │   ├── SweepExistsError      a sweep id already used, without resume
    │   ├── SweepNotFoundError    a sweep id with no sweep behind it
    │   ├── DriftError            resume with a changed base config or changed values
    │   └── SweepLockedError      another live coordinator owns the sweep
    ├── JournalError              the journal database could not be read or written
    └── ExecutorError             an executor could not start or track a trial
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "SweepError",
    "UserError",
    "SpecError",
    "PathError",
    "ConfigError",
    "SweepExistsError",
    "SweepNotFoundError",
    "DriftError",
    "SweepLockedError",
    "JournalError",
    "ExecutorError",
]


class SweepError(Exception):
    """Root of every error raised by sweeplab."""


class UserError(SweepError):
    """A mistake in what the user gave us. The message is meant for the user as it is."""

    exit_code = 2


class SpecError(UserError):
    """The sweep specification is invalid."""


class PathError(SpecError):
    """A dot path does not resolve in the base config."""


class ConfigError(UserError):
    """An experiment config is invalid for the runner that would execute it."""


class SweepExistsError(UserError):
    """A sweep with this id already exists and resume was not asked for."""


class SweepNotFoundError(UserError):
    """No sweep with this id exists where we looked."""


class DriftError(UserError):
    """Resuming would mix results of a different base config or different parameter values."""


class SweepLockedError(UserError):
    """Another coordinator that is still alive owns this sweep."""


class JournalError(SweepError):
    """The journal database failed."""


class ExecutorError(SweepError):
    """An executor failed to start, track or stop a trial."""


def closest_match(word: str, choices: Iterable[object], cutoff: float = 0.6) -> str | None:
    """The choice most like ``word`` (as :func:`difflib.get_close_matches` judges), or None."""
    found = difflib.get_close_matches(word, [str(choice) for choice in choices], n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[object], cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close: the tail of an error."""
    match = closest_match(word, choices, cutoff)
    return f"; did you mean '{match}'?" if match else ""
