"""Pick one of a few choices (which component to restart, which log source)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from binderctl.screens.console import Console
from binderctl.widgets.cells import plain

DELIBERATE_KEYS = "↑ ↓ then enter, or the number: pick   esc: cancel"
TOO_SOON = "pick ignored (typed with other keys, or too soon): pick again"


class ChooseScreen(ModalScreen[str | None]):
    """``deliberate``: the pick leads to an action, so nothing is highlighted at first
    (Enter alone picks nothing) and a pick counts only when made on its own once the
    dialog has been read (``screens/typing.py``); choices can be picked by number."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, title: str, choices: Sequence[str], *, deliberate: bool = False) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.choices = tuple(choices)
        self.deliberate = deliberate
        self.shown = float("inf")  # when the dialog came on screen (a Key event's clock)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            options = OptionList(
                *(Option(plain(self._label(i, c)), id=str(i)) for i, c in enumerate(self.choices))
            )
            if self.deliberate:
                options.highlighted = None  # Enter alone picks nothing
            yield options
            if self.deliberate:
                yield Static(plain(DELIBERATE_KEYS, "dim"), id="choose-keys")

    def _label(self, index: int, choice: str) -> str:
        return f"{index + 1}  {choice}" if self.deliberate and index < 9 else choice

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        self.shown = min(self.shown, event.time)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.deliberate or action != "pick"  # numbers pick where they are shown

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(int(event.option.id or 0))

    def action_pick(self, index: int) -> None:
        if index >= len(self.choices):
            return
        if self.deliberate and not cast("Console", self.app).typing.deliberate(self.shown):
            self.query_one("#choose-keys", Static).update(plain(TOO_SOON, "bold yellow"))
            return
        self.dismiss(self.choices[index])
