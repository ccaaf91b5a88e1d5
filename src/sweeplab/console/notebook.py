"""Progress in a Jupyter notebook: one display, updated in place, for the whole sweep.

Printing in a notebook adds an output block per call, so a 500-trial sweep printed 500 blocks.
Here the sweep gets one ``display_data`` output with a ``display_id`` and every change replaces
its content (``update_display_data``), as IPython's own progress displays do. It needs only
IPython (no widgets), so the saved notebook keeps the final state, also when run by nbclient or
``jupyter nbconvert --execute``. Updates are throttled: a sweep of quick trials costs the kernel
a few messages a second, not one per trial.
"""

from __future__ import annotations

import html
import time
from typing import Any

from .progress_line import Tally, status_words

__all__ = ["UPDATE_INTERVAL", "NotebookDisplay"]

#: seconds between two updates of the display (the first and the last are always sent)
UPDATE_INTERVAL = 0.25


class NotebookDisplay:
    """A progress bar, the counts and the last failure lines, as one HTML display updated in place."""

    def __init__(self, name: str, tally: Tally) -> None:
        from IPython.display import display

        self.name = name
        self.tally = tally
        self.failures: list[str] = []
        self.summary: list[str] = []
        self._sent = 0.0
        self.handle = display(self._bundle(None), raw=True, display_id=True)

    def update(self, eta: float | None, *, force: bool = False) -> None:
        """Show the current counts, unless the last update is younger than :data:`UPDATE_INTERVAL`."""
        now = time.monotonic()
        if not force and now - self._sent < UPDATE_INTERVAL:
            return
        self._sent = now
        if self.handle is not None:
            self.handle.update(self._bundle(eta), raw=True)

    def _bundle(self, eta: float | None) -> dict[str, Any]:
        tally = self.tally
        words = status_words(tally, eta)
        plain = [f"{self.name}  {tally.ended}/{tally.total}  {words}", *self.failures[-5:], *self.summary]
        escape = html.escape
        rows = "".join(f"<div style='color:#b00020'>{escape(line)}</div>" for line in self.failures[-5:])
        rows += "".join(f"<div>{escape(line)}</div>" for line in self.summary)
        markup = (f"<div class='sweeplab-progress' style='font-family:monospace'>"
                  f"<b>{escape(self.name)}</b> <progress value='{tally.ended}' max='{max(1, tally.total)}' "
                  f"style='width:40%;vertical-align:middle'></progress> {tally.ended}/{tally.total} "
                  f"&nbsp; {escape(words)}{rows}</div>")
        return {"text/plain": "\n".join(plain), "text/html": markup}
