"""Messages in the terms of the Python API: ``resume=True`` where the command line says ``--resume``.

The engine's messages name the fix as a command-line user types it (``--resume``, ``--allow-drift``,
``'sweeplab resume ID --sweep-dir DIR'``). A researcher in a notebook calls
:class:`~sweeplab.ExperimentSweep` instead, so the Python API passes every message it raises or
shows through :func:`python_terms`. Only the phrases the engine writes are rewritten (a flag inside
a user's own command, such as ``python train.py --output {trial_dir}``, is left alone), except for
the flags no experiment program is likely to have (``--resume``, ``--allow-drift``, ``--sweep-id``,
``--max-failures``).

>>> python_terms("sweep 'a' already exists in 'logs/sweeps/a': resume it with --resume "
...              "(or 'sweeplab resume a'), or choose another --sweep-id")
"sweep 'a' already exists in 'logs/sweeps/a': resume it with resume=True, or choose another sweep_id"
>>> python_terms("Fix the cause and run 'sweeplab resume s1 --sweep-dir logs/sweeps'")
"Fix the cause and run ExperimentSweep(..., sweep_id='s1', output_dir='logs/sweeps', resume=True).run_all()"
"""

from __future__ import annotations

import re

__all__ = ["python_terms", "resume_call"]


def resume_call(sweep_id: str, output_dir: str | None = None) -> str:
    """The Python call that resumes ``sweep_id``: ``ExperimentSweep(..., sweep_id=..., resume=True).run_all()``."""
    where = f", output_dir={output_dir!r}" if output_dir else ""
    return f"ExperimentSweep(..., sweep_id={sweep_id!r}{where}, resume=True).run_all()"


def _resume(match: re.Match[str]) -> str:
    return resume_call(match.group(1), match.group(2))


#: (pattern, replacement), applied in order: whole phrases first, then single flags
_RULES: tuple[tuple[re.Pattern[str], object], ...] = tuple((re.compile(p), r) for p, r in (
    (r"resume it with --resume \(or 'sweeplab resume [^']*'\)", "resume it with resume=True"),
    (r"'sweeplab resume ([^'\s]+)(?: --sweep-dir ([^']+))?'", _resume),
    (r"'sweeplab run CONFIG\.yaml --resume'", "resume=True"),
    (r"--dask / dask_scheduler", "dask_scheduler"),
    (r"--jetson / jetson_optimized", "jetson_optimized=True"),
    (r"\(on the CLI: --command '\.\.\.' or --function \.\.\.\)", "(in Python: function=a callable or "
                                                                   "\"module:function\", or command=[...])"),
    (r"max_failures: 0 \(--max-failures 0\)", "max_failures=0"),
    (r"(?:another )?--(?:output|sweep-dir) \(output_dir\)", "another output_dir"),
    (r"(?:another )?--db \(db_path\)", "another db_path"),
    (r"--db (\S)", r"db_path=\1"),
    (r" \((?:--function|--command)\)", ""),
    (r"--resume\b", "resume=True"),
    (r"pass --allow-drift\b", "pass allow_drift=True to run_all()"),
    (r"--allow-drift\b", "allow_drift=True"),
    (r"--sweep-id\b", "sweep_id"),
    (r"--max-failures (\d+)", r"max_failures=\1"),
    (r"--max-failures\b", "max_failures"),
))


def python_terms(message: str) -> str:
    """``message`` with the command line's fixes said as the Python API's arguments."""
    for pattern, replacement in _RULES:
        message = pattern.sub(replacement, message)  # type: ignore[arg-type]
    return message
