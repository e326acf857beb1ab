"""`?`: every key and command, generated from the keymap and the action catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from binderctl.screens import keymap
from binderctl.screens.typing import HELP as TYPING_HELP
from binderctl.services import catalogue

# Keys handled by the widgets themselves rather than by a binding of ours.
WIDGET_KEYS = (
    ("enter", "details of the selected row"),
    ("↑ ↓ pgup pgdn", "move (home, end: first and last)"),
    ("ctrl+p", "command palette: every screen and action"),
)


def _key(binding: Binding) -> str:
    return binding.key_display or binding.key


def _described(bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    return [(_key(b), b.tooltip or b.description) for b in bindings]


def _action_rows() -> Iterable[tuple[str, str]]:
    """An action per row: its key (and where it acts), what it does, its `:` command."""
    for action in catalogue.ACTIONS:
        key = action.key or "palette, :"
        where = f" (marked rows on {action.selection.title()})" if action.selection else ""
        command = " ".join(w for w in (f":{action.name}", action.example) if w)
        aliases = [a.name for a in catalogue.ALIASES if a.action == action.name]
        also = f", also :{', :'.join(aliases)}" if aliases else ""
        yield key, f"{action.title}{where}: {action.help}  ({command}{also})"


def _section(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(
        title=title, title_justify="left", title_style="bold", show_header=False, box=None
    )
    table.add_column(style="bold cyan", min_width=14, no_wrap=True)
    table.add_column(ratio=1)
    for key, text in rows:
        table.add_row(key, text)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box help"):
            yield Static(
                _section(
                    "Screens",
                    ((s.key, f"{s.title}: {s.help}  (:{s.name})") for s in keymap.SCREENS),
                )
            )
            yield Static(
                _section(
                    "Actions (each asks first; in read-only mode refused, and said so)",
                    _action_rows(),
                )
            )
            yield Static(
                _section(
                    "Everywhere",
                    [
                        *(
                            (_key(b), b.description)
                            for b in keymap.GLOBAL_BINDINGS
                            if not b.action.startswith(("app.act(", "app.refused(", "app.go("))
                        ),
                        *WIDGET_KEYS,
                    ],
                )
            )
            yield Static(_section("Dashboard", _described(keymap.DASHBOARD_BINDINGS)))
            yield Static(_section("Typed text is not a command", TYPING_HELP))
            yield Static(
                _section("Tables", ((_key(b), b.description) for b in keymap.TABLE_BINDINGS))
            )
            yield Static(_section("Logs", ((_key(b), b.description) for b in keymap.LOG_BINDINGS)))
            yield Static(_section("Budget", _described(keymap.BUDGET_BINDINGS)))
            yield Static(
                _section(
                    "Provision (in a form field, q and 1-9 type; tab moves between fields)",
                    _described([*keymap.PROVISION_BINDINGS, *keymap.FIELD_BINDINGS]),
                )
            )
