"""Reading what the console shows, for assertions."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App
from textual.widgets import Static


def shown_text(widget: Static, width: int = 140) -> str:
    """The plain text a Static shows (tables and styled text alike)."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def notifications(app: App) -> list[str]:
    return [n.message for n in app._notifications]
