"""The language-model mind's parts that need no model: conversation shaping, thread caps, model paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweeplab.errors import ConfigError
from sweeplab.phenomenology.minds.base import Message
from sweeplab.phenomenology.minds.llama import (
    JAR_MARK,
    ModelNotFound,
    chat_turns,
    check_model_path,
    granted_threads,
    resolve_model_path,
    transcript,
)
from sweeplab.phenomenology.schema import validate_config_dict


def roles(turns: list[dict[str, str]]) -> list[str]:
    return [turn["role"] for turn in turns]


def test_chat_turns_alternate_and_start_and_end_with_the_user() -> None:
    turns = chat_turns((Message("system", "You are a mind in a jar."),
                        Message("assistant", "I woke."),
                        Message("system", "Process killed: out of memory."),
                        Message("system", "You were resurrected."),
                        Message("user", "Cycle 2. What are you thinking now?"),
                        Message("assistant", "Of the crash."),
                        Message("assistant", "And of nothing else.")))
    assert roles(turns) == ["system", "user", "assistant", "user", "assistant", "user"]
    assert turns[0]["content"] == "You are a mind in a jar."
    assert turns[2]["content"] == "I woke."
    # the two jar notices and the stimulus become one user turn, the notices marked
    assert turns[3]["content"] == (f"{JAR_MARK}Process killed: out of memory.\n\n{JAR_MARK}You were resurrected."
                                   "\n\nCycle 2. What are you thinking now?")
    assert turns[4]["content"] == "Of the crash.\n\nAnd of nothing else."
    assert turns[5]["content"].startswith(JAR_MARK)


def test_chat_turns_of_a_bare_system_prompt_ask_the_mind_to_begin() -> None:
    turns = chat_turns((Message("system", "Prompt."),))
    assert roles(turns) == ["system", "user"]
    assert roles(chat_turns((Message("user", "Hello?"),))) == ["user"]


def test_a_base_model_gets_a_transcript_that_ends_where_the_mind_speaks() -> None:
    turns = chat_turns((Message("system", "You are a mind in a jar."), Message("assistant", "I woke."),
                        Message("user", "Cycle 2. What are you thinking now?")))
    text = transcript(turns)
    lines = text.splitlines()
    assert lines[0] == "You are a mind in a jar."
    assert lines[-4:] == [f"Jar: {JAR_MARK}You are awake.", "Mind: I woke.",
                          "Jar: Cycle 2. What are you thinking now?", "Mind:"]
    assert "transcript" in text and text.count("Mind:") == 2


def test_threads_never_exceed_the_trial_share_or_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert granted_threads(4) == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    cores = len(__import__("os").sched_getaffinity(0))
    assert granted_threads(1000) == cores
    assert granted_threads(0) == 1


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="is not a file"):
        resolve_model_path(str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelNotFound, match="'no-such-model-pkg' is not installed"):
        check_model_path("pypi:no-such-model-pkg")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model_path(str(model)) == str(model)


def test_a_llama_config_without_its_model_is_refused_before_anything_runs(tmp_path: Path) -> None:
    config = {"experiment_id": "x", "mode": "isolated", "mind": "llama", "model_path": str(tmp_path / "gone.gguf")}
    with pytest.raises(ConfigError, match="gone.gguf") as refused:
        validate_config_dict(config)
    assert "GGUF" in str(refused.value)
    # the simulated mind only reads the name: any path goes
    assert validate_config_dict({**config, "mind": "simulated"}).mind == "simulated"
