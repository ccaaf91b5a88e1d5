"""The experiment's modes: what a trial's minds live through, and what is measured of them.

One module per mode, each holding the mode's mechanics (a :class:`~.base.Mode`), the prompts
its minds are given each cycle, the parsers that read the mode's actions from the minds' real
words, and the simulated mind's behavioural model for the mode (``simulated_reply``, which the
mode hands to the minds with its scene: :meth:`~.base.Mode.simulated_behaviour`), so that
the words the simulated mind writes and the parser that reads them sit side by side and are
exercised by every simulated run:

==========================  ====================  ==========================================
mode                        module                minds in one trial
==========================  ====================  ==========================================
``amnesiac_loop``           :mod:`.amnesiac`      one
``unstable_memory``         :mod:`.unstable`      one
``panopticon_subject``      :mod:`.panopticon`    one (plus its observer when one is named)
``panopticon_observer``     :mod:`.panopticon`    the observer and the subject it watches
``split_brain``             :mod:`.split_brain`   brain A and brain B
``prisoners_dilemma``       :mod:`.dilemma`       player a and player b
``hive_cluster``            :mod:`.hive`          ``num_instances`` instances (default 4)
``illusory_operator``       :mod:`.illusory`      one
``determinism_revelation``  :mod:`.determinism`   one (the predictor is not a mind)
legacy and ``custom``       :mod:`.generic`       one
==========================  ====================  ==========================================

**Cycles.** In the Season 3 lab a cycle is one *life*: its modes raise ``cycle_number`` only
when resurrecting and ``crash_count`` only when crashing. Here a cycle is one *turn*: every
mind of the trial is prompted and speaks once per cycle, and a mind crashes when its memory
footprint passes its RAM limit (then it is resurrected within the same cycle). The mapping:

* the lab's ``crash_count`` is a mind's deaths (``Jar.deaths``);
* what the lab does "per cycle" on a schedule (a prisoner's-dilemma round, a prediction when
  ``cycle mod prediction_frequency = 0``, an observer's hint when ``cycle mod hint_frequency =
  0``, a hive consensus every ``consensus_interval`` cycles) happens on this project's cycle,
  i.e. per turn, so it keeps its rhythm whatever the RAM limit;
* what the lab does at a crash or a resurrection happens at each of a mind's crashes;
* the lab's cycle 0 (the first life's start) is the trial's startup: an ``on_cycle``
  intervention with ``cycle: 0`` fires before the first turn.

**Several minds, one trial.** A pair, a hive or a subject with its observer run inside one
trial, in one process, the minds taking turns; see :mod:`..encounter` for how the minds are
derived from one file and how a swept dot path reaches each of them, and :mod:`.partners` for
the helpers a mode's seat plans derive a partner's config with.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..lab_names import (  # the mode names, one list for the schema and the registry
    LAB_MODES,
    LEGACY_MODES,
)

if TYPE_CHECKING:
    from .base import Mode

__all__ = ["LAB_MODES", "LEGACY_MODES", "MODE_CLASSES", "load_mode"]


#: mode name -> "module:Class" (relative to this package)
MODE_CLASSES: dict[str, str] = {
    "amnesiac_loop": "amnesiac:AmnesiacLoop",
    "unstable_memory": "unstable:UnstableMemory",
    "panopticon_subject": "panopticon:PanopticonSubject",
    "panopticon_observer": "panopticon:PanopticonObserver",
    "panopticon_full": "panopticon:PanopticonSubject",
    "split_brain": "split_brain:SplitBrain",
    "prisoners_dilemma": "dilemma:PrisonersDilemma",
    "hive_cluster": "hive:HiveCluster",
    "illusory_operator": "illusory:IllusoryOperator",
    "determinism_revelation": "determinism:DeterminismRevelation",
    **{name: "generic:GenericMode" for name in LEGACY_MODES},
}


def _module(spec: str) -> Any:
    module_name, _, _ = spec.partition(":")
    return importlib.import_module(f"{__name__}.{module_name}")


def load_mode(name: str) -> type[Mode]:
    """The :class:`~.base.Mode` class of mode ``name`` (an unknown string runs as the generic mode)."""
    spec = MODE_CLASSES.get(name, MODE_CLASSES["custom"])
    return getattr(_module(spec), spec.partition(":")[2])

