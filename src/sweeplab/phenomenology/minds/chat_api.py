"""One conversation turn over OpenAI's ``/v1/chat/completions``, with retries (standard library only).

What happens to a request, by what comes back::

    200 with JSON                         the answer
    connection refused / reset, timeout,  tried again after 0.5 s, 1 s, 2 s ... (``retries`` times),
    5xx, 429, a 200 that is not JSON      then ServerUnavailable with the last reason
    4xx saying the context is too long    ContextOverflow: the conversation does not fit (the mind's crash)
    any other 4xx (bad model, bad key)    ServerRefused at once, with the server's own message

Exceptions::

    MindDied (minds.base)        the experiment cannot go on: recorded as failed, with the reason
     ├── ServerUnavailable       the server did not answer
     └── ServerRefused           the server answered no
    ContextOverflow              not an error of the experiment: the jar's crash
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .base import MindDied

__all__ = ["ChatClient", "ServerUnavailable", "ServerRefused", "ContextOverflow", "server_message",
           "BACKOFF_SECONDS"]

log = logging.getLogger(__name__)

#: the first wait before a retry; each later wait doubles
BACKOFF_SECONDS = 0.5
_OVERFLOW_CODES = {"context_length_exceeded", "exceed_context_size_error"}
_OVERFLOW_WORDS = re.compile(r"context (?:length|size|window)|maximum context|exceeds? the (?:available )?context"
                             r"|too many tokens|prompt is too long", re.IGNORECASE)


class ServerUnavailable(MindDied):
    """The model server did not answer (refused connections, timeouts, 5xx) in any attempt."""


class ServerRefused(MindDied):
    """The model server refused the request (a 4xx: a model it does not have, a bad key); not retried."""


class ContextOverflow(Exception):
    """The server says the conversation and the reply do not fit its context."""


def server_message(body: bytes) -> tuple[str, str]:
    """(message, code) of an error answer: OpenAI's ``{"error": {"message", "code"}}``, vLLM's ``{"message"}``,
    FastAPI's ``{"detail"}``, or the text itself."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500] or "(no message)", ""
    if not isinstance(data, dict):
        return text[:500], ""
    error = data.get("error", data)
    if isinstance(error, str):
        return error[:500], ""
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or data.get("detail") or text
        code = str(error.get("code") or error.get("type") or "")
        return str(message)[:500], code
    return text[:500], ""


@dataclass
class ChatClient:
    """Posts chat requests to ``base_url`` (``http://host:port/v1``)."""

    base_url: str
    api_key: str | None = None
    timeout_seconds: float = 120.0
    retries: int = 3

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/chat/completions``; the parsed answer (see the module docstring for failures)."""
        return self.post("/chat/completions", body)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON to ``base_url + path``, retrying what may pass (see the module docstring)."""
        url = self.base_url + path
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        started = time.monotonic()
        attempts = self.retries + 1
        reason = ""
        for attempt in range(attempts):
            if attempt:
                wait = BACKOFF_SECONDS * 2 ** (attempt - 1)
                log.warning("model server at %s: %s; attempt %d of %d in %.1f s", url, reason, attempt + 1,
                            attempts, wait)
                time.sleep(wait)
            try:
                return self._once(url, data, headers)
            except urllib.error.HTTPError as exc:
                message, code = server_message(exc.read() or b"")
                if exc.code >= 500 or exc.code == 429:
                    reason = f"HTTP {exc.code}: {message}"
                    continue
                if code in _OVERFLOW_CODES or _OVERFLOW_WORDS.search(message):
                    raise ContextOverflow(f"HTTP {exc.code}: {message}") from None
                raise ServerRefused(f"the model server at {url} refused the request (HTTP {exc.code}): "
                                    f"{message}") from None
            except urllib.error.URLError as exc:
                reason = f"cannot connect ({getattr(exc.reason, 'strerror', None) or exc.reason})"
            except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if isinstance(exc, TimeoutError):
                    reason = f"no answer within {self.timeout_seconds:g} s"
            except ValueError as exc:  # a 200 that is not JSON: a proxy's page, a server starting up
                reason = f"the answer is not JSON ({exc})"
        seconds = time.monotonic() - started
        raise ServerUnavailable(f"the model server at {url} did not answer in {attempts} attempts over "
                                f"{seconds:.1f} s: {reason}")

    def _once(self, url: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            answer = json.loads(response.read().decode("utf-8"))
        if not isinstance(answer, dict):
            raise ValueError(f"expected a JSON object, got {type(answer).__name__}")
        return answer
