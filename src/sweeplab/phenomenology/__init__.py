"""The built-in "mind in a jar" experiment, run by the ``phenomenology`` runner plug-in.

A mind lives in a memory-limited process. It speaks once a cycle, its memory footprint grows
with its context, it crashes when the footprint passes its RAM limit and is resurrected with
a death counter; interventions corrupt, erase or fake its memories, and self-report
questionnaires ask it what it believes about itself.

Layout (the data flows top to bottom):

``schema``              the :class:`ExperimentConfig` (pydantic) and its validation messages
``intervention_params`` what each intervention type and trigger accepts
``model_profile``       model size and quantisation parsed from ``model_path``
``memory``              the mind's long-term memories and the memory-footprint model
``jar``                 the world around the mind: context, limits, clock, counters
``interventions``       when interventions fire and what they do to the jar
``prompts``             system prompts per mode, the questionnaire, belief statements
``minds``               the backends that produce the mind's words (``simulated`` built in); a mind
                        knows no mode: a mode hands the simulated mind its behaviour with the scene
``modes/``              each mode's mechanics, prompts, parsers and simulated behaviour
                        (``modes.partners``: deriving a partner's config from the lead's)
``encounter``           which minds a trial holds (its seats) and where each one's config comes from
``selfreport``          questionnaire sessions and belief assessments
``db``                  :class:`ExperimentDatabase`, the SQLite experiment tables
``recorder``            :class:`TrialRecorder`, every row a trial writes (modes write through it)
``experiment``          the lifecycle loop: startup, cycles, crashes, resurrections
``cli``                 ``python -m sweeplab.phenomenology`` (metrics, live view, signals)
``runner``              :class:`PhenomenologyRunner`, the sweep-engine plug-in

Importing this package is cheap on purpose: nothing below is imported until it is used, so
the sweep engine can find the runner without loading pydantic, and the trial process stays
within a small RAM limit (it never imports numpy, pandas, scipy or matplotlib).
"""

from __future__ import annotations

__all__: list[str] = []
