"""The executor contract's trial (``trial_script.py``) as a python-runner function, run by warm workers.

``call(config, context)`` runs ``trial_script.main(config["mode"], config["arg"])`` in the attempt's
process; a non-zero code becomes the process's exit code, as the script's own ``sys.exit`` would.
"""

from __future__ import annotations

import os
from typing import Any

import trial_script


def call(config: dict[str, Any], context: Any) -> None:
    """Run one mode of the stand-in trial."""
    # the worker imported trial_script before any attempt existed: its folder is this attempt's
    trial_script.ATTEMPT_DIR = os.environ.get("SWEEPLAB_ATTEMPT_DIR", ".")
    code = trial_script.main(config["mode"], config.get("arg"))
    if code:
        raise SystemExit(code)
