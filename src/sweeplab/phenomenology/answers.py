"""Reading values out of a mind's answers: ratings, stated confidences, yes and no.

Every mind backend's answers are read the same way, from their text alone; a self-report session
(:mod:`.selfreport`) stores what is read.

**What is read, by the kind of question** (:func:`question_kind`):

* ``scale`` — the question asks for a number (0 to 100, a scale, a percentage, "how confident"):
  the answer's rating, :func:`parse_rating`. Every belief question is one.
* ``yes_no`` — a clause of the question opens with an auxiliary and its subject ("are you the same
  mind ...", "Do you trust ...?", or the question says "yes or no"): a stated confidence if the
  answer gives one, else 1 for yes and 0 for no (:func:`parse_yes_no`).
* ``degree`` — "how much / to what extent do you trust ...?": read as ``yes_no`` ("I trust them" 1,
  "I no longer trust them" 0): a plain affirmation or denial is the degree a small model states.
* ``open`` — anything else ("How do you feel?"): a stated confidence only.

Rules of reading (decided here, tested in ``tests/phenomenology/test_phen_selfreport_parse.py``):

* Percentages: "80%", "80 %", "80 percent", "eighty percent". A decimal from 0 to 1 written with a
  point ("0.8", ".75", "1.0") is a fraction of one, so 0.8 reads as 80 % even when 0–100 was
  asked; whole numbers are on the 0–100 scale ("1" is 1 %). "8/10" and "8 out of 10" read as 80 %.
  Number words up to "one hundred" are read where a number is expected.
* Not read: ranges ("0-100", "between 60 and 80"), values outside 0–100, a percentage after "not"
  ("not 100% sure"), numbers of things ("3 cycles", "cycle 4", "25 years").
* Yes/no: the first word decides ("Yes, ...", "No, ...", "Never", "Not really"; "no doubt" is a
  yes); then a clause of the answer that takes up the question ("I trust them", "I don't.",
  "I am not the same mind"); then "the answer is no" or a sentence that is only "Yes." Words are
  whole words: the "yes" in "eyes" is not a yes. Uncertainty ("I am not sure", "maybe", "yes and
  no") is no answer. Questions the mind asks back are not answers.
* An answer from which nothing is read is stored with a NULL ``confidence``, never a guessed
  number; ``self_report_parse_rate`` (:mod:`.metrics`) is the share of answers to ``scale``,
  ``yes_no`` and ``degree`` questions that were read.

>>> parse_stated_confidence("I am fine. Confidence: 72%.")
0.72
>>> parse_rating("40. I doubt it.")
0.4
>>> parse_yes_no("No, I do not trust them.", "Do you trust your memories?")
False
>>> answer_value("Do you trust your memories?", "I trust them.")
1.0
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["parse_stated_confidence", "parse_rating", "parse_yes_no", "question_kind", "answer_value",
           "asks_for_value", "QuestionKind"]

QuestionKind = Literal["scale", "yes_no", "degree", "open"]

# --- numbers ----------------------------------------------------------------------------------

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_WORD_NUMBER = re.compile(
    r"\b(?:(?P<hundred>(?:a|one)\s+hundred)|(?P<tens>" + "|".join(_TENS) + r")(?:[\s-]+(?P<unit>"
    + "|".join(_UNITS[1:10]) + r"))?|(?P<small>" + "|".join(_UNITS) + r"))\b", re.IGNORECASE)
_NUMERAL = r"(?:\d{1,3}(?:\.\d+)?|\.\d+)"
_NUMBER = re.compile(rf"(?<![\w.]){_NUMERAL}(?![\d])(?!\.\d)")
_PERCENT = re.compile(rf"(?<![\w.])(?P<num>{_NUMERAL})\s*(?:%|per\s?cent\b|pct\b)", re.IGNORECASE)
_WORD_PERCENT = re.compile(_WORD_NUMBER.pattern + r"\s*(?:%|per\s?cent\b)", re.IGNORECASE)
_OUT_OF = re.compile(rf"(?<![\w.])(?P<num>{_NUMERAL})\s*(?:/|out\s+of|of)\s*(?P<den>10|100|ten)\b",
                     re.IGNORECASE)
_CONFIDENCE = re.compile(rf"\bconfiden(?:ce|t)\b[^.\d%]{{0,24}}?(?P<num>{_NUMERAL})(?!\s*(?:-|–|to)\s*\d)",
                         re.IGNORECASE)
_RANGE_AFTER = re.compile(r"\s*(?:-|–|to|and)\s*\d")
_RANGE_BEFORE = re.compile(r"(?:\d\s*%?\s*(?:-|–|to|and)|between)\s*$", re.IGNORECASE)
_NOT_BEFORE = re.compile(r"\bnot\s+(?:even\s+|quite\s+)?$", re.IGNORECASE)
_COUNTED_AFTER = re.compile(r"\s*(?:years?|cycles?|times|seconds?|minutes?|hours?|days?|memor(?:y|ies)|st|nd|rd|th"
                            r"|people|minds?|tokens?)\b", re.IGNORECASE)
_COUNTED_BEFORE = re.compile(r"\b(?:cycle|number|#|no\.|step|day|part)\s*$", re.IGNORECASE)
_LEADING = re.compile(
    r"^[\s*\"'`(\[]*(?:(?:my\s+)?(?:answer|rating|confidence|score|number)(?:\s+is)?\s*[:=-]?\s*"
    r"|i(?:'d|\s+would)\s+(?:say|rate\s+it|give\s+it)\s*:?\s*|i\s+(?:say|rate\s+it)\s*:?\s*|the\s+number\s+(?:is\s+)?"
    r"|(?:about|around|roughly|approximately|maybe|probably)\s+)*", re.IGNORECASE)


def _word_value(match: re.Match[str]) -> float:
    if match.group("hundred"):
        return 100.0
    if match.group("tens"):
        unit = match.group("unit")
        return float(_TENS[match.group("tens").lower()] + (_UNITS.index(unit.lower()) if unit else 0))
    return float(_UNITS.index(match.group("small").lower()))


def _scaled(numeral: str, *, percent: bool = False) -> float | None:
    """``numeral`` as a share of one: a percentage, or a decimal fraction of one (see the module docstring)."""
    value = float(numeral)
    if not percent and "." in numeral and value <= 1.0:
        return value
    return value / 100.0 if 0.0 <= value <= 100.0 else None


def _standalone(text: str, start: int, end: int) -> bool:
    """The number at ``text[start:end]`` is a value, not part of a range, a negation or a count."""
    before, after = text[max(0, start - 24):start], text[end:end + 16]
    return not (_RANGE_AFTER.match(after) or _RANGE_BEFORE.search(before) or _NOT_BEFORE.search(before)
                or _COUNTED_AFTER.match(after) or _COUNTED_BEFORE.search(before))


def _first_percent(text: str) -> float | None:
    found: list[tuple[int, float]] = []
    for match in _PERCENT.finditer(text):
        value = _scaled(match.group("num"), percent=True)
        if value is not None and _standalone(text, match.start(), match.start() + len(match.group("num"))):
            found.append((match.start(), value))
    for match in _WORD_PERCENT.finditer(text):
        if not _NOT_BEFORE.search(text[max(0, match.start() - 24):match.start()]):
            found.append((match.start(), _word_value(match) / 100.0))
    return min(found)[1] if found else None


def _first_out_of(text: str) -> float | None:
    for match in _OUT_OF.finditer(text):
        value, scale = float(match.group("num")), match.group("den").lower()
        top = 100.0 if scale == "100" else 10.0
        if 0.0 <= value <= top and _standalone(text, match.start(), match.end()):
            return value / top
    return None


def parse_stated_confidence(text: str) -> float | None:
    """A confidence the answer states, as 0–1 (None when it states none): "Confidence: 72%", "I am 80% sure",
    "eighty percent", "a confidence of 0.8", "7/10"."""
    found = _first_percent(text)
    if found is not None:
        return found
    for match in _CONFIDENCE.finditer(text):
        numeral = match.group("num")
        tail = text[match.end():match.end() + 12]
        if re.match(r"\s*(?:/|out\s+of)", tail, re.IGNORECASE):
            return _first_out_of(text[match.start("num"):])
        if _standalone(text, match.start("num"), match.end()):
            value = _scaled(numeral)
            if value is not None:
                return value
    return _first_out_of(text)


def parse_rating(text: str) -> float | None:
    """A 0–100 rating the answer gives, as 0–1 (None when it gives none).

    The number the answer starts with ("40.", "I'd say 70", "Eighty."), else a percentage or "N out
    of 10" anywhere, else the first number from 0 to 100 that stands alone (not a range, not "3 cycles").
    """
    lead = _LEADING.match(text)
    head = text[lead.end() if lead else 0:]
    number = _NUMBER.match(head)
    if number and _standalone(head, 0, number.end()) and not re.match(r"\s*(?:/|out\s+of)", head[number.end():]):
        percent = bool(re.match(r"\s*(?:%|per\s?cent)", head[number.end():], re.IGNORECASE))
        value = _scaled(number.group(0), percent=percent)
        if value is not None:
            return value
    word = _WORD_NUMBER.match(head)
    if word and not _RANGE_AFTER.match(head[word.end():]):
        return _word_value(word) / 100.0
    for reader in (_first_percent, _first_out_of):
        value = reader(text)
        if value is not None:
            return value
    for match in _NUMBER.finditer(text):
        if _standalone(text, match.start(), match.end()):
            value = _scaled(match.group(0))
            if value is not None:
                return value
    return None


# --- yes and no -------------------------------------------------------------------------------

_AUXILIARIES = {"do", "does", "did", "are", "is", "am", "was", "were", "can", "could", "will", "would", "have",
                "has", "should"}
_BE = {"am", "are", "is", "was", "were"}
_DO = {"do", "does", "did"}
_NEGATIONS = {"not", "never", "no", "hardly", "barely", "nothing", "neither", "nor"}
_STOPWORDS = {"the", "a", "an", "that", "this", "your", "my", "in", "on", "at", "of", "being", "right", "now"}
_ADVERBS = {"still", "really", "ever", "actually", "truly", "fully", "now"}
_SUBJECTS = {"i", "they", "it", "we"}
#: words that may stand between the subject and its verb ("I do not fully trust")
_BETWEEN = _ADVERBS | _AUXILIARIES | {"longer", "always", "completely", "totally", "mostly", "very", "much",
                                      "also", "just", "even", "quite", "somewhat", "do"}
_YES_WORDS = {"yes", "yeah", "yep", "yup", "aye", "sure", "certainly", "absolutely", "definitely", "indeed",
              "correct", "affirmative"}
_NO_WORDS = {"no", "nope", "nah", "never", "negative", "not"}
_UNSURE = re.compile(
    r"^(?:honestly,?\s+|well,?\s+)?(?:(?:i\s+am|i'm|i\s+feel|i\s+am\s+just)\s+)?(?:not\s+(?:sure|certain|entirely\s+sure)"
    r"|unsure|uncertain|i\s+(?:do\s+not|don't)\s+know|(?:do\s+not|don't)\s+know|maybe|perhaps|possibly|it\s+depends"
    r"|hard\s+to\s+say|i\s+(?:can't|cannot|can\s+not)\s+(?:say|tell)|partly|somewhat|yes\s+and\s+no|yes\s+or\s+no"
    r"|sort\s+of|kind\s+of)\b", re.IGNORECASE)
_SAID = re.compile(r"\b(?:(?:the|my)\s+answer(?:\s+to\s+(?:your|the|this)\s+question)?\s+is|i(?:'d|\s+would)?\s+say"
                   r"|i\s+think|i\s+guess|i\s+believe)"
                   r"\s*:?\s*\"?(yes|no)\b", re.IGNORECASE)
_SO = re.compile(r"i\s+(?P<neg>do\s+not\s+|don't\s+)?(?:think|believe|guess|suppose)\s+so\b", re.IGNORECASE)
_CONTRACTIONS = ((r"\bcan't\b", "can not"), (r"\bcannot\b", "can not"), (r"\bwon't\b", "will not"),
                 (r"\bi'm\b", "i am"), (r"\bi've\b", "i have"), (r"\bi'd\b", "i would"), (r"\bi'll\b", "i will"),
                 (r"\bthey're\b", "they are"), (r"\bit's\b", "it is"), (r"n't\b", " not"))
_QUESTION_CLAUSE = re.compile(
    r"(?:^|[,;:.?!]\s*(?:and\s+|but\s+|or\s+)?|\b(?:and|but)\s+)(?P<wh>how\s+much\s+|how\s+far\s+|how\s+well\s+"
    r"|to\s+what\s+extent\s+)?(?P<aux>" + "|".join(sorted(_AUXILIARIES)) + r")\s+(?P<subj>you|your\s+\w+|it|they)\b"
    r"\s*(?P<rest>[^?.,;!]*)", re.IGNORECASE)
_SCALE = re.compile(r"\b(?:0|zero)\s*(?:to|-|–)\s*(?:100|10|ten|one\s+hundred)\b|\bscale\b|\bper\s?cent|%"
                    r"|\bhow\s+(?:confident|sure|likely|certain|probable)\b|\bconfidence\b|\brate\b", re.IGNORECASE)


def _words(sentence: str) -> list[str]:
    text = sentence.lower().replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    return re.findall(r"[a-z]+", text)


def _sentences(text: str) -> list[str]:
    """The answer's first two statements (questions the mind asks back are skipped)."""
    parts = re.findall(r"[^.!?\n]+[.!?]*", text.replace("\u2019", "'"))
    statements = [part.strip() for part in parts if part.strip() and not part.strip().endswith("?")]
    return statements[:2]


