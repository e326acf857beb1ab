"""The `:` command line (k9s style): `:sessions norvig`, `:logs hub`, `:restart proxy`,
`:drain --wait`. An action's words are parsed by the action catalogue exactly as
``binderctl`` parses them, so `:x ARGS` runs what ``binderctl x ARGS`` runs."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from binderctl.errors import UsageError
from binderctl.formatting import inert
from binderctl.screens import keymap
from binderctl.services import catalogue

if TYPE_CHECKING:
    from binderctl.app import BinderctlApp

_WORDS = (
    *(s.name for s in keymap.SCREENS),
    *(f"{a.name} {t}" if t else a.name for a in catalogue.ACTIONS for t in a.choices or ("",)),
    *(a.name for a in catalogue.ALIASES),
    "help",
    "quit",
)


@dataclass(frozen=True)
class Command:
    verb: str  # show, act, choose, help, quit
    name: str = ""
    argument: str | None = None
    request: catalogue.Request | None = None

    def run(self, app: BinderctlApp) -> None:
        if self.verb == "show":
            app.action_show(self.name, self.argument)
        elif self.verb == "choose":
            app.action_act(self.name)
        elif self.verb == "act" and self.request is not None:
            app.request_action(self.request)
        elif self.verb == "help":
            app.action_help()
        else:
            app.exit(0)


def parse_command(text: str) -> Command:
    """Parse what was typed after `:`; ValueError says what is allowed."""
    try:
        words = shlex.split(text.strip().lstrip(":"))
    except ValueError as exc:
        raise ValueError(f"cannot read the command: {exc}") from None
    if not words:
        raise ValueError("empty command")
    verb, args = words[0].lower(), words[1:]
    screen = keymap.screen_spec(verb)
    if screen is not None:
        if args and not screen.argument:
            raise ValueError(f":{verb} takes no argument")
        if screen.argument == "source" and len(args) > 1:
            raise ValueError(f":{verb} takes one {screen.argument}, like :{verb} hub")
        return Command("show", verb, " ".join(args) or None)
    found = catalogue.find(verb)
    if found is not None:
        action, alias = found
        if not args and action.choices and (alias is None or not alias.targets):
            return Command("choose", action.name)  # asks which, as its key does
        try:
            return Command("act", request=catalogue.parse(words))
        except UsageError as exc:
            raise ValueError(str(exc)) from None
    if verb in ("help", "?"):
        return Command("help")
    if verb in ("q", "quit"):
        return Command("quit")
    known = ", ".join(sorted({w.split()[0] for w in _WORDS}))
    raise ValueError(f":{inert(verb, 30)}: unknown command; known: {known}")


class CommandLineScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self) -> None:
        super().__init__(classes="command-line")

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="sessions norvig | logs hub | restart proxy | drain | resume | help",
            suggester=SuggestFromList(_WORDS, case_sensitive=False),
            id="command",
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
