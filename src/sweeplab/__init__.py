"""sweeplab: automated experiment parameter sweeps that never lose a result.

Every public name is imported on first use (PEP 562), so ``import sweeplab`` costs next to
nothing: trial processes and ``sweeplab --help`` import the package without the engine,
pydantic or pandas.

>>> import sweeplab
>>> sweeplab.SpecError.__name__
'SpecError'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ below
    from .analysis import SweepAnalyzer
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
    from .planning.spec import load_spec
    from .sweep import ExperimentSweep, LabSweepResult, SweepResult, SweepResults

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "ExperimentSweep",
    "SweepResult",
    "SweepResults",
    "LabSweepResult",
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

#: public name -> the module that defines it
_LAZY: dict[str, str] = {
    "ExperimentSweep": "sweeplab.sweep",
    "SweepResult": "sweeplab.sweep",
    "SweepResults": "sweeplab.sweep",
    "LabSweepResult": "sweeplab.sweep",
    "SweepAnalyzer": "sweeplab.analysis",
    "load_spec": "sweeplab.planning.spec",
    **{name: "sweeplab.errors" for name in ("SweepError", "UserError", "SpecError", "PathError", "ConfigError",
                                           "SweepExistsError", "SweepNotFoundError", "DriftError",
                                           "SweepLockedError")},
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sweeplab' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
