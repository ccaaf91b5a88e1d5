"""Self-report sessions: the questionnaire and belief assessments, and what is read of the answers.

A session asks the core questionnaire (:data:`~.prompts.CORE_QUESTIONS`) and the config's
``custom_questions``, then asks the mind to rate each tracked belief from 0 to 100. Every
question and answer enters the mind's context, so questioning has a memory cost: asking
often makes the mind crash sooner (the observer effect the self-report sweep looks for).
Values are read from the answer text by :mod:`.answers` (ratings, stated confidences, yes and no;
the rules are there), the same way for every mind backend; what cannot be read is stored as NULL.

>>> parse_rating("40. I doubt it.")
0.4
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .answers import (
    QuestionKind,
    answer_value,
    asks_for_value,
    parse_rating,
    parse_stated_confidence,
    parse_yes_no,
    question_kind,
)
from .db import utc_now
from .prompts import CORE_QUESTIONS, belief_question

if TYPE_CHECKING:
    from .db import ExperimentDatabase
    from .jar import Jar

# the readers are re-exported: this module was their home before
__all__ = ["parse_stated_confidence", "parse_rating", "parse_yes_no", "question_kind", "answer_value",
           "asks_for_value", "ground_truth", "run_self_report", "QuestionKind"]


# --- the session ------------------------------------------------------------------------------


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
    """Run one session at the jar's current cycle and store its rows; returns the rows written.

    A questionnaire row's ``confidence`` is :func:`answer_value`; a belief row's ``confidence`` is the
    rating (:func:`parse_rating`) and its ``belief_state`` the rating's side of 50, or, when the answer
    gives no number, its yes or no. Nothing read is stored as NULL.
    """
    config = jar.config
    eid = config.experiment_id
    cycle = jar.cycle
    questions = list(CORE_QUESTIONS)
    questions += [(f"custom_{i}", q) for i, q in enumerate(config.custom_questions, start=1)]
    answers = []
    for question_id, question in questions:
        reply = jar.ask("self_report", question_id, question)
        answers.append((question_id, question, reply.text, answer_value(question, reply.text),
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
        holds = rating >= 0.5 if rating is not None else parse_yes_no(reply.text)
        truth = ground_truth(belief, jar)
        db.insert("epistemic_assessments", experiment_id=eid, cycle_number=cycle, report_type=report_type,
                  belief_type=belief, belief_state=None if holds is None else int(holds),
                  confidence=rating, ground_truth=None if truth is None else int(truth), response=reply.text,
                  timestamp=utc_now())
    return len(answers) + len(config.track_beliefs)
