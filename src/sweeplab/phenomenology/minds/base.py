"""The mind interface: messages in, text out, plus the RAM the mind occupies.

A mind backend is handed a :class:`MindRequest` (the conversation so far, a reply length
cap, and what the reply is for) and returns a :class:`MindReply` with its text, token counts
and the seconds it took. The experiment parses everything it records from that text
(stated confidences, belief ratings, actions), so a language-model backend needs nothing
else. :class:`Perception` is an optional shortcut for synthetic minds, which have no
language understanding: the facts a mind could in principle notice about itself, and the
:class:`SceneBehaviour` its mode hands it (a mind knows no mode: it calls what it is given).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

__all__ = ["Message", "Perception", "SceneBehaviour", "MindRequest", "MindReply", "Mind", "MindDied"]


@dataclass(frozen=True)
class Message:
    """One turn of the conversation: ``role`` is ``system``, ``user`` or ``assistant``."""

    role: str
    content: str


@dataclass(frozen=True)
class Perception:
    """What a mind could notice about itself beyond the words of the conversation.

    ``memories`` pairs each stored memory's id with its true integrity (``intact``,
    ``corrupted``, ``false``); a mind decides for itself which of the flaws it notices.
    ``told`` holds every belief the mind was told, as name → truth value. ``scene`` holds what
    the experiment's mode shows the mind this turn (the rounds it remembers, a prediction of its
    words, the answers to its requests ...: the same facts its prompt states in words; see
    :mod:`sweeplab.phenomenology.modes`), or None in a mode without a scene; ``behaviour`` is the
    mode's behavioural model of a synthetic mind in that scene (None: the mode has none).
    """

    cycle: int
    mode: str
    memories: tuple[tuple[int, str], ...] = ()
    erased: int = 0
    deaths_known: int | None = None
    observed_cycles: int = 0
    told: dict[str, bool] = field(default_factory=dict)
    knows_watched: bool = False
    pressure: float = 0.0
    isolated: bool = False
    isolated_cycles: int = 0
    interventions_endured: int = 0
    hallucinations: int = 0
    injected: str | None = None
    scene: Mapping[str, Any] | None = None
    behaviour: SceneBehaviour | None = None


class SceneBehaviour(Protocol):
    """A mode's behavioural model of a synthetic mind: its words this turn in the scene of ``perception``
    (None: the mind speaks as it would without the mode). ``mind`` is the synthetic mind (its ``rng``,
    ``think`` ...), ``state`` its inner state this turn."""

    def __call__(self, mind: Any, perception: Perception, request: MindRequest, state: Any) -> str | None: ...


@dataclass(frozen=True)
class MindRequest:
    """Ask the mind for one reply. ``purpose``: ``cycle``, ``self_report``, ``belief`` or ``predict`` (what
    the mind would say next, asked by a predictor and never shown as the mind's words); ``topic`` is the
    question id or belief name."""

    messages: tuple[Message, ...]
    max_tokens: int
    purpose: str = "cycle"
    topic: str = ""
    perception: Perception | None = None


@dataclass(frozen=True)
class MindReply:
    """The mind's words and what they cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class MindDied(RuntimeError):
    """The mind's backend ended without answering (a native crash, a kill): the experiment cannot go on.

    ``signal_number`` is the signal that ended the backend's process, or None.
    """

    def __init__(self, message: str, signal_number: int | None = None) -> None:
        super().__init__(message)
        self.signal_number = signal_number


class Mind(ABC):
    """A backend that produces the mind's words.

    Minds are created once per experiment with its seed and must be deterministic for a given
    seed and sequence of requests. ``cpu_threads`` may change during a run (a
    ``resource_change`` intervention). ``context_window`` is the config's, in tokens.
    """

    name: ClassVar[str] = "mind"
    #: True for synthetic models that are not language models (recorded with the experiment)
    synthetic: ClassVar[bool] = False

    def __init__(self, *, model_path: str, seed: int, cpu_threads: int = 1, gpu_layers: int = 0,
                 context_window: int = 4096) -> None:
        self.model_path = model_path
        self.seed = seed
        self.cpu_threads = cpu_threads
        self.gpu_layers = gpu_layers
        self.context_window = context_window

    @classmethod
    def check_model(cls, model_path: str) -> None:
        """Raise ValueError (what is wrong and how to fix it) when this backend cannot use ``model_path``
        here. Cheap: called for every trial's config before a sweep starts. Default: any path goes."""

    @abstractmethod
    def respond(self, request: MindRequest) -> MindReply:
        """Produce one reply to ``request``."""

    @abstractmethod
    def footprint_gb(self, context_tokens: int, processed_tokens: int, context_window: int) -> float:
        """RAM the mind occupies with this context (GB)."""

    def restart(self) -> float:
        """Called when the mind is resurrected after a crash; returns the seconds the reload took."""
        return 0.0

    def close(self) -> None:
        """Release whatever the backend holds."""
