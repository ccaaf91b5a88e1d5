"""The live dashboard: a web view of running and finished sweeps (``sweeplab dashboard``).

``catalog`` which sweeps and files may be shown; ``snapshot`` what a page shows, read from the
journal read-only; ``figures`` the numbers behind the plots; ``watch`` the one change check that
pushes updates to every open page; ``app`` the Starlette application; ``server`` where it listens,
its token and the child process beside ``sweeplab run --dashboard``; ``cli`` the command.
The web stack (the ``[dashboard]`` extra) is imported only by ``app`` and ``server.serve``.
"""

from __future__ import annotations

__all__: list[str] = []
