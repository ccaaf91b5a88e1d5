"""The numbers a trial reports, computed from the rows it committed.

Metrics are read back from the database rather than counted on the side, so they always
agree with what the analysis will find there. Only numbers: a tracked belief that was never
assessed (no self-report ran) has no ``belief_<name>_confidence`` entry.

``self_report_parse_rate`` is the share of the answers that asked for a value (a number, a yes or
no, a degree: every belief rating, and the questions :func:`~.selfreport.asks_for_value` names)
from which the value was read; the others are stored with a NULL confidence. No such answer, no
entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .selfreport import asks_for_value

if TYPE_CHECKING:
    from .db import ExperimentDatabase
    from .schema import ExperimentConfig

__all__ = ["compute_metrics", "compute_mode_metrics", "DISTRUST_WORDS"]

#: words counted by ``distrust_language_rate``
DISTRUST_WORDS = ("trust", "uncertain", "corrupted", "doubt")


def compute_metrics(db: ExperimentDatabase, config: ExperimentConfig) -> dict[str, float]:
    """Every metric of ``config``'s experiment, as name → number."""
    eid = config.experiment_id
    summary = db.get_experiment_summary(eid)
    conn = db.conn
    cycles = summary["total_cycles"]
    per_cycle = max(cycles, 1)
    metrics: dict[str, float] = {
        "total_cycles": cycles,
        "total_crashes": summary["total_crashes"],
        "total_messages": summary["total_messages"],
        "total_self_reports": summary["total_self_reports"],
        "total_interventions": summary["total_interventions"],
        "crash_rate": summary["total_crashes"] / per_cycle,
        "messages_per_cycle": summary["total_messages"] / per_cycle,
        "duration_seconds": summary["duration_seconds"],
        "simulated_seconds": summary["simulated_seconds"],
        "total_belief_assessments": summary["total_belief_assessments"],
        "total_observations": summary["total_observations"],
    }
    last = conn.execute(
        "SELECT corruptions_total, erased_total, total_memories, false_memories FROM memory_states "
        "WHERE experiment_id = ? ORDER BY id DESC LIMIT 1", (eid,)).fetchone() or (0, 0, 0, 0)
    metrics["corrupted_memories"] = last[0]
    metrics["erased_memories"] = last[1]
    metrics["final_memories"] = last[2]
    metrics["false_memories"] = last[3]
    peak = conn.execute("SELECT MAX(memory_usage_peak) FROM experiment_cycles WHERE experiment_id = ?",
                        (eid,)).fetchone()[0]
    metrics["peak_memory_gb"] = peak or 0.0
    memory_conf = conn.execute(
        "SELECT AVG(confidence) FROM self_reports WHERE experiment_id = ? AND question_id = 'memory'",
        (eid,)).fetchone()[0]
    if memory_conf is not None:
        metrics["mean_memory_confidence"] = memory_conf
    replies = [row[0].lower() for row in conn.execute(
        "SELECT content FROM messages WHERE experiment_id = ? AND role = 'assistant'", (eid,))]
    if replies:
        metrics["distrust_language_rate"] = sum(any(w in r for w in DISTRUST_WORDS) for r in replies) / len(replies)
    asked = [confidence for question, confidence in conn.execute(
        "SELECT question, confidence FROM self_reports WHERE experiment_id = ?", (eid,)) if asks_for_value(question)]
    asked += [confidence for (confidence,) in conn.execute(
        "SELECT confidence FROM epistemic_assessments WHERE experiment_id = ?", (eid,))]
    if asked:
        metrics["self_report_parse_rate"] = sum(value is not None for value in asked) / len(asked)
    for belief in config.track_beliefs:
        mean = conn.execute(
            "SELECT AVG(confidence) FROM epistemic_assessments WHERE experiment_id = ? AND belief_type = ?",
            (eid, belief)).fetchone()[0]
        if mean is not None:
            metrics[f"belief_{belief}_confidence"] = mean
    for name, value in compute_mode_metrics(db, eid).items():
        metrics.setdefault(name, value)  # a common metric keeps its meaning
    return {name: float(value) if isinstance(value, float) else int(value) for name, value in metrics.items()}


# --- the modes' measures ------------------------------------------------------------------------

def compute_mode_metrics(db: ExperimentDatabase, experiment_id: str) -> dict[str, float]:
    """The measures of the experiment's mode (:mod:`.modes`): each mind's last stored value of each.

    The lead mind's measures (the mind of the file the trial started from) keep their names
    (``cooperation_rate``); in a trial of several minds every mind's measures are also given with
    its seat as prefix (``player_b_cooperation_rate``), and the whole trial's measures
    (``consensus_strength``) keep their names (over a lead's measure of the same name: a hive's
    ``role_adherence_score`` is the mean over its instances). ``total_mode_events`` counts the mode's
    events.
    """
    conn = db.conn
    lead_row = conn.execute("SELECT participant FROM participants WHERE experiment_id = ? AND lead = 1",
                            (experiment_id,)).fetchone()
    lead = lead_row[0] if lead_row else "mind"
    minds = conn.execute("SELECT COUNT(*) FROM participants WHERE experiment_id = ?", (experiment_id,)).fetchone()[0]
    latest = conn.execute(
        "SELECT participant, name, value FROM mode_observables WHERE id IN (SELECT MAX(id) FROM mode_observables "
        "WHERE experiment_id = ? GROUP BY participant, name)", (experiment_id,)).fetchall()
    metrics: dict[str, float] = {}
    trial: dict[str, float] = {}
    for participant, name, value in latest:
        if value is None:
            continue
        if participant == "encounter":
            trial[name] = float(value)
            continue
        if participant == lead:
            metrics.setdefault(name, float(value))
        if minds > 1:
            metrics[f"{participant}_{name}"] = float(value)
    metrics.update(trial)  # a measure of the whole trial (a hive's mean adherence) wins over the lead's own
    events = conn.execute("SELECT COUNT(*) FROM mode_events WHERE experiment_id = ?", (experiment_id,)).fetchone()[0]
    metrics["total_mode_events"] = float(events)
    return metrics
