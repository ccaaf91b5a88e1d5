"""sweeplab: automated experiment parameter sweeps that never lose a result."""

from __future__ import annotations

from .errors import (
    ConfigError,
    DriftError,
    PathError,
    SpecError,
    SweepError,
    SweepExistsError,
    SweepLockedError,
    SweepNotFoundError,
    UserError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "SweepError",
    "UserError",
    "SpecError",
    "PathError",
    "ConfigError",
    "SweepExistsError",
    "SweepNotFoundError",
    "DriftError",
    "SweepLockedError",
]
