"""A staged run's steps as one table (provisioning, the staged upgrades)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from binderctl.formatting import inert

if TYPE_CHECKING:
    from binderctl.services.stages import ProgressEvent

STATE_STYLE = {
    "pending": ("·", "dim"),
    "running": ("▶", "bold cyan"),
    "done": ("✔", "green"),
    "skipped": ("↷", "dim"),
    "failed": ("✘", "bold red"),
}


def steps_table(events: Iterable[ProgressEvent]) -> Table:
    """A row per step; a long message wraps (and a long word folds) within the panel."""
    table = Table(box=None, expand=True, pad_edge=False, header_style="bold")
    table.add_column("", width=1, no_wrap=True)
    table.add_column("Step", no_wrap=True)
    table.add_column("Time", justify="right", no_wrap=True)
    table.add_column("Message", ratio=1, overflow="fold")
    for event in events:
        glyph, style = STATE_STYLE[event.state]
        ended = event.state not in ("pending", "running")
        table.add_row(
            Text(glyph, style=style),
            Text(event.title, style="" if ended else "bold"),
            Text(f"{event.elapsed:.1f}s" if ended else "", style="dim"),
            Text(inert(event.message, 400), style="red" if event.state == "failed" else ""),
        )
    return table
