"""A language model behind an OpenAI-compatible server as the mind (Ollama, llama.cpp, vLLM, a Jetson).

Select it with a mapping as the config's ``mind`` (keys: :mod:`.endpoint`)::

    "mind": {"backend": "openai", "base_url": "http://127.0.0.1:11434/v1", "model": "llama3.2:1b"}

* **Words.** The same conversation the ``llama`` mind gets, shaped by the same
  :func:`~.llama.chat_turns` (one system turn, then user and assistant alternating; notices of the
  jar as user turns marked ``[jar]``), sent as chat messages to ``/chat/completions`` with the
  reply cap, temperature 0.7 and a seed drawn from the experiment seed and the reply's number. The
  server applies the model's chat template. Repeatable only as far as the server honours seeds.
* **Memory footprint: the context it holds.** The model's weights live in the server, not in the
  jar, so the footprint counts only the conversation the server holds for the mind: the prompt and
  reply tokens of its last answer as the server counted them (the jar's own estimate when that is
  larger) at :data:`CACHE_BYTES_PER_TOKEN` each, about the key/value cache of a small model. A jar
  whose ``ram_limit_gb`` is below that crashes the mind as it would a local one.
* **Context overflow is the jar's crash.** When the server counts more tokens than
  ``context_window`` (prompt plus reply), or refuses the request because it does not fit its own
  context (a 4xx saying so; the reply is then empty), no memory holds the context: the footprint
  is infinite, so at the end of that cycle the mind crashes in its jar (whatever ``ram_limit_gb``),
  is resurrected with an empty context, and the footprint counts again from zero.
* **Failures.** Refused connections, timeouts and 5xx answers are retried (``retries``, waits of
  0.5, 1, 2 ... s); if no attempt succeeds, :class:`~.chat_api.ServerUnavailable`. Any other 4xx (a
  model the server does not have, a bad key) is :class:`~.chat_api.ServerRefused` at once, with the
  server's message. Both are :class:`~.base.MindDied`: the experiment is recorded as failed and the
  command prints the reason (exit 1), no traceback.
* **Resurrection** takes no time: the server keeps the model loaded; the mind's context starts empty.
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any, ClassVar

from ..memory import count_tokens
from .base import Mind, MindReply, MindRequest
from .chat_api import ChatClient, ContextOverflow, ServerRefused, ServerUnavailable
from .endpoint import Endpoint
from .llama import TEMPERATURE, chat_turns

__all__ = ["OpenAIMind", "CACHE_BYTES_PER_TOKEN", "ServerRefused", "ServerUnavailable"]

log = logging.getLogger(__name__)

#: what one token of held context counts for in the jar (SmolLM2 135M: 23 kB, Gemma 3 270M: 18 kB, 16-bit cache)
CACHE_BYTES_PER_TOKEN = 32_000


class OpenAIMind(Mind):
    """A model behind an OpenAI-compatible server (see the module docstring).

    Made by :func:`~sweeplab.phenomenology.minds.load_mind` from the config's mapping as a class bound to its
    :class:`~.endpoint.Endpoint`; ``model_path`` is not used.
    """

    name: ClassVar[str] = "openai"
    synthetic: ClassVar[bool] = False
    #: the server this class talks to (set on the class :meth:`bound` makes)
    endpoint: ClassVar[Endpoint | None] = None

    @classmethod
    def bound(cls, endpoint: Endpoint) -> type[OpenAIMind]:
        """A subclass whose minds talk to ``endpoint`` (the experiment builds minds from a class)."""
        return type(cls.__name__, (cls,), {"endpoint": endpoint, "__module__": cls.__module__,
                                           "__doc__": cls.__doc__})

    def __init__(self, *, model_path: str, seed: int, cpu_threads: int = 1, gpu_layers: int = 0,
                 context_window: int = 4096, endpoint: Endpoint | None = None) -> None:
        super().__init__(model_path=model_path, seed=seed, cpu_threads=cpu_threads, gpu_layers=gpu_layers,
                         context_window=int(context_window))
        settings = endpoint or type(self).endpoint
        if settings is None:
            raise TypeError("OpenAIMind needs an endpoint: OpenAIMind(..., endpoint=Endpoint.from_mapping({...}))")
        self.settings = settings
        api_key = None
        if settings.api_key_env:
            api_key = os.environ.get(settings.api_key_env, "").strip()
            if not api_key:
                raise ServerRefused(f"mind.api_key_env names the environment variable {settings.api_key_env!r}, "
                                    "which is not set here: set it to the server's key")
        self.client = ChatClient(settings.base_url, api_key, settings.timeout_seconds, settings.retries)
        self.chat = True  # the server applies the model's chat template
        self._replies = 0
        self._held = 0
        self._overflowed = False

    @property
    def overflowed(self) -> bool:
        """True once the context did not fit ``context_window`` (until the resurrection)."""
        return self._overflowed

    def respond(self, request: MindRequest) -> MindReply:
        self._replies += 1
        body: dict[str, Any] = {
            "model": self.settings.model, "messages": chat_turns(request.messages), "max_tokens": request.max_tokens,
            "temperature": TEMPERATURE, "seed": (self.seed * 1_000_003 + self._replies) % 2**31, "stream": False}
        started = time.perf_counter()
        try:
            answer = self.client.chat(body)
        except ContextOverflow as exc:
            self._overflowed = True
            log.info("the context no longer fits the model server's: %s", exc)
            return MindReply(text="", prompt_tokens=0, completion_tokens=0, seconds=time.perf_counter() - started)
        seconds = time.perf_counter() - started
        text = _content(answer)
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
        prompt_tokens = _count(usage.get("prompt_tokens"), sum(count_tokens(turn["content"])
                                                              for turn in body["messages"]))
        completion_tokens = _count(usage.get("completion_tokens"), count_tokens(text) if text else 0)
        self._held = prompt_tokens + completion_tokens
        if self._held > self.context_window:
            self._overflowed = True
        return MindReply(text=text.strip(), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                         seconds=seconds)

    def footprint_gb(self, context_tokens: int, processed_tokens: int, context_window: int) -> float:
        held = max(self._held, context_tokens)
        if self._overflowed or held > context_window:
            return math.inf
        return held * CACHE_BYTES_PER_TOKEN / 1e9

    def restart(self) -> float:
        self._held = 0
        self._overflowed = False
        return 0.0


def _content(answer: dict[str, Any]) -> str:
    """The reply text of a chat completion; ServerUnavailable when the answer has none."""
    try:
        content = answer["choices"][0]["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ServerUnavailable(f"the model server's answer has no reply: {str(answer)[:300]}") from None
    return content if isinstance(content, str) else ""


def _count(value: Any, fallback: int) -> int:
    """A token count the server reported, or ``fallback`` (the lab's estimate) when it reported none."""
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else fallback
