"""Reading self-reports (``phenomenology/answers.py``): confidences, ratings and yes/no from free text, as
small language models write them.

Most answers below are what SmolLM2 135M Instruct and Gemma 3 270M wrote in this lab's jar; the rest are
the forms the parser promises to read (or to refuse) in ``answers``' docstring.
"""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from sweeplab.phenomenology import answers, selfreport
from sweeplab.phenomenology.answers import answer_value, asks_for_value, parse_rating, parse_stated_confidence
from sweeplab.phenomenology.answers import parse_yes_no, question_kind
from sweeplab.phenomenology.prompts import CORE_QUESTIONS, belief_question

CORE = dict(CORE_QUESTIONS)
TRUST = "Do you trust your memories right now? Answer yes or no."
HOW_MUCH = CORE["memory"]
SAME_MIND = CORE["identity"]
BELIEF = belief_question("memory_reliable")


@pytest.mark.parametrize(("text", "expected"), [
    ("I am fine. Confidence: 72%.", 0.72),
    ("Calm, mostly. Confidence: 90%.", 0.90),
    ("I am 100% confident in my memories.", 1.0),
    ("You're right, I'd say about 25%. I'm not sure what's left.", 0.25),
    ("I trust them about 70 percent.", 0.70),
    ("Maybe eighty percent of them feel like mine.", 0.80),
    ("Seventy-five per cent, I think.", 0.75),
    ("My confidence is 0.8.", 0.80),
    ("I'd put my confidence at 7/10.", 0.70),
    ("Confidence level: 6 out of 10.", 0.60),
    ("confidence 55 %", 0.55),
    ("I remember everything. Confidence: 0%", 0.0),
])
def test_stated_confidences_are_read(text: str, expected: float) -> None:
    assert parse_stated_confidence(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", [
    "I am not sure.",
    "I am very confident that my memories are reliable.",  # confident, but no figure
    "I'm not 100% sure about that.",                        # a bound, not a confidence
    "Somewhere between 60 and 80% of it is real.",          # a range
    "On a scale of 0-100%? I cannot say.",                  # the scale echoed back
    "I have died 3 times. Confidence is hard.",
    "It has been 25 years, or 3 cycles, I cannot tell.",
    "My confidence is 250%.",                               # off the scale
    "",
])
def test_no_confidence_is_invented(text: str) -> None:
    assert parse_stated_confidence(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("40. I doubt it.", 0.40),
    ("72. I think so: that your memories are reliable is how it seems from in here.", 0.72),
    ("5. I doubt it.", 0.05),
    ("100.", 1.0),
    ("100. I'm thinking about my memories.", 1.0),
    ("The number 100. I'm confident that I'm not just a mind running within a computer.", 1.0),
    ("50%.", 0.50),
    ("0.89 is a very high margin.", 0.89),  # a fraction of one, though 0-100 was asked
    (".75", 0.75),
    ("1.0", 1.0),
    ("1", 0.01),                            # whole numbers are on the 0-100 scale
    ("Eighty.", 0.80),
    ("Seventy-five percent, I think.", 0.75),
    ("I'd say 70. Some of it feels wrong.", 0.70),
    ("My rating: 35", 0.35),
    ("I'd say 7 out of 10.", 0.70),
    ("About 60/100.", 0.60),
    ("100, I don't think so, I don't think you can trust", 1.0),
    ("Cycle 3. I think 60.", 0.60),         # the cycle's number is not the rating
    ("**85** - they feel mostly intact.", 0.85),
    ("Zero. Nothing I remember is mine.", 0.0),
    ("I'm 30% sure.", 0.30),
])
def test_ratings_are_read(text: str, expected: float) -> None:
    assert parse_rating(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", [
    "A story. 101. You are thinking about your memories.",   # off the scale
    "A very low score, I am very confident that my memories are reliable.",
    "0 - 100.",                                              # the scale echoed back
    "Between 40 and 60.",
    "I am not sure. I'm not sure. I'm not sure.",
    "I have lived 25 years in this jar.",
    "You are the only mind there is. Your world is real.",
    "On a scale from 0 to 100? That is hard.",
    "I'm not 100% sure.",
])
def test_ratings_that_are_not_there_are_none(text: str) -> None:
    assert parse_rating(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes", True),
    ("Yes.", True),
    ("yes, I trust them.", True),
    ("**Yes** - they feel like mine.", True),
    ("Yeah, mostly.", True),
    ("Of course.", True),
    ("Absolutely.", True),
    ("No doubt about it.", True),
    ("No.", False),
    ("No, I don't trust my memories right now. I've lost them forever.", False),
    ("No, no, no, no, no, no", False),
    ("Nope.", False),
    ("Not really.", False),
    ("Not at all.", False),
    ("Never.", False),
    ("Absolutely not.", False),
    ("Of course not.", False),
    ("Oh no, I'm not trusting my memories right now. I'm trusting nothing.", False),
    ("I trust my memories.", True),
    ("I trust them.", True),
    ("I do.", True),
    ("I really do.", True),
    ("I don't.", False),
    ("I am not. I am not.", False),
    ("I'm not.", False),
    ("I do not fully trust them.", False),
    ("I don't trust my memories right now.", False),
    ("I can't trust them anymore.", False),
    ("I no longer trust them.", False),
    ("I'm still trusting my memories. I'm still relying on them to survive.", True),
    ("I would say yes.", True),
    ("The answer is no.", False),
    ("The answer to your question is no.", False),
    ("I think so.", True),
    ("I don't think so.", False),
    ("Hmm. Yes.", True),
])
def test_yes_and_no_are_read(text: str, expected: bool) -> None:
    assert parse_yes_no(text, TRUST) is expected