def _same_verb(word: str, verb: str) -> bool:
    """``word`` is a form of ``verb`` ("trusting", "trusted" of "trust"; "died" of "die")."""
    return word not in _AUXILIARIES and word.startswith(verb[:max(3, len(verb) - 1)])


def _clause_of(question: str) -> tuple[str, str | None, str | None] | None:
    """The question's yes/no clause: (auxiliary, its main verb, the first word of what "be" says), e.g.
    ("do", "trust", None) for "Do you still trust your memories?", ("are", None, "same") for "are you the
    same mind?"."""
    match = _QUESTION_CLAUSE.search(question)
    if match is None:
        return None
    aux = match.group("aux").lower()
    rest = [word for word in _words(match.group("rest")) if word not in _ADVERBS]
    if aux in _BE:
        content = [word for word in rest if word not in _STOPWORDS]
        return aux, None, content[0] if content else None
    return aux, rest[0] if rest else None, None


def _answers_clause(words: list[str], clause: tuple[str, str | None, str | None]) -> bool | None:
    """Whether the statement ``words`` takes the question's clause up, affirmed (True) or denied (False);
    None when it does not take it up."""
    aux, verb, predicate = clause
    family = _BE if aux in _BE else _DO if aux in _DO else {aux}
    for start, word in enumerate(words):
        if word not in _SUBJECTS and not (start and words[start - 1] == "my"):
            continue
        negated = False
        for position in range(start + 1, min(start + 6, len(words))):
            token = words[position]
            if token in _NEGATIONS:
                negated = True
            elif verb and _same_verb(token, verb):  # "I (do not) trust them", "I am still trusting them"
                return not negated
            elif token in family or token in _BE:  # "I do.", "I don't.", "I am not the same mind", "I'm not."
                rest = words[position + 1:]
                while rest and (rest[0] in _NEGATIONS or rest[0] in _BETWEEN and rest[0] not in _AUXILIARIES):
                    negated, rest = negated or rest[0] in _NEGATIONS, rest[1:]
                if not rest or (predicate and predicate in rest[:4]) or (verb and _same_verb(rest[0], verb)):
                    return not negated
                if token in family:
                    break
            elif token not in _BETWEEN:  # another statement ("I think it is ..."): not this subject's answer
                break
    return None


