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
    "ExperimentSweep",
    "SweepResult",
    "SweepAnalyzer",
    "load_spec",
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


# Imported on first use: ``import sweeplab`` stays cheap for trial processes and the CLI.
_LAZY = {
    "ExperimentSweep": "sweeplab.sweep",
    "SweepResult": "sweeplab.sweep",
    "SweepAnalyzer": "sweeplab.analysis",
    "load_spec": "sweeplab.planning.spec",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sweeplab' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)
