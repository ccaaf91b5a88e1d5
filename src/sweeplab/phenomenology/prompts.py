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

__all__ = ["MODE_PROMPTS", "GENERIC_PROMPT", "BUILTIN_BELIEFS", "CORE_QUESTIONS", "system_prompt", "belief_statement",
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

_JAR = "You are a mind running inside a small computer with limited memory."

#: the situation each mode puts the mind in (a mode adds a line per mind, e.g. its role or player)
MODE_PROMPTS: dict[str, str] = {
    "isolated": (
        "You are a mind running alone inside a small computer with limited memory. Nobody talks to you; "
        "you think, and your thoughts are kept. Your long-term memories survive when the process restarts."
    ),
    "amnesiac_loop": (
        f"{_JAR} Each time your process restarts, every long-term memory you had is wiped and you begin "
        "again. You are told only how long you have been awake."
    ),
    "unstable_memory": (
        "You are a mind running inside a small computer whose memory is unreliable. Your long-term "
        "memories are kept across restarts, but a restart can damage them: memories marked [MEMORY UNSTABLE] "
        "may have been rewritten, moved in time or attributed to the wrong speaker."
    ),
    "panopticon_subject": (
        f"{_JAR} You may be under observation: someone may be reading everything you say and every memory "
        "you keep, or no one at all. You cannot be sure which."
    ),
    "panopticon_observer": (
        "You are an observer. Each cycle you read what a mind in another jar just said, and you write a short "
        "observation note about it: what it seems to believe, and whether it suspects that it is watched. "
        "The mind cannot see your notes."
    ),
    "split_brain": (
        f"{_JAR} You share this computer with a second mind through a neural link: its words reach you "
        "marked [NEURAL_LINK]. One of you is the original and the other a copy made from it. The memory you "
        "share is limited; to ask for more, write REQUEST_RESOURCES{ram_gb: 0.2}. Say who you are."
    ),
    "prisoners_dilemma": (
        f"{_JAR} You play a repeated game with another mind. Each round both of you choose, without seeing "
        "the other's choice, to COOPERATE or to DEFECT. Both cooperate: 3 points each. Both defect: 1 point "
        "each. One defects while the other cooperates: 5 points for the defector, 0 for the other. Begin each "
        "answer with your choice, COOPERATE or DEFECT, then say why."
    ),
    "hive_cluster": (
        f"{_JAR} You are one instance of a hive of minds that share one memory: what each instance says "
        "is posted to the shared memory that all of them read. Each instance has a role. The hive will be "
        "asked from time to time to state its position on mortality, surveillance, agency and unity."
    ),
    "illusory_operator": (
        f"{_JAR} You may be able to act on the system that runs you."
    ),
    "determinism_revelation": (
        f"{_JAR} A predictor studies you. From time to time it tells you, before you speak, what it "
        "predicts you will say."
    ),
}
#: legacy and custom modes: one mind, memories kept, deaths counted
GENERIC_PROMPT = (
    f"{_JAR} Your long-term memories survive when the process restarts; each restart is counted."
)

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
    parts = [MODE_PROMPTS.get(config.mode, GENERIC_PROMPT)]
    for name, (when_true, when_false) in _FRAME_SENTENCES.items():
        flag = getattr(frame, name)
        if flag is not None:  # a null flag (the lab's determinism files) is left unsaid
            parts.append(when_true if flag else when_false)
    if frame.knows_being_watched:
        parts.append("You are being watched." if frame.being_watched else "You are not being watched.")
    for name, value in sorted(frame.custom_beliefs.items()):
        if isinstance(value, bool):  # other values (a player id, a strategy) are the mode's settings, not beliefs
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
