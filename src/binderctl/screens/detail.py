"""What the detail views (Enter on a row) share: a title, one scrolling panel drawn
from the live model, Esc back and `l` for the logs."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.cells import fields_table, plain

VALUE_LIMIT = 1000  # characters of one field shown


def fields(rows: list[tuple[str, str]]) -> Table:
    """Labels and their values (untrusted text, shown inert and folded)."""
    return fields_table((label, plain(value, limit=VALUE_LIMIT)) for label, value in rows)


class DetailScreen(ConsoleScreen):
    """One row in full: ``key`` is the row's key in its list."""

    BINDINGS = [*keymap.DETAIL_BINDINGS, Binding("l", "logs", "Logs")]
    NOUN = ""  # what the row is: "Session", "Build"
    ENDED = "It has ended (or the model is not connected yet)."

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def compose_body(self) -> ComposeResult:
        yield Static(plain(f"{self.NOUN} {self.key}", "bold", limit=200), classes="title")
        with VerticalScroll(classes="panel"):
            yield Static(id="detail")

    def describe(self) -> RenderableType | None:
        """The row in full from the live model, or None when it is not there."""
        return None

    def render_model(self) -> None:
        shown = self.describe()
        self.query_one("#detail", Static).update(plain(self.ENDED) if shown is None else shown)
