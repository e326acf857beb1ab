"""What every console screen shares: the status header on top, the footer below."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from binderctl.widgets.header import StatusHeader

if TYPE_CHECKING:
    from binderctl.app import BinderctlApp

# What changed in the live model; screens redraw only for what they show.
# The model's change kinds (models.ChangeKind) plus the clock tick and the budget.
ALL_KINDS = frozenset(
    {
        *("session", "build", "component", "node", "health", "warning"),
        *("rotation", "connection", "history", "clock", "budget"),
    }
)


class ConsoleScreen(Screen):
    """A screen with the status header; subclasses compose the body and render the model."""

    KINDS: frozenset[str] = frozenset()

    @property
    def console(self) -> BinderctlApp:
        return cast("BinderctlApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.query_one(StatusHeader).state = self.console.header_state
        self.model_changed(ALL_KINDS)

    def model_changed(self, kinds: frozenset[str]) -> None:
        """Redraw what depends on ``kinds``; called on the UI thread for the shown screen."""
        if kinds & self.KINDS:
            self.render_model()

    def render_model(self) -> None:
        """Draw the screen's data from the app's live model."""
