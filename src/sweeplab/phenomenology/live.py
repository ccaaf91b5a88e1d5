"""A rich live view of a running experiment, for a terminal.

Imported by the CLI only when stdout is a terminal and ``--quiet`` is not given.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .experiment import CycleSnapshot

__all__ = ["LiveView"]


class LiveView:
    """Shows cycle, deaths, memory footprint against the limit, and the mind's last words (the lead mind's, in a
    trial of several).

    Use as a context manager and pass :meth:`update` as the experiment's ``on_cycle`` hook.
    """

    def __init__(self, experiment_id: str, console: Console | None = None) -> None:
        self.experiment_id = experiment_id
        self.console = console or Console()
        self._live = Live(self._render(None), console=self.console, refresh_per_second=8, transient=False)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._live.__exit__(kind, exc, tb)

    def update(self, snapshot: CycleSnapshot) -> None:
        """Redraw with the state after a cycle."""
        self._live.update(self._render(snapshot))

    def _render(self, snap: CycleSnapshot | None) -> Panel:
        title = f"mind in a jar · {self.experiment_id}"
        if snap is None:
            return Panel(Text("starting ..."), title=title)
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        of = f" / {snap.max_cycles}" if snap.max_cycles else ""
        table.add_row("cycle", f"{snap.cycle}{of}")
        table.add_row("deaths", str(snap.deaths))
        if snap.minds > 1:
            table.add_row("minds", f"{snap.minds} (lead shown; {snap.deaths_all} deaths in all)")
        table.add_row("memory", f"{snap.footprint_gb:.2f} GB of {snap.ram_limit_gb:.2f} GB")
        bar = ProgressBar(total=snap.ram_limit_gb, completed=min(snap.footprint_gb, snap.ram_limit_gb), width=40)
        table.add_row("", bar)
        table.add_row("memories", f"{snap.memories} held, {snap.corrupted} corrupted")
        table.add_row("interventions", str(snap.interventions))
        table.add_row("self-reports", str(snap.self_reports))
        words = Text(snap.last_words[:300], style="italic")
        return Panel(Group(table, words), title=title)
