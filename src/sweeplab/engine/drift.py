"""May this sweep start? An existing sweep id needs resume; a resume must not mix experiments.

Everything here only reads: the journal (read-only) and the sweep folder.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import DriftError, JournalError, SweepExistsError
from ..journal.reader import JournalReader
from ..planning.resolve import ResolvedSweep
from ..trial import canonical_json

__all__ = ["check_resumable"]


def _existing_sweep(sweep: ResolvedSweep) -> dict[str, Any] | None:
    """The journal row of this sweep id, read without writing anything."""
    if not sweep.db_path.is_file():
        return None
    try:
        with JournalReader.open(sweep.db_path) as reader:
            return reader.sweep(sweep.sweep_id)
    except JournalError:  # not a journal (yet)
        return None


def _shown(value: Any, limit: int = 80) -> str:
    """A value of a config for a message: its JSON, cut to ``limit`` characters; '(absent)' for a missing key."""
    if not isinstance(value, (dict, list, str, int, float, bool, type(None))):
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_resumable(sweep: ResolvedSweep, allow_drift: bool) -> list[str]:
    """Refuse to start over an existing sweep without resume, or to resume across drift.

    Returns warnings (drift allowed). Writes nothing.
    """
    row = _existing_sweep(sweep)
    folder_used = (sweep.sweep_dir / "sweep_config.json").is_file()
    if row is None and not folder_used:
        return []
    if not sweep.spec.resume:
        where = f"'{sweep.sweep_dir}'" if folder_used else f"the database '{sweep.db_path}'"
        raise SweepExistsError(f"sweep '{sweep.sweep_id}' already exists in {where}: resume it with --resume "
                               f"(or 'sweeplab resume {sweep.sweep_id}'), or choose another --sweep-id")
    if row is None:
        return []
    differences: list[str] = []
    if row["base_hash"] != sweep.base_hash:
        old = json.loads(row["base_config_json"])
        missing = object()
        changed = sorted(k for k in set(old) | set(sweep.base_config)
                         if old.get(k, missing) != sweep.base_config.get(k, missing))
        shown = "; ".join(f"{k}: {_shown(old.get(k, missing))} -> {_shown(sweep.base_config.get(k, missing))}"
                          for k in changed[:10])
        more = f"; and {len(changed) - 10} more" if len(changed) > 10 else ""
        differences.append(f"the base config changed ({shown}{more})")
    old_spec = json.loads(row["spec_json"])
    old_params = {p: v if isinstance(v, list) else [v] for p, v in old_spec.get("_resolved_params", {}).items()}
    new_params = sweep.sweep_params()
    for path, old_values in old_params.items():
        if path not in new_params:
            differences.append(f"parameter '{path}' was swept and is now gone")
            continue
        old_set = {canonical_json(v) for v in old_values}
        new_set = {canonical_json(v) for v in new_params[path]}
        if not old_set <= new_set:
            lost = [v for v in old_values if canonical_json(v) not in new_set]
            differences.append(f"parameter '{path}': values {lost} were swept and are now gone")
    for path in new_params:
        if old_params and path not in old_params:
            differences.append(f"parameter '{path}' is new (every existing trial would change identity)")
    if old_spec.get("seed", 0) != sweep.spec.seed:
        differences.append(f"seed changed from {old_spec.get('seed', 0)} to {sweep.spec.seed}")
    if not differences:
        return []
    message = (f"resuming sweep '{sweep.sweep_id}' would mix results of a different experiment: "
               + "; ".join(differences))
    if not allow_drift:
        raise DriftError(message + ". Start a new sweep id, restore the old values, or pass --allow-drift")
    return [message + " (allowed by --allow-drift)"]