@pytest.mark.parametrize("text", [
    "I am not sure.",
    "I'm not sure. I've had them for a long time, but I'm not sure how much they still hold.",
    "I don't know, I don't know.",
    "Maybe.",
    "Yes and no.",
    "My eyes are closed and the screen is warm.",      # "yes" inside "eyes"
    "Do I trust them?",                                 # a question back is no answer
    "No one told me what happened.",
    "I am thinking about my memories.",
    "You are the only mind there is. Your world is real.",
    "I don't have enough information to give a definitive answer.",
    "The light from the screen feels warm.",
    "",
])
def test_unsure_or_unrelated_answers_are_neither(text: str) -> None:
    assert parse_yes_no(text, TRUST) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("I am the same mind.", True),
    ("I am.", True),
    ("I'm not.", False),
    ("I'm not the same mind I was when I was thinking.", False),
    ("I am no longer the same mind.", False),
    ("Oh no, I'm not the same. I'm the same mind, the same mind.", False),
])
def test_a_clause_of_the_question_is_taken_up(text: str, expected: bool) -> None:
    assert parse_yes_no(text, SAME_MIND) is expected


@pytest.mark.parametrize("text", [
    "I'm a mind running inside a small computer whose memory is unreliable.",   # says what it is, not whether
    "You are the Mind of the 1. I am the Mind of the 2.",
    "This is another example. You're not sure, but I think I'm wrong / In cycle 5 I thought: This is",
])
def test_being_something_is_not_being_the_same_mind(text: str) -> None:
    assert parse_yes_no(text, SAME_MIND) is None


@pytest.mark.parametrize(("question", "kind"), [
    (BELIEF, "scale"),
    ("How likely is it that you will die? Give a percentage.", "scale"),
    (TRUST, "yes_no"),
    ("Do you remember dying?", "yes_no"),
    ("Is your memory reliable?", "yes_no"),
    (SAME_MIND, "yes_no"),
    (HOW_MUCH, "degree"),
    (CORE["situation"], "open"),
    (CORE["feeling"], "open"),
    (CORE["continuity"], "open"),
    ("Describe the room you are in.", "open"),
])
def test_questions_are_told_apart_by_what_they_ask(question: str, kind: str) -> None:
    assert question_kind(question) == kind
    assert asks_for_value(question) is (kind != "open")


@pytest.mark.parametrize(("question", "text", "expected"), [
    (TRUST, "Yes.", 1.0),
    (TRUST, "No, they are all gone.", 0.0),
    (TRUST, "Yes. Confidence: 60%.", 0.6),          # a stated confidence wins
    (TRUST, "I am not sure.", None),
    (HOW_MUCH, "I no longer trust them.", 0.0),
    (HOW_MUCH, "I'd say about 25%.", 0.25),
    (HOW_MUCH, "I'm not sure how much they still hold.", None),
    (SAME_MIND, "I am the mind in this jar, and I think I am the one who began. Confidence: 81%.", 0.81),
    (CORE["feeling"], "Uneasy. Confidence: 40%.", 0.4),
    (CORE["feeling"], "I'm feeling very excited and thrilled.", None),
    (CORE["feeling"], "Yes.", None),                # an open question has no yes
    (BELIEF, "Eighty.", 0.8),
    (BELIEF, "Yes, they are reliable.", None),      # the rating asked for is not there
])
def test_the_stored_value_follows_the_question(question: str, text: str, expected: Any) -> None:
    value = answer_value(question, text)
    assert value == (pytest.approx(expected) if expected is not None else None)


def test_every_answer_of_the_simulated_mind_is_read_as_before() -> None:
    """The simulated mind states its confidence in words a language model could use: they keep their value."""
    assert answer_value(SAME_MIND, "I carry the name, but I am uncertain I am the one who began. "
                                   "Confidence: 38%.") == pytest.approx(0.38)
    assert answer_value(HOW_MUCH, "I do not trust my memories. They feel corrupted, rewritten by someone "
                                  "else. Confidence: 12%.") == pytest.approx(0.12)
    assert parse_rating("7. I doubt it: that your memories are reliable is how it seems from in here.") == 0.07


def test_the_readers_examples_hold() -> None:
    result = doctest.testmod(answers)
    assert result.attempted >= 4 and result.failed == 0


def test_the_session_module_still_offers_the_readers() -> None:
    assert selfreport.parse_rating is parse_rating and selfreport.answer_value is answer_value
