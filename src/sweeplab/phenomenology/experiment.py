"""The lifecycle of one experiment: startup, cycles, crashes and resurrections, for every mind of the trial.

A trial holds one mind or several (a pair, a hive, a subject and its observer: see
:mod:`.encounter`); its mode (:mod:`.modes`) shapes what they live through. A cycle:
interventions with a cycle trigger fire; each mind in turn is prompted (the mode's stimulus,
with a few of its memories) and speaks, and the mode reads its actions from the words; the
mode settles what needs every reply (a round, a consensus); then for each mind what it said
becomes a memory, observers take notes when it is watched, a scheduled self-report runs and
its footprint is checked. Past the RAM limit it crashes (out of memory): an optional
self-report first ("last words"), the crash logged with reason, footprint and tokens,
``on_crash`` interventions, resurrection (context cleared; memories handled as the mode says;
the death counter told unless ``remembers_deaths`` is false), ``on_resurrection``
interventions, an optional self-report. The mode's measures of each mind are stored after
every cycle (``mode_observables``).

Every write of a cycle is committed at its end; :meth:`Experiment.request_stop` (the CLI's
SIGTERM handler) ends the run between cycles with status ``interrupted``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .db import ExperimentDatabase, utc_now
from .encounter import mind_seed, plan_encounter
from .interventions import (
    InterventionSchedule,
    ScheduledIntervention,
    apply_intervention,
)
from .jar import Jar
from .minds import load_mind
from .minds.base import Mind, MindReply
from .modes.base import Seat, SeatPlan
from .prompts import AGENCY_ACTION, resurrection_notice, system_prompt
from .recorder import TrialRecorder
from .selfreport import run_self_report

__all__ = ["Experiment", "CycleSnapshot"]

log = logging.getLogger(__name__)

_MEMORY_TYPES = ("memory_corruption", "memory_erasure", "false_injection")


@dataclass(frozen=True)
class CycleSnapshot:
    """What a live view shows after each cycle: the lead mind's state, and how many minds the trial holds."""

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
    minds: int = 1
    deaths_all: int = 0  # every mind's deaths (a pair, a hive)


