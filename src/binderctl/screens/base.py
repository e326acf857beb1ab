"""What every console screen shares: the status header on top, the footer below, and
the console as screens see it (``screens/console.py``): they read it, and ask for
things by posting messages (``screens/messages.py``)."""

from __future__ import annotations

from typing import cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from binderctl.screens import keymap
from binderctl.screens.console import Console
from binderctl.screens.messages import RequestAction, ShowScreen
from binderctl.services import catalogue
from binderctl.widgets.header import StatusHeader

# What changed in the live model; screens redraw only for what they show.
# The model's change kinds (models.ChangeKind) plus the clock tick and the budget.
ALL_KINDS = frozenset(
    {
        *("session", "build", "component", "node", "health", "warning"),
        *("rotation", "connection", "history", "traffic", "departure", "clock", "budget"),
    }
)


def no_list_here() -> str:
    """What `/` says on a screen without a list (typed text goes nowhere there)."""
    lists = ", ".join(f"{s.key} {s.title}" for s in keymap.SCREENS if s.argument == "filter")
    return f"nothing to filter here: / filters the lists ({lists}) and the Logs; : runs a command"


class ConsoleScreen(Screen):
    """A screen with the status header; subclasses compose the body and render the model."""

    BINDINGS = [Binding("slash", "no_list", "Filter", show=False)]
    KINDS: frozenset[str] = frozenset()

    @property
    def console(self) -> Console:
        return cast("Console", self.app)

    def show(self, name: str, argument: str | None = None) -> None:
        """Ask for the screen ``name`` (``logs``: following ``argument``)."""
        self.post_message(ShowScreen(name, argument))

    def show_logs(self, argument: str, key: str = "l") -> None:
        """``key`` asks for the logs of ``argument``; amid typed keys it is a letter of a
        word, not a way to the Logs screen (``screens/typing.py``)."""
        if not self.console.typing.amid(key):
            self.show("logs", argument)

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.query_one(StatusHeader).state = self.console.header_state
        argument = self.console.take_argument(self)
        if argument:
            self.apply_argument(argument)
        self.model_changed(ALL_KINDS)

    def action_no_list(self) -> None:
        self.notify(no_list_here(), title="/", severity="warning", markup=False)

    def apply_argument(self, argument: str) -> None:
        """What `:screen ARGUMENT` asked for (a filter, a log source)."""

    def selected_targets(self) -> list[str]:
        """What the screen's selection actions act on: the marked rows' objects."""
        return []

    def request_by_key(self, key: str, request: catalogue.Request) -> None:
        """Ask for an action from its key: a letter only when pressed on its own, a ctrl
        chord at once (``screens/typing.py``)."""

        def post() -> None:
            self.post_message(RequestAction(request))

        if len(key) == 1:
            self.console.typing.hold(key, post)
        else:
            post()

    def action_act_on_selection(self, name: str) -> None:
        targets = self.selected_targets()
        if not targets:
            self.notify("nothing selected: mark rows with space", severity="warning")
            return
        self.request_by_key(catalogue.spec(name).key, catalogue.request(name, targets))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("act_on_selection", "act_on_component"):
            return not self.console.readonly
        return True

    def model_changed(self, kinds: frozenset[str]) -> None:
        """Redraw what depends on ``kinds``; called on the UI thread for the shown screen."""
        if kinds & self.KINDS:
            self.render_model()

    def render_model(self) -> None:
        """Draw the screen's data from the app's live model."""
