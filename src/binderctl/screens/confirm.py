"""Yes/no before anything that changes the member. The dialog shows its keys; Enter
always answers No (a stray Enter after typing in the wrong place must not act)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from binderctl.formatting import inert
from binderctl.widgets.cells import plain

KEYS = "y: yes   n, esc or enter: no"


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen .dialog-keys {
        width: 1fr;
        height: 3;
        content-align: left middle;
    }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
        Binding("enter", "answer(False)", "No", priority=True),
    ]

    def __init__(
        self, question: str, details: str, blast_radius: str, warnings: tuple[str, ...] = ()
    ) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.details = details
        self.blast_radius = blast_radius
        self.warnings = warnings  # why it may not work out

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(plain(self.question, "bold", limit=300), classes="dialog-title")
            yield Static(plain(self.details, "dim", limit=600), classes="dialog-body")
            for warning in self.warnings:
                text = Text(inert(f"⚠ {warning}", 600), style="bold red")  # wraps
                yield Static(text, classes="dialog-body")
            yield Static(plain(self.blast_radius, "bold yellow", limit=600), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Static(plain(KEYS, "dim"), classes="dialog-keys")
                yield Button("No (n)", id="no", variant="primary")
                yield Button("Yes (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