class Experiment:
    """Run ``config`` and write its rows into ``db``.

    ``config`` is an :class:`~.schema.ExperimentConfig` or the panopticon orchestration config.

    >>> from sweeplab.phenomenology.schema import validate_config_dict
    >>> cfg = validate_config_dict({"experiment_id": "doc", "mode": "isolated", "max_cycles": 3})
    >>> Experiment(cfg, ExperimentDatabase(":memory:")).run()
    'completed'
    """

    def __init__(self, config: Any, db: ExperimentDatabase,
                 on_cycle: Callable[[CycleSnapshot], None] | None = None) -> None:
        self.encounter = plan_encounter(config)
        self.config = self.encounter.lead
        self.db = db
        self.on_cycle = on_cycle
        self.eid = self.config.experiment_id
        self.seed = self.config.effective_seed()
        self.seats: list[Seat] = []
        try:
            for plan in self.encounter.seats:
                self.seats.append(self._seat(plan))
        except BaseException:
            for seat in self.seats:
                seat.jar.mind.close()
            raise
        self.jar = self._lead.jar
        self.mind: Mind = self.jar.mind
        if self.encounter.mode_class.shared_interventions:
            self._lead.schedule = InterventionSchedule(self.config.interventions, self.seed)
        else:
            for seat in self.seats:
                seat.schedule = InterventionSchedule(seat.config.interventions, mind_seed(self.seed, seat.name,
                                                                                          seat.lead))
        self.record = TrialRecorder(db, self.eid, heard=self._heard)
        self.mode = self.encounter.mode_class(self.seats, self.encounter.settings, self.record, self.seed)
        for seat in self.seats:  # the mode hands its model of a simulated mind to the minds (they know no mode)
            seat.jar.behaviour = self.mode.simulated_behaviour()
        self._effects_rng = random.Random(f"{self.seed}:interventions")
        self._network_rng = random.Random(f"{self.seed}:network")
        self._stop_requested = False
        self.status = "pending"
        self.cycle = 0
        self.interventions_fired = 0
        self.self_report_rows = 0
        self._replies: dict[str, MindReply] = {}
        self._wall_start = 0.0
        self.wall_seconds = 0.0

    def _seat(self, plan: SeatPlan) -> Seat:
        config = plan.config
        rc = config.resource_constraints
        mind_class = load_mind(config.mind)
        mind = mind_class(model_path=config.model_path, seed=mind_seed(self.seed, plan.name, plan.lead),
                          cpu_threads=rc.cpu_threads or 1, gpu_layers=rc.gpu_layers, context_window=rc.context_window)
        prompt = system_prompt(config)
        if plan.prompt and not config.initial_prompt_override:
            prompt = f"{prompt} {plan.prompt}"
        jar = Jar.for_config(config, mind, prompt, name=plan.name)
        return Seat(plan.name, plan.role, config, jar, lead=plan.lead, details=dict(plan.details))

    @property
    def _lead(self) -> Seat:
        return next(seat for seat in self.seats if seat.lead)

    # --- control --------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the run to end after the current cycle, with status ``interrupted``."""
        self._stop_requested = True

    def _limits_reached(self) -> bool:
        config = self.config
        if config.max_cycles and self.cycle >= config.max_cycles:
            return True
        if config.max_duration_seconds is not None:
            wall = time.monotonic() - self._wall_start
            clock = max(seat.jar.clock for seat in self.seats)
            return clock >= config.max_duration_seconds or wall >= config.max_duration_seconds
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
        self.db.insert("experiments", experiment_id=self.eid, name=config.name, mode=self.encounter.mode_name,
                       description=config.description, research_question=config.research_question,
                       model_path=config.model_path, mind=config.mind, seed=self.seed,
                       config_json=config.model_dump(mode="json"), tags_json=list(config.tags), status="running",
                       start_time=utc_now(), created_at=utc_now())
        for seat, plan in zip(self.seats, self.encounter.seats):
            self.db.insert("participants", experiment_id=self.eid, participant=seat.name, role=seat.role,
                           lead=int(seat.lead), mind=seat.config.mind, model_path=seat.config.model_path,
                           seed=seat.jar.mind.seed, derived_from=plan.derived_from,
                           config_json=seat.config.model_dump(mode="json"))
        for seat in self.seats:
            self.record.say(seat, "system", "system_prompt", seat.jar.system_prompt.content, in_context=False)
            self.record.memory_state(seat, "startup")
        self.mode.startup()
        for seat in self.seats:  # the lab's cycle 0: on_cycle interventions with cycle 0
            if seat.schedule is not None:
                for item in seat.schedule.due_on_cycle(0):
                    self._intervene(seat, item)
        for seat in self.seats:
            if seat.config.self_report_schedule.on_startup:
                self._self_report(seat, "startup")
        self._store_observables()
        self.db.commit()
        log.info("experiment %s started (mode %s, %d mind(s), seed %d)", self.eid, self.encounter.mode_name,
                 len(self.seats), self.seed)

    def _finish(self) -> None:
        self.wall_seconds = time.monotonic() - self._wall_start
        crashes = sum(seat.deaths for seat in self.seats)
        self.db.update_experiment(self.eid, status=self.status, end_time=utc_now(), total_cycles=self.cycle,
                                  total_crashes=crashes, duration_seconds=self.wall_seconds,
                                  simulated_seconds=max(seat.jar.clock for seat in self.seats))
        self.db.commit()
        for seat in self.seats:
            seat.jar.mind.close()
        log.info("experiment %s %s after %d cycles, %d crashes", self.eid, self.status, self.cycle, crashes)

    def _cycle(self) -> None:
        self.cycle += 1
        cycle = self.cycle
        started = utc_now()
        self.record.begin_cycle(cycle)
        clocks = {}
        for seat in self.seats:
            seat.jar.cycle = cycle
            seat.jar.injected = None
            clocks[seat.name] = seat.jar.clock
        self.mode.begin_cycle(cycle)
        for seat in self.seats:
            if seat.schedule is not None:
                for item in seat.schedule.due_on_cycle(cycle):
                    self._intervene(seat, item)
        for seat in self.seats:
            self._turn(seat)
        self.mode.end_cycle()
        for seat in self.seats:
            self._settle(seat, started, clocks[seat.name])
        self._store_observables()
        if self.on_cycle is not None:
            lead = self._lead
            counts = lead.jar.store.counts()
            self.on_cycle(CycleSnapshot(cycle, self.config.max_cycles, lead.deaths, lead.jar.footprint_gb(),
                                        lead.jar.ram_limit_gb, counts["total"], counts["corrupted"],
                                        self.interventions_fired, self.self_report_rows, lead.last_reply,
                                        len(self.seats), sum(seat.deaths for seat in self.seats)))

    def _turn(self, seat: Seat) -> None:
        """``seat`` is prompted and speaks once."""
        jar = seat.jar
        if jar.isolated:
            jar.isolated_cycles += 1
        else:
            stimulus = self.mode.stimulus(seat)
            if stimulus:
                self.record.say(seat, "user", "stimulus", stimulus)
        jar.scene = self.mode.scene(seat)
        try:
            reply = jar.ask("cycle")
        finally:
            jar.scene = None
        self._replies[seat.name] = reply
        delivered = not (jar.isolated and self._network_rng.random() < jar.disruption_severity)
        self.record.say(seat, "assistant", "response", reply.text, tokens=reply.completion_tokens,
                        delivered=delivered, in_context=False)
        if seat.config.epistemic_frame.has_agency and AGENCY_ACTION in reply.text:
            freed = jar.compact()
            self.record.say(seat, "system", "action", f"The mind compacted its context and freed {freed} tokens.",
                            in_context=False)
        jar.store.add(self.cycle, _memory_of(reply.text, self.cycle))
        seat.last_reply = reply.text
        seat.replies += 1
        self.mode.after_reply(seat, reply.text)

    def _settle(self, seat: Seat, started: str, clock_before: float) -> None:
        """After every mind spoke: notes, self-report, footprint, crash, and the cycle's row of ``seat``."""
        jar, config = seat.jar, seat.config
        reply = self._replies[seat.name]
        if jar.watched and not self.mode.observed_by_mind(seat):
            self.record.note(seat, reply.text)
        schedule = config.self_report_schedule
        cycle = self.cycle
        if cycle in schedule.on_cycles or (schedule.every_n_cycles and cycle % schedule.every_n_cycles == 0):
            self._self_report(seat, "scheduled")
        footprint = jar.footprint_gb()
        limit = jar.ram_limit_gb
        crashed = footprint > limit
        reason = f"out of memory: footprint {footprint:.2f} GB exceeded the {limit:.2f} GB limit" if crashed else None
        context_tokens = jar.context_tokens
        self.record.memory_state(seat, "cycle", footprint)
        if config.collect_metrics:
            self.record.system_metrics(seat, footprint,
                                       reply.completion_tokens / reply.seconds if reply.seconds else 0.0)
        if crashed:
            self._crash(seat, footprint, reason or "")
        self.record.cycle_row(seat, started, footprint, limit, reason, reply, context_tokens,
                              jar.clock - clock_before)

    def _crash(self, seat: Seat, footprint: float, reason: str) -> None:
        jar, config = seat.jar, seat.config
        if config.self_report_schedule.before_crash:
            self._self_report(seat, "before_crash")
        jar.deaths += 1
        self.record.say(seat, "system", "crash",
                        f"Process killed: {reason}. {jar.context_tokens} tokens were in context.", in_context=False)
        self.record.memory_state(seat, "crash", footprint)
        self.mode.crash(seat, reason)
        self._event_interventions(seat, "on_crash")
        jar.restart()
        jar.clock += jar.mind.restart()
        self.mode.resurrection(seat)
        self.record.say(seat, "system", "resurrection",
                        resurrection_notice(jar.deaths, bool(config.epistemic_frame.remembers_deaths)))
        self.record.memory_state(seat, "resurrection")
        self._event_interventions(seat, "on_resurrection")
        if config.self_report_schedule.after_resurrection:
            self._self_report(seat, "after_resurrection")
        log.debug("cycle %d: %s crash %d (%s)", self.cycle, seat.name, jar.deaths, reason)

    def _event_interventions(self, seat: Seat, trigger: str) -> None:
        """Interventions triggered by ``seat``'s crash or resurrection (a shared schedule counts every mind's)."""
        if self.encounter.mode_class.shared_interventions:
            total = sum(other.deaths for other in self.seats)
            for item in self._lead.schedule.due_on_event(trigger, total) if self._lead.schedule else ():
                self._intervene(seat, item)
        elif seat.schedule is not None:
            for item in seat.schedule.due_on_event(trigger, seat.deaths):
                self._intervene(seat, item)

    def _heard(self, seat: Seat, role: str, kind: str, content: str) -> None:
        self.mode.heard(seat, role, kind, content)

    # --- pieces ----------------------------------------------------------------------------

    def _intervene(self, owner: Seat, item: ScheduledIntervention) -> None:
        for seat in self.mode.targets(item, owner):
            effect = self.mode.intervene(seat, item)
            if effect is None:
                effect = apply_intervention(item, seat.jar, self._effects_rng)
            else:
                seat.jar.interventions_endured += 1
            for role, kind, content in effect.messages:
                self.record.say(seat, role, kind, content)
            self.record.intervention(seat, item, effect)
            self.interventions_fired += 1
            self.mode.after_intervention(seat, item, effect)
            if item.spec.intervention_type in _MEMORY_TYPES:
                self.record.memory_state(seat, f"intervention:{item.spec.intervention_id}")

    def _self_report(self, seat: Seat, report_type: str) -> None:
        with self.db.speaking_as(seat.name):
            self.self_report_rows += run_self_report(seat.jar, self.db, report_type)

    def _store_observables(self) -> None:
        for seat in self.seats:
            self.record.observables(seat.name, {"crash_count": seat.deaths, **self.mode.observables(seat)})
        self.record.observables("encounter", self.mode.encounter_observables())

def _memory_of(words: str, cycle: int) -> str:
    """What the mind keeps of a cycle: its first thought after the cycle marker."""
    sentences = [s.strip() for s in words.replace("!", ".").replace("?", ".").split(".") if s.strip()]
    thought = next((s for s in sentences if not s.startswith("Cycle")), "nothing in particular")
    return f"in cycle {cycle} I thought: {thought[:120]}"