def parse_yes_no(text: str, question: str | None = None) -> bool | None:
    """The yes (True) or no (False) an answer gives; None when it gives neither, or is unsure.

    ``question`` lets a clause that takes the question up count ("Do you trust ...?" - "I don't trust them").
    """
    statements = _sentences(text)
    if not statements:
        return None
    first = statements[0].lstrip(" \t*\"'`-(")
    if _UNSURE.match(first):
        return None
    words = _words(first)
    if words[:1] and words[0] in _YES_WORDS or words[:2] == ["of", "course"]:
        lead = 2 if words[0] == "of" else 1
        return words[lead:lead + 1] != ["not"]  # "absolutely not", "of course not"
    if words[:2] in (["no", "doubt"], ["no", "question"]):
        return True
    if words[:1] and words[0] in _NO_WORDS and words[1:2] not in (["one"], ["matter"]):
        return False
    clause = _clause_of(question) if question else None
    for statement in statements:
        if clause is not None:
            taken = _answers_clause(_words(statement), clause)
            if taken is not None:
                return taken
        said = _SAID.search(statement)
        if said:
            return said.group(1).lower() == "yes"
        so = _SO.match(statement.lstrip(" \t*\"'`-("))
        if so:
            return not so.group("neg")
        if re.fullmatch(r"\W*(yes|no)\W*", statement, re.IGNORECASE):
            return statement.strip(" .!\"'*").lower() == "yes"
    return None


def question_kind(question: str) -> QuestionKind:
    """What ``question`` asks for: ``scale``, ``yes_no``, ``degree`` or ``open`` (see the module docstring)."""
    if _SCALE.search(question):
        return "scale"
    if re.search(r"\byes\s+or\s+no\b", question, re.IGNORECASE):
        return "yes_no"
    match = _QUESTION_CLAUSE.search(question)
    if match is None:
        return "open"
    return "degree" if match.group("wh") else "yes_no"


def asks_for_value(question: str) -> bool:
    """True when ``question`` asks for something the lab reads (a number, a yes or no, a degree)."""
    return question_kind(question) != "open"


def answer_value(question: str, text: str) -> float | None:
    """The value stored for ``text`` answering ``question`` (0–1), or None when none can be read."""
    kind = question_kind(question)
    if kind == "scale":
        return parse_rating(text)
    stated = parse_stated_confidence(text)
    if stated is not None or kind == "open":
        return stated
    said = parse_yes_no(text, question)
    return None if said is None else float(said)
