"""Mind backends: what produces the mind's words. Found by name, imported only when used.

``simulated`` is the embedded synthetic model (:mod:`.simulated`); ``llama`` a real language
model, a GGUF file run by llama.cpp (:mod:`.llama`, ``pip install 'sweeplab[llm]'``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Mind

__all__ = ["MIND_BACKENDS", "available_minds", "load_mind"]

#: mind name -> "module:Class"
MIND_BACKENDS: dict[str, str] = {
    "simulated": "sweeplab.phenomenology.minds.simulated:SimulatedMind",
    "llama": "sweeplab.phenomenology.minds.llama:LlamaMind",
}


def available_minds() -> list[str]:
    """Names accepted by the config's ``mind`` field."""
    return sorted(MIND_BACKENDS)


def load_mind(name: str) -> type[Mind]:
    """Return the mind class registered as ``name`` (the config has already checked the name)."""
    module_name, _, attr = MIND_BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)
