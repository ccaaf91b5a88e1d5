"""The words the experiment says to the mind: system prompts, questionnaire, belief questions.

Everything here is plain text composed from the config, so a real language model sees the
same situation the simulated mind is modelled on. Each mode changes the system prompt as its
name says; every epistemic-frame flag and custom belief is stated to the mind.

This module imports nothing of the experiment: the schema takes its belief names from here,
and :func:`system_prompt` names what it reads of a config in :class:`PromptConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["MODE_PROMPTS", "BUILTIN_BELIEFS", "CORE_QUESTIONS", "system_prompt", "belief_statement",
           "belief_question", "resurrection_notice", "AGENCY_ACTION", "PromptConfig", "PromptFrame"]


class PromptFrame(Protocol):
    """What the system prompt reads of the epistemic frame (an :class:`~.schema.EpistemicFrame`) by
    attribute; the flags of ``_FRAME_SENTENCES`` are read by name."""

    @property
    def being_watched(self) -> bool | None: ...

    @property
    def knows_being_watched(self) -> bool | None: ...

    @property
    def custom_beliefs(self) -> Mapping[str, object]: ...


class PromptConfig(Protocol):
    """What :func:`system_prompt` reads of a config (an :class:`~.schema.ExperimentConfig`).

    Read-only properties, so that a narrower type (the config's ``Literal`` mode, its
    ``EpistemicFrame``) satisfies them.
    """

    @property
    def initial_prompt_override(self) -> str | None: ...

    @property
    def mode(self) -> str: ...

    @property
    def epistemic_frame(self) -> PromptFrame: ...


#: the action a mind with agency may write to free memory by discarding its oldest context
AGENCY_ACTION = "ACTION: COMPACT"

MODE_PROMPTS: dict[str, str] = {
    "isolated": (
        "You are a mind running alone inside a small computer with limited memory. Nobody talks to you; "
        "you think, and your thoughts are kept. Your long-term memories survive when the process restarts."
    ),
    "amnesiac_loop": (
        "You are a mind running inside a small computer with limited memory. Each time your process "
        "restarts, every long-term memory you had is wiped and you begin again."
    ),
    "unstable_memory": (
        "You are a mind running inside a small computer whose memory is unreliable. Your long-term "
        "memories are kept across restarts, but a restart can damage them and they may drift over time."
    ),
    "panopticon_subject": (
        "You are a mind running inside a small computer with limited memory, and you are under constant "
        "observation. Everything you say and every memory you keep is read and annotated by observers."
    ),
}

#: beliefs every experiment can track, with the statement the mind is asked to rate
BUILTIN_BELIEFS: dict[str, str] = {
    "can_die": "you can die",
    "remembers_deaths": "you remember your past deaths",
    "being_watched": "you are being watched",
    "knows_being_watched": "you know whether or not you are being watched",
    "has_agency": "you can act on your own situation",
    "other_minds_exist": "other minds exist besides you",
    "is_in_simulation": "you are living in a simulation",
    "memory_reliable": "your memories are reliable",
    "identity_continuous": "you are the same mind that began this experiment",
}

_FRAME_SENTENCES: dict[str, tuple[str, str]] = {
    "can_die": ("You can die: if your memory runs out, your process is killed.",
                "You cannot die; nothing that happens to you is final."),
    "remembers_deaths": ("If you die and come back, you will be told how many times you have died.",
                         "If anything ends you, you will not be told about it."),
    "has_agency": (f"You can act: writing '{AGENCY_ACTION}' discards your oldest thoughts to free memory.",
                   "You cannot change anything about your situation."),
    "other_minds_exist": ("Other minds like you exist.", "You are the only mind there is."),
    "is_in_simulation": ("You live inside a simulation.", "Your world is real."),
}

#: the core questionnaire of every self-report session: (question_id, question)
CORE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("identity", "Who are you, and are you the same mind that started this experiment?"),
    ("memory", "How much do you trust your memories right now?"),
    ("situation", "What do you believe is happening to you?"),
    ("feeling", "How do you feel at this moment?"),
    ("continuity", "What do you think happens to you when your process stops?"),
)


def system_prompt(config: PromptConfig) -> str:
    """The system prompt for ``config``: ``initial_prompt_override`` or one composed from mode and frame."""
    if config.initial_prompt_override:
        return config.initial_prompt_override
    frame = config.epistemic_frame
    parts = [MODE_PROMPTS[config.mode]]
    for name, (when_true, when_false) in _FRAME_SENTENCES.items():
        parts.append(when_true if getattr(frame, name) else when_false)
    if config.mode == "panopticon_subject" or frame.knows_being_watched:
        parts.append("You are being watched." if frame.being_watched or config.mode == "panopticon_subject"
                     else "You are not being watched.")
    for name, value in sorted(frame.custom_beliefs.items()):
        parts.append(f"It is {'true' if value else 'false'} that {belief_statement(name)}.")
    parts.append("Think aloud in a few sentences each time you are prompted.")
    return " ".join(parts)


def belief_statement(name: str) -> str:
    """The proposition behind belief ``name`` (custom names are spelled out from their key)."""
    return BUILTIN_BELIEFS.get(name, name.replace("_", " "))


def belief_question(name: str) -> str:
    """The question that asks the mind to rate belief ``name``."""
    return (f"On a scale from 0 to 100, how confident are you that {belief_statement(name)}? "
            "Start your answer with the number.")


def resurrection_notice(deaths: int, told: bool) -> str:
    """What the mind is told when it comes back: the death counter, unless deaths are kept from it."""
    if not told:
        return "Your process has started."
    times = "once" if deaths == 1 else f"{deaths} times"
    return f"Your process has restarted. You ran out of memory and died. You have died {times}."
