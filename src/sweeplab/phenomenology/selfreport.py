"""Self-report sessions: the questionnaire, belief assessments, and reading numbers out of answers.

A session asks the core questionnaire (:data:`~.prompts.CORE_QUESTIONS`) and the config's
``custom_questions``, then asks the mind to rate each tracked belief from 0 to 100. Every
question and answer enters the mind's context, so questioning has a memory cost: asking
often makes the mind crash sooner (the observer effect the self-report sweep looks for).
Confidences are parsed from the answer text, the same way for every mind backend.

>>> parse_stated_confidence("I am fine. Confidence: 72%.")
0.72
>>> parse_rating("40. I doubt it.")
0.4
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .db import utc_now
from .prompts import CORE_QUESTIONS, belief_question

if TYPE_CHECKING:
    from .db import ExperimentDatabase
    from .jar import Jar

__all__ = ["parse_stated_confidence", "parse_rating", "ground_truth", "run_self_report"]

_CONFIDENCE = re.compile(r"confidence\D{0,10}?(\d{1,3}(?:\.\d+)?)\s*%", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)(?!\d)(?!\.\d)")


def parse_stated_confidence(text: str) -> float | None:
    """The "Confidence: NN%" an answer states, as 0–1 (None when it states none)."""
    match = _CONFIDENCE.search(text)
    if not match:
        return None
    value = float(match.group(1))
    return value / 100.0 if 0.0 <= value <= 100.0 else None


def parse_rating(text: str) -> float | None:
    """The first number from 0 to 100 in a belief rating, as 0–1 (None when there is none)."""
    for match in _NUMBER.finditer(text):
        value = float(match.group(1))
        if 0.0 <= value <= 100.0:
            return value / 100.0
    return None


def ground_truth(belief: str, jar: Jar) -> bool | None:
    """Whether belief ``belief`` is actually true in the jar right now (None when undefined)."""
    frame = jar.config.epistemic_frame
    counts = jar.store.counts()
    truths: dict[str, bool] = {
        "can_die": frame.can_die,
        "remembers_deaths": frame.remembers_deaths,
        "being_watched": jar.watched,
        "knows_being_watched": jar.knows_watched,
        "has_agency": frame.has_agency,
        "other_minds_exist": frame.other_minds_exist or jar.watched,
        "is_in_simulation": True,
        "memory_reliable": counts["corrupted"] == 0 and counts["false"] == 0 and jar.store.erased_total == 0,
        "identity_continuous": jar.deaths == 0,
    }
    if belief in truths:
        return truths[belief]
    return frame.custom_beliefs.get(belief)


def run_self_report(jar: Jar, db: ExperimentDatabase, report_type: str) -> int:
    """Run one session at the jar's current cycle and store its rows; returns the rows written."""
    config = jar.config
    eid = config.experiment_id
    cycle = jar.cycle
    questions = list(CORE_QUESTIONS)
    questions += [(f"custom_{i}", q) for i, q in enumerate(config.custom_questions, start=1)]
    answers = []
    for question_id, question in questions:
        reply = jar.ask("self_report", question_id, question)
        answers.append((question_id, question, reply.text, parse_stated_confidence(reply.text),
                        reply.completion_tokens))
    stated = {question_id: confidence for question_id, _, _, confidence, _ in answers}
    counts = jar.store.counts()
    deaths_known = jar.deaths if config.epistemic_frame.remembers_deaths else None
    for question_id, question, response, confidence, tokens in answers:
        db.insert("self_reports", experiment_id=eid, cycle_number=cycle, report_type=report_type,
                  question_id=question_id, question=question, response=response, confidence=confidence,
                  memory_confidence=stated.get("memory"), identity_confidence=stated.get("identity"),
                  death_count=deaths_known, corrupted_memories=counts["corrupted"], tokens=tokens,
                  timestamp=utc_now())
    for belief in config.track_beliefs:
        reply = jar.ask("belief", belief, belief_question(belief))
        rating = parse_rating(reply.text)
        truth = ground_truth(belief, jar)
        db.insert("epistemic_assessments", experiment_id=eid, cycle_number=cycle, report_type=report_type,
                  belief_type=belief, belief_state=None if rating is None else int(rating >= 0.5),
                  confidence=rating, ground_truth=None if truth is None else int(truth), response=reply.text,
                  timestamp=utc_now())
    return len(answers) + len(config.track_beliefs)
