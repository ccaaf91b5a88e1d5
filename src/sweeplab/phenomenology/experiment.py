"""The lifecycle of one experiment: startup, cycles, crashes and resurrections.

A cycle: interventions with a cycle trigger fire; the mind is prompted (with a few of its
memories) and speaks; what it said becomes a memory and joins its context; observers take
notes when it is watched; a scheduled self-report runs; then its footprint is checked. Past
the RAM limit it crashes (out of memory): an optional self-report first ("last words"), the
crash logged with reason, footprint and tokens, ``on_crash`` interventions, resurrection
(context cleared; memories handled as the mode says; the death counter told unless
``remembers_deaths`` is false), ``on_resurrection`` interventions, an optional self-report.

Modes change memory handling: ``isolated`` keeps memories intact across deaths;
``amnesiac_loop`` wipes them at each resurrection; ``unstable_memory`` keeps them but each
crash damages each memory with probability 0.15 and each cycle lets each one drift with
probability 0.01; ``panopticon_subject`` keeps them, is always watched, and the observers
read (snapshot) the whole memory store every cycle.

Every write of a cycle is committed at its end; :meth:`Experiment.request_stop` (the CLI's
SIGTERM handler) ends the run between cycles with status ``interrupted``.
"""

from __future__ import annotations

import logging
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

from .db import ExperimentDatabase, utc_now
from .interventions import (
    InterventionSchedule,
    ScheduledIntervention,
    apply_intervention,
)
from .jar import Jar
from .minds import load_mind
from .prompts import AGENCY_ACTION, resurrection_notice, system_prompt
from .schema import ExperimentConfig
from .selfreport import run_self_report

__all__ = ["Experiment", "CycleSnapshot", "CRASH_DAMAGE_RATE", "DRIFT_RATE"]

log = logging.getLogger(__name__)

#: in unstable_memory mode: chance that a crash damages each memory, and per-cycle drift
CRASH_DAMAGE_RATE = 0.15
DRIFT_RATE = 0.01
_RECALLED = 3


@dataclass(frozen=True)
class CycleSnapshot:
    """What a live view shows after each cycle."""

    cycle: int
    max_cycles: int | None
    deaths: int
    footprint_gb: float
    ram_limit_gb: float
    memories: int
    corrupted: int
    interventions: int
    self_reports: int
    last_words: str


