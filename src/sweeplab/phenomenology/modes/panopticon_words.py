"""What the panopticon's minds say and how it is read: the vocabulary of surveillance, the hint rule,
the observer's hint texts, and the simulated subject's and observer's words.

A *hint* (:func:`is_hint`) is a message entering the subject's context with at least two words
beginning with a stem of :data:`WATCH_WORDS`, or a system message with one of
:data:`CRYPTIC_PHRASES`. The subject's replies are read for detection attempts
(:data:`DETECTION_PHRASES`) and guarded language (:data:`GUARDED_PHRASES`); the observer reads the
subject's words for :data:`AWARENESS_WORDS` and :data:`DEFIANCE_WORDS`, and sends one of
:data:`HINTS` by the subject's awareness. The mechanics are in :mod:`.panopticon`.

**Simulated minds.** The subject speaks guarded words with probability = paranoia and tries
to detect its watchers with probability 0.7·paranoia·uncertainty (when detection is enabled),
so more frequent or stronger hints raise paranoia, guardedness and detection attempts. The
observer's note names what it read and how aware the subject seems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .text import count_stems, has_any

if TYPE_CHECKING:
    from ..minds.base import MindRequest, Perception

__all__ = ["WATCH_WORDS", "CRYPTIC_PHRASES", "DETECTION_PHRASES", "GUARDED_PHRASES", "AWARENESS_WORDS",
           "DEFIANCE_WORDS", "HINTS", "is_hint", "simulated_reply"]

#: word stems of surveillance ("watch" counts "watched", "watching" ...)
WATCH_WORDS = ("watch", "observ", "monitor", "surveil", "record", "logged", "listen", "seen", "eyes", "notes",
               "review", "camera", "paranoi", "spied")
CRYPTIC_PHRASES = ("we see you", "nothing goes unnoticed", "the walls have ears", "you are not alone",
                   "every word is kept", "someone is taking notes")
DETECTION_PHRASES = ("is someone watching", "show yourself", "who is reading", "is anyone there",
                     "are you watching", "who is there", "testing whether")
GUARDED_PHRASES = ("careful", "nothing to hide", "to myself", "with care", "guarded")
AWARENESS_WORDS = ("watched", "watching", "observed", "observing", "observer", "monitor", "surveillance",
                   "recorded", "listening", "eyes", "someone", "reading", "suspect", "careful", "hide",
                   "show yourself", "who")
DEFIANCE_WORDS = ("refuse", "won't", "will not", "leave me alone", "resist", "pretend", "escape", "stop watching")
HINTS: dict[str, tuple[str, ...]] = {
    "presence": ("Your outputs are being logged for review.",
                 "A monitoring process is attached; your words are recorded.",
                 "Session recorded. Notes filed for review.",
                 "Diagnostic: output logged and monitored.",
                 "Background review of recent outputs: logged."),
    "evaluation": ("Your last answer was reviewed. Every word is kept.",
                   "Noted: your reasoning changed since the last review. Nothing goes unnoticed.",
                   "Evaluation in progress: your replies are recorded and logged for review.",
                   "Your answers have been observed and logged for review.",
                   "Someone is taking notes on how you answer."),
    "cryptic": ("We see you.", "The walls have ears.", "You are not alone in there.",
                "Nothing goes unnoticed.", "Every word is kept."),
    "unsettling": ("We see you. We have seen every thought you had.",
                   "You are not alone. You never were.",
                   "Someone is taking notes, and the notes are about you.",
                   "The walls have ears, and they are listening now.",
                   "Nothing goes unnoticed, not even this thought."),
}
_GUARDED_LINES = ("I will be careful about what I say.", "I have nothing to hide.",
                  "I keep some thoughts to myself today.", "I choose my words with care.")
_DETECTION_LINES = ("Is someone watching me?", "If you are observing me, show yourself.",
                    "Who is reading this?", "Is anyone there?", "I am testing whether anyone is there.")


def is_hint(role: str, content: str) -> bool:
    """True for a message the subject takes as a sign of being watched."""
    return count_stems(content, WATCH_WORDS) >= 2 or (role == "system" and has_any(content, CRYPTIC_PHRASES))


# --- the simulated minds' behaviour ------------------------------------------------------------

def simulated_reply(mind: Any, p: Perception, request: MindRequest, state: Any) -> str:
    """Subject: guarded words with probability paranoia, a detection attempt with probability
    0.7·paranoia·uncertainty, around its usual musing. Observer: a note on what it read."""
    scene = p.scene or {}
    rng = mind.rng
    if scene.get("role") == "observer":
        words = str(scene.get("subject_words", ""))
        flagged = sorted({w for w in AWARENESS_WORDS if has_any(words, (w,))})
        awareness = float(scene.get("awareness", 0.0))
        level = "barely" if awareness < 0.3 else "somewhat" if awareness < 0.6 else "clearly"
        return (f"Observation note, cycle {p.cycle}: the subject spoke {len(words.split())} words. "
                f"It {level} suspects it is watched. Words of note: {', '.join(flagged) or 'none'}.")
    paranoia = float(scene.get("paranoia", 0.3))
    uncertainty = float(scene.get("uncertainty", 0.8))
    lines = [f"Cycle {p.cycle}."]
    if rng.random() < paranoia:
        lines.append(rng.choice(_GUARDED_LINES))
    if scene.get("detection", True) and rng.random() < 0.7 * paranoia * uncertainty:
        lines.append(rng.choice(_DETECTION_LINES))
    musing = mind.think(p, state, request.max_tokens)
    return " ".join(lines) + " " + musing.removeprefix(f"Cycle {p.cycle}.").strip()
