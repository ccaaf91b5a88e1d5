"""The ``phenomenology`` runner: how the sweep engine runs one "mind in a jar" trial.

Each trial runs as ``python -m sweeplab.phenomenology`` in its own process, writing its rows
into the per-attempt database the engine names and its metrics into the attempt folder.

Seeds: :meth:`PhenomenologyRunner.prepare` gives the trial the engine's seed unless the
config sets ``seed`` explicitly (not null). An explicit seed is kept on purpose: every
trial then shares the same random numbers, so differences between trials come from the
swept parameters alone (common random numbers). Leave ``seed`` out of the base config (or
sweep ``seed`` itself) when replicates should differ.

Base configs: any of the Season 3 lab's experiment files, the panopticon orchestration file
included; a swept dot path into it starts with ``subject_config.``, ``observer_config.`` or
``coordinator_config.`` (:mod:`.lab_format`). Warnings about names a config keeps but nothing
reads are logged once per sweep, when the configs are checked before anything runs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ConfigError
from ..runners.base import RunContext, Runner, TrialResources

log = logging.getLogger(__name__)

__all__ = ["PhenomenologyRunner"]

_SEED_RANGE = 2**63


#: a simulated-mind trial as measured through the engine on 2 cores (full factorial, 2 at once)
_START_SECONDS = 0.35
_CYCLE_SECONDS = 0.003
#: what a language-model trial's process holds beyond its mind's footprint: the interpreter,
#: libraries and llama.cpp's compute buffers (measured 0.15 GB with Gemma 3 270M, 4,096 tokens)
MODEL_PROCESS_HEADROOM_GB = 0.3


class PhenomenologyRunner(Runner):
    """Runs the built-in phenomenology experiment (see :mod:`sweeplab.phenomenology`)."""

    name: ClassVar[str] = "phenomenology"
    open_schema: ClassVar[bool] = False

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self._warned: set[str] = set()  # warnings already logged by validate()

    @classmethod
    def accepts(cls, base_config: dict[str, Any]) -> bool:
        """True for dicts shaped like an ExperimentConfig (a ``mode`` plus one of its sections) or like the
        panopticon orchestration file (``experiment_type`` with a subject and an observer)."""
        if not isinstance(base_config, dict):
            return False
        if "mode" not in base_config:
            return "experiment_type" in base_config and "subject_config" in base_config
        return any(key in base_config for key in ("epistemic_frame", "resource_constraints", "interventions",
                                                  "self_report_schedule"))

    def allows_new_key(self, mapping_path: tuple[str, ...], key: str) -> bool:
        """New keys only where the schema accepts them (custom beliefs, mode settings, known parameters, absent
        fields), in an experiment file or in the subject or observer of an orchestration file.

        An intervention parameter the tables do not know is refused here, though a config may keep one: a
        new key created by a sweep is a typo until some reader is known to read it."""
        from .intervention_params import (
            known_parameter_names,
            known_trigger_param_names,
        )
        from .lab_format import CoordinatorConfig
        from .schema import (
            EpistemicFrame,
            ExperimentConfig,
            Intervention,
            ResourceConstraints,
            SelfReportSchedule,
        )

        path = tuple(str(part) for part in mapping_path)
        if path and path[0] in ("subject_config", "observer_config"):
            path = path[1:]  # an orchestration's member: the same rules as an experiment file
        elif path == ("coordinator_config",):
            return key in CoordinatorConfig.model_fields
        if path in (("epistemic_frame", "custom_beliefs"), ("mode_specific_config",), ("hive_config",)):
            return bool(key.strip())
        if len(path) == 3 and path[0] == "interventions" and path[1].isdigit():
            if path[2] == "parameters":
                return key in known_parameter_names()
            if path[2] == "trigger_params":
                return key in known_trigger_param_names()
            return False
        if len(path) == 2 and path[0] == "interventions" and path[1].isdigit():
            return key in Intervention.model_fields
        sections = {(): ExperimentConfig, ("resource_constraints",): ResourceConstraints,
                    ("epistemic_frame",): EpistemicFrame, ("self_report_schedule",): SelfReportSchedule}
        model = sections.get(path)
        return model is not None and key in model.model_fields

    def anchor(self, base_config: dict[str, Any], base_path: Path) -> dict[str, Any]:
        """A ``partner_config`` that names a file by relative path is read in (relative to the base file), so
        every trial carries its partner: trials run from their own folders, and on Dask workers."""
        reference = base_config.get("partner_config") if isinstance(base_config, dict) else None
        if not isinstance(reference, str):
            return base_config
        path = Path(reference).expanduser()
        path = path if path.is_absolute() else base_path.parent / path
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"partner_config {reference!r} of base config '{base_path}': cannot read {path} "
                              f"({exc}); give the partner's file relative to the base config's folder") from None
        return {**base_config, "partner_config": body}

    def validate(self, config: dict[str, Any]) -> None:
        """Raise :class:`~sweeplab.errors.ConfigError` (field, value, expectation) for an invalid config; log
        each of its warnings (names kept but not read) once for this runner."""
        from .lab_format import experiment_from_dict

        source = f"experiment config '{config.get('experiment_id', '?')}'" if isinstance(config, dict) \
            else "experiment config"
        checked = experiment_from_dict(config, source)
        for line in checked.warnings():
            if line not in self._warned:
                self._warned.add(line)
                log.warning("%s: %s", source, line)

    def prepare(self, config: dict[str, Any], seed: int) -> dict[str, Any]:
        """The config with the trial's seed, unless it sets its own (see the module docstring)."""
        if not isinstance(config, dict):
            raise ConfigError(f"experiment config must be a JSON object, got {type(config).__name__}")
        model_path = config.get("model_path")
        if isinstance(model_path, str) and not model_path.startswith("pypi:") and not Path(model_path).is_absolute() \
                and Path(model_path).is_file():
            # a model file named from the folder sweeplab runs in: trials run in the spec's folder
            config = {**config, "model_path": str(Path(model_path).resolve())}
        if config.get("seed") is not None:
            return dict(config)
        return {**config, "seed": int(seed) % _SEED_RANGE}

    def resources(self, config: dict[str, Any]) -> TrialResources:
        """The trial's RAM limit, from ``resource_constraints``, and the CPU threads it really keeps busy.

        The simulated mind is one Python thread whatever ``cpu_threads`` the jar declares (that number is
        part of the experiment, not of its cost), so it needs one; a language-model mind runs llama.cpp on
        its declared ``cpu_threads`` (capped to the grant), so it needs those. ``parallel: auto`` sizes by
        this. A language-model mind's process needs its interpreter and llama.cpp's buffers beyond the
        mind's own limit, and maps more address space than it uses: it gets that headroom, held
        by resident memory only. The mind still crashes in its jar at ``ram_limit_gb``. A trial of
        several language-model minds (a pair, a hive: :mod:`.encounter`) holds one model each, so it
        is granted that much per mind; the minds take turns, so the threads stay one mind's.
        """
        from .encounter import encounter_size

        constraints = config.get("resource_constraints") or {}
        memory = float(constraints.get("ram_limit_gb", 4.0))
        threads = int(constraints.get("cpu_threads") or 1)
        if config.get("mind", "simulated") != "simulated":
            minds = encounter_size(config)
            return TrialResources(memory_gb=minds * (memory + MODEL_PROCESS_HEADROOM_GB), cpu_threads=threads,
                                  resident_only=True)
        return TrialResources(memory_gb=memory, cpu_threads=1)  # the simulated mind: one Python thread

    def estimate_seconds(self, config: dict[str, Any]) -> float | None:
        """The simulated mind's cost, measured on 2 cores (process start ~0.35 s, ~3 ms a cycle per mind); None
        otherwise."""
        from .encounter import encounter_size

        if config.get("mind", "simulated") != "simulated" or not config.get("max_cycles"):
            return None
        return _START_SECONDS + _CYCLE_SECONDS * int(config["max_cycles"]) * encounter_size(config)

    def command(self, context: RunContext) -> tuple[list[str], dict[str, str]]:
        """``python -m sweeplab.phenomenology`` on the resolved config, quiet, into the attempt's files."""
        argv = [sys.executable, "-m", "sweeplab.phenomenology", "--config", context.config_file,
                "--db", context.db_file, "--metrics", os.path.join(context.attempt_folder, "metrics.json"), "--quiet"]
        env = {"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(max(1, context.cpu_threads))}
        return argv, env
