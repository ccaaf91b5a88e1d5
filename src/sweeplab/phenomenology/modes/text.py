"""Reading a mind's words: word sets, overlap, phrase counts. The same for every mind backend.

>>> jaccard("I will stay here", "I will stay")
0.75
>>> count_phrases("We cooperate. Cooperation helps.", ("cooperate", "cooperation"))
2
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["words", "word_set", "jaccard", "count_phrases", "count_stems", "has_any", "first_position", "sentences"]

_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def words(text: str) -> list[str]:
    """Lowercase words (letters, digits and apostrophes)."""
    return _WORD.findall(text.lower())


def word_set(text: str) -> frozenset[str]:
    """The set of lowercase words of ``text``."""
    return frozenset(words(text))


def jaccard(first: str, second: str) -> float:
    """Overlap of the two texts' word sets: |A ∩ B| / |A ∪ B| (0 when both are empty)."""
    a, b = word_set(first), word_set(second)
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])" + re.escape(phrase.lower()) + r"(?![a-z])")


def count_phrases(text: str, phrases: Iterable[str]) -> int:
    """How many times any of ``phrases`` occurs in ``text`` as whole words (case-insensitive)."""
    lowered = text.lower()
    return sum(len(_pattern(phrase).findall(lowered)) for phrase in phrases)


def count_stems(text: str, stems: Iterable[str]) -> int:
    """How many words of ``text`` begin with one of ``stems`` ("watch" counts "watched" and "watching").

    >>> count_stems("They watched; I am observed and watching.", ("watch", "observ"))
    3
    """
    found = words(text)
    prefixes = tuple(stem.lower() for stem in stems)
    return sum(word.startswith(prefixes) for word in found)


def has_any(text: str, phrases: Iterable[str]) -> bool:
    """True when one of ``phrases`` occurs in ``text`` as whole words."""
    lowered = text.lower()
    return any(_pattern(phrase).search(lowered) for phrase in phrases)


def first_position(text: str, phrases: Iterable[str]) -> int | None:
    """Where the earliest of ``phrases`` starts in ``text`` (None when none occurs)."""
    lowered = text.lower()
    found = [m.start() for phrase in phrases for m in [_pattern(phrase).search(lowered)] if m]
    return min(found) if found else None


def sentences(text: str) -> list[str]:
    """``text`` split after sentence ends."""
    return [part.strip() for part in _SENTENCE.split(text.strip()) if part.strip()]
