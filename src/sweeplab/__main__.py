"""``python -m sweeplab`` is the ``sweeplab`` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
