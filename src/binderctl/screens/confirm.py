"""Yes/no before anything that changes the member. The dialog shows its keys; Enter
always answers No (a stray Enter after typing in the wrong place must not act), and `y`
counts only when pressed on its own once the dialog has been read
(``screens/typing.py``)."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from binderctl.formatting import inert
from binderctl.screens.console import Console
from binderctl.widgets.cells import plain

KEYS = "y: yes   n, esc or enter: no"
TOO_SOON = "y ignored (typed with other keys, or too soon): press y again"


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
        self.shown = float("inf")  # when the dialog came on screen (a Key event's clock)

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

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        self.shown = min(self.shown, event.time)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        if yes and not cast("Console", self.app).typing.deliberate(self.shown):
            self.query_one(".dialog-keys", Static).update(plain(TOO_SOON, "bold yellow", limit=200))
            return
        self.dismiss(yes)
