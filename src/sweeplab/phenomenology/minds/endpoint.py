"""The config's ``mind`` given as a mapping: a model behind a server, and how to reach it.

::

    "mind": {"backend": "openai", "base_url": "http://127.0.0.1:8080/v1", "model": "smollm2",
             "api_key_env": "OPENAI_API_KEY"}

``backend``      ``openai``: any server with OpenAI's ``/v1/chat/completions`` (Ollama, llama.cpp's
                 ``llama-server`` or ``python -m llama_cpp.server``, vLLM, a Jetson's llama-server)
``base_url``     what OpenAI clients take: ``http://host:port/v1`` (a bare ``http://host:port`` gets ``/v1``)
``model``        the model's name on that server (``llama3.2:1b`` for Ollama; servers of one model take any)
``api_key_env``  optional: the environment variable holding the key sent as ``Authorization: Bearer``
                 (the key itself never goes into a config)
``timeout_seconds``  optional, default 120: how long one request may take
``retries``      optional, default 3: further attempts after a timeout, a refused connection or a 5xx

:func:`validate_mind_mapping` checks a mapping and returns it with its defaults filled in: the config keeps
a plain mapping, so it is stored and dumped as it was written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ...errors import did_you_mean

__all__ = ["Endpoint", "validate_mind_mapping", "ENDPOINT_KEYS"]

#: every key of the mapping, with its default (None: required)
ENDPOINT_KEYS: dict[str, Any] = {"backend": None, "base_url": None, "model": None, "api_key_env": None,
                                 "timeout_seconds": 120.0, "retries": 3}
_REQUIRED = {
    "backend": "the kind of server (available: openai)",
    "base_url": "the server's OpenAI-compatible address, e.g. 'http://127.0.0.1:8080/v1'",
    "model": "the model's name on the server, e.g. 'llama3.2:1b' for Ollama",
}
MAX_RETRIES = 10


@dataclass(frozen=True)
class Endpoint:
    """A validated ``mind`` mapping (build it with :meth:`from_mapping`)."""

    backend: str
    base_url: str
    model: str
    api_key_env: str | None = None
    timeout_seconds: float = 120.0
    retries: int = 3

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], backends: Collection[str]) -> Endpoint:
        """Validate ``mapping`` (its backend one of ``backends``); raises ValueError naming the key, the value
        and what was expected."""
        return cls(**validate_mind_mapping(mapping, backends))


def _fail(message: str) -> ValueError:
    return ValueError(f"mind mapping: {message}")


def validate_mind_mapping(mapping: Mapping[str, Any], backends: Collection[str]) -> dict[str, Any]:
    """``mapping`` checked (its backend one of ``backends``), with defaults filled in and ``base_url``
    normalised; ValueError when it is wrong.

    >>> validate_mind_mapping({"backend": "openai", "base_url": "http://127.0.0.1:8080", "model": "m"},
    ...                       ["openai"])["base_url"]
    'http://127.0.0.1:8080/v1'
    """
    unknown = [key for key in mapping if key not in ENDPOINT_KEYS]
    if unknown:
        key = str(unknown[0])
        raise _fail(f"unknown key {key!r}: expected {', '.join(ENDPOINT_KEYS)}"
                    f"{did_you_mean(key, list(ENDPOINT_KEYS))}")
    missing = [key for key in _REQUIRED if key not in mapping]
    if missing:
        raise _fail("; ".join(f"'{key}' is missing: {_REQUIRED[key]}" for key in missing))
    backend = mapping["backend"]
    if backend not in backends:
        raise _fail(f"backend {backend!r} is unknown: available backends are {', '.join(backends)}"
                    f"{did_you_mean(str(backend), list(backends))}")
    settings = {key: mapping.get(key, default) for key, default in ENDPOINT_KEYS.items()}
    for key in ("base_url", "model"):
        if not isinstance(settings[key], str) or not settings[key].strip():
            raise _fail(f"'{key}' = {settings[key]!r}: expected a non-empty string, {_REQUIRED[key]}")
    url = urlsplit(settings["base_url"].strip())
    if url.scheme not in ("http", "https") or not url.netloc:
        raise _fail(f"'base_url' = {settings['base_url']!r}: expected an http:// or https:// address, "
                    f"{_REQUIRED['base_url']}")
    path = url.path.rstrip("/") or "/v1"
    settings["base_url"] = f"{url.scheme}://{url.netloc}{path}"
    key_env = settings["api_key_env"]
    if key_env is not None and (not isinstance(key_env, str) or not key_env.strip() or " " in key_env.strip()):
        raise _fail(f"'api_key_env' = {key_env!r}: expected the name of an environment variable that holds the "
                    "key (e.g. 'OPENAI_API_KEY'), never the key itself")
    timeout = settings["timeout_seconds"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise _fail(f"'timeout_seconds' = {timeout!r}: expected a number of seconds above 0, at most 3600")
    settings["timeout_seconds"] = float(timeout)
    retries = settings["retries"]
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise _fail(f"'retries' = {retries!r}: expected a whole number from 0 to {MAX_RETRIES}")
    return settings
