"""``python -m sweeplab.phenomenology``: run one experiment (see :mod:`.cli`)."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