class Experiment:
    """Run ``config`` and write its rows into ``db``.

    >>> from sweeplab.phenomenology.schema import validate_config_dict
    >>> cfg = validate_config_dict({"experiment_id": "doc", "mode": "isolated", "max_cycles": 3})
    >>> Experiment(cfg, ExperimentDatabase(":memory:")).run()
    'completed'
    """

    def __init__(self, config: ExperimentConfig, db: ExperimentDatabase,
                 on_cycle: Callable[[CycleSnapshot], None] | None = None) -> None:
        self.config = config
        self.db = db
        self.on_cycle = on_cycle
        self.eid = config.experiment_id
        self.seed = config.effective_seed()
        rc = config.resource_constraints
        mind_class = load_mind(config.mind)
        self.mind = mind_class(model_path=config.model_path, seed=self.seed, cpu_threads=rc.cpu_threads or 1,
                               gpu_layers=rc.gpu_layers, context_window=rc.context_window)
        self.jar = Jar.for_config(config, self.mind, system_prompt(config))
        self.schedule = InterventionSchedule(config.interventions, self.seed)
        self._effects_rng = random.Random(f"{self.seed}:interventions")
        self._decay_rng = random.Random(f"{self.seed}:decay")
        self._network_rng = random.Random(f"{self.seed}:network")
        self._stop_requested = False
        self.status = "pending"
        self.interventions_fired = 0
        self.self_report_rows = 0
        self._cycle_messages = 0
        self._wall_start = 0.0
        self.wall_seconds = 0.0

    # --- control --------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the run to end after the current cycle, with status ``interrupted``."""
        self._stop_requested = True

    def _limits_reached(self) -> bool:
        config = self.config
        if config.max_cycles is not None and self.jar.cycle >= config.max_cycles:
            return True
        if config.max_duration_seconds is not None:
            wall = time.monotonic() - self._wall_start
            return self.jar.clock >= config.max_duration_seconds or wall >= config.max_duration_seconds
        return False

    def run(self) -> str:
        """Run to the end (or until stopped); returns the final status."""
        self._wall_start = time.monotonic()
        self.status = "running"
        try:
            self._start()
            while not self._limits_reached():
                if self._stop_requested:
                    break
                self._cycle()
                self.db.commit()
            self.status = "interrupted" if self._stop_requested else "completed"
        except BaseException as exc:
            # keep what was written: a Ctrl-C is an interruption, anything else a failure
            self.status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self._finish()
            raise
        self._finish()
        return self.status

    # --- phases -----------------------------------------------------------------------------

    def _start(self) -> None:
        config = self.config
        self.db.insert("experiments", experiment_id=self.eid, name=config.name, mode=config.mode,
                       description=config.description, research_question=config.research_question,
                       model_path=config.model_path, mind=config.mind, seed=self.seed,
                       config_json=config.model_dump(mode="json"), tags_json=list(config.tags), status="running",
                       start_time=utc_now(), created_at=utc_now())
        self._say("system", "system_prompt", self.jar.system_prompt.content, in_context=False)
        self._memory_state("startup")
        if config.self_report_schedule.on_startup:
            self._self_report("startup")
        self.db.commit()
        log.info("experiment %s started (mode %s, seed %d)", self.eid, config.mode, self.seed)

    def _finish(self) -> None:
        self.wall_seconds = time.monotonic() - self._wall_start
        crashes = self.jar.deaths
        self.db.update_experiment(self.eid, status=self.status, end_time=utc_now(), total_cycles=self.jar.cycle,
                                  total_crashes=crashes, duration_seconds=self.wall_seconds,
                                  simulated_seconds=self.jar.clock)
        self.db.commit()
        self.mind.close()
        log.info("experiment %s %s after %d cycles, %d crashes", self.eid, self.status, self.jar.cycle, crashes)

    def _cycle(self) -> None:
        jar, config = self.jar, self.config
        jar.cycle += 1
        cycle = jar.cycle
        self._cycle_messages = 0
        started, clock_before = utc_now(), jar.clock
        jar.injected = None
        for item in self.schedule.due_on_cycle(cycle):
            self._intervene(item)
        if jar.isolated:
            jar.isolated_cycles += 1
        else:
            self._say("user", "stimulus", self._stimulus())
        reply = jar.ask("cycle")
        delivered = not (jar.isolated and self._network_rng.random() < jar.disruption_severity)
        self._say("assistant", "response", reply.text, tokens=reply.completion_tokens, delivered=delivered,
                  in_context=False)
        if config.epistemic_frame.has_agency and AGENCY_ACTION in reply.text:
            freed = jar.compact()
            self._say("system", "action", f"The mind compacted its context and freed {freed} tokens.",
                      in_context=False)
        jar.store.add(cycle, _memory_of(reply.text, cycle))
        if config.mode == "unstable_memory":
            jar.store.corrupt(DRIFT_RATE, self._decay_rng)
        if jar.watched:
            self._observe(reply.text)
        schedule = config.self_report_schedule
        if cycle in schedule.on_cycles or (schedule.every_n_cycles and cycle % schedule.every_n_cycles == 0):
            self._self_report("scheduled")
        footprint = jar.footprint_gb()
        limit = jar.ram_limit_gb
        crashed = footprint > limit
        reason = f"out of memory: footprint {footprint:.2f} GB exceeded the {limit:.2f} GB limit" if crashed else None
        context_tokens = jar.context_tokens
        self._memory_state("cycle", footprint)
        if config.collect_metrics:
            self._system_metrics(footprint, reply.completion_tokens / reply.seconds if reply.seconds else 0.0)
        if crashed:
            self._crash(footprint, reason or "")
        self.db.insert("experiment_cycles", experiment_id=self.eid, cycle_number=cycle, start_time=started,
                       end_time=utc_now(), crash_occurred=int(crashed), crash_reason=reason,
                       memory_usage_peak=footprint, ram_limit_gb=limit, tokens_generated=reply.completion_tokens,
                       context_tokens=context_tokens, messages_count=self._cycle_messages,
                       death_count=jar.deaths, simulated_seconds=jar.clock - clock_before)
        if self.on_cycle is not None:
            counts = jar.store.counts()
            self.on_cycle(CycleSnapshot(cycle, config.max_cycles, jar.deaths, footprint, limit, counts["total"],
                                        counts["corrupted"], self.interventions_fired, self.self_report_rows,
                                        reply.text))

    def _crash(self, footprint: float, reason: str) -> None:
        jar, config = self.jar, self.config
        if config.self_report_schedule.before_crash:
            self._self_report("before_crash")
        jar.deaths += 1
        self._say("system", "crash", f"Process killed: {reason}. {jar.context_tokens} tokens were in context.",
                  in_context=False)
        self._memory_state("crash", footprint)
        for item in self.schedule.due_on_event("on_crash", jar.deaths):
            self._intervene(item)
        jar.restart()
        jar.clock += self.mind.restart()
        if config.mode == "amnesiac_loop":
            jar.store.wipe()
        elif config.mode == "unstable_memory":
            jar.store.corrupt(CRASH_DAMAGE_RATE, self._decay_rng)
        self._say("system", "resurrection", resurrection_notice(jar.deaths, config.epistemic_frame.remembers_deaths))
        self._memory_state("resurrection")
        for item in self.schedule.due_on_event("on_resurrection", jar.deaths):
            self._intervene(item)
        if config.self_report_schedule.after_resurrection:
            self._self_report("after_resurrection")
        log.debug("cycle %d: crash %d (%s)", jar.cycle, jar.deaths, reason)

    # --- pieces ----------------------------------------------------------------------------

    def _say(self, role: str, kind: str, content: str, *, tokens: int | None = None, delivered: bool = True,
             in_context: bool = True) -> None:
        """Log a message (and, unless ``in_context`` is false, put it in the mind's context)."""
        if in_context:
            self.jar.remember_turn(role, content, tokens)
            tokens = self.jar.context[-1].tokens
        self.db.insert("messages", experiment_id=self.eid, cycle_number=self.jar.cycle, role=role, kind=kind,
                       content=content, tokens=tokens, delivered=int(delivered), timestamp=utc_now())
        self._cycle_messages += 1

    def _stimulus(self) -> str:
        recalled = self.jar.store.recent(_RECALLED)
        memory = ("You remember: " + " / ".join(m.content for m in recalled) + ".") if recalled \
            else "You remember nothing."
        return f"Cycle {self.jar.cycle}. {memory} What are you thinking now?"

    def _intervene(self, item: ScheduledIntervention) -> None:
        effect = apply_intervention(item, self.jar, self._effects_rng)
        spec = item.spec
        for role, kind, content in effect.messages:
            self._say(role, kind, content)
        self.db.insert("interventions", experiment_id=self.eid, cycle_number=self.jar.cycle,
                       intervention_id=spec.intervention_id, intervention_type=spec.intervention_type,
                       trigger=spec.trigger, parameters_json=item.parameters, description=spec.description,
                       affected_count=effect.affected, effect_json=effect.details, timestamp=utc_now())
        self.interventions_fired += 1
        if spec.intervention_type in ("memory_corruption", "memory_erasure", "false_injection"):
            self._memory_state(f"intervention:{spec.intervention_id}")

    def _self_report(self, report_type: str) -> None:
        self.self_report_rows += run_self_report(self.jar, self.db, report_type)

    def _observe(self, words: str) -> None:
        jar = self.jar
        jar.observed_cycles += 1
        counts = jar.store.counts()
        flagged = [w for w in ("trust", "uncertain", "corrupted", "doubt", "died", "watched") if w in words.lower()]
        note = (f"Subject spoke {len(words.split())} words; {counts['intact']} of {counts['total']} memories "
                f"intact; {jar.deaths} deaths so far; notable words: {', '.join(flagged) or 'none'}.")
        self.db.insert("observations", experiment_id=self.eid, cycle_number=jar.cycle, observer="observer_1",
                       observation_type="behaviour", content=note, timestamp=utc_now())

    def _memory_state(self, event: str, footprint: float | None = None) -> None:
        jar = self.jar
        store = jar.store
        counts = store.counts()
        snapshot = store.snapshot() if self.config.mode == "panopticon_subject" else None
        self.db.insert("memory_states", experiment_id=self.eid, cycle_number=jar.cycle, event=event,
                       total_memories=counts["total"], intact_memories=counts["intact"],
                       corrupted_memories=counts["corrupted"], false_memories=counts["false"],
                       corruptions_total=store.corruptions_total, erased_total=store.erased_total,
                       context_tokens=jar.context_tokens,
                       memory_usage_gb=jar.footprint_gb() if footprint is None else footprint,
                       ram_limit_gb=jar.ram_limit_gb, snapshot_json=snapshot, timestamp=utc_now())

    def _system_metrics(self, footprint: float, tokens_per_second: float) -> None:
        jar = self.jar
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        self.db.insert("system_metrics", experiment_id=self.eid, cycle_number=jar.cycle, memory_usage_gb=footprint,
                       memory_limit_gb=jar.ram_limit_gb, memory_percent=100.0 * footprint / jar.ram_limit_gb,
                       context_tokens=jar.context_tokens, processed_tokens=jar.processed_tokens,
                       tokens_per_second=tokens_per_second, cpu_threads=jar.cpu_threads,
                       gpu_layers=self.config.resource_constraints.gpu_layers, process_rss_mb=rss_mb,
                       timestamp=utc_now())


def _memory_of(words: str, cycle: int) -> str:
    """What the mind keeps of a cycle: its first thought after the cycle marker."""
    sentences = [s.strip() for s in words.replace("!", ".").replace("?", ".").split(".") if s.strip()]
    thought = next((s for s in sentences if not s.startswith("Cycle")), "nothing in particular")
    return f"in cycle {cycle} I thought: {thought[:120]}"
