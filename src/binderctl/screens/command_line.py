"""The `:` command line (k9s style): `:sessions norvig`, `:logs hub`, `:logs hub
--previous`, `:restart proxy`, `:drain --wait`. An action's words are parsed by the
action catalogue exactly as ``binderctl`` parses them, so `:x ARGS` runs what
``binderctl x ARGS`` runs."""

from __future__ import annotations

import shlex

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from binderctl.errors import UsageError
from binderctl.formatting import inert
from binderctl.screens import keymap
from binderctl.screens.logs import Source
from binderctl.screens.messages import PickTarget, Quit, RequestAction, ShowHelp, ShowScreen
from binderctl.services import catalogue

_WORDS = (
    *(s.name for s in keymap.SCREENS),
    *(f"{a.name} {t}" if t else a.name for a in catalogue.ACTIONS for t in a.choices or ("",)),
    *(a.name for a in catalogue.ALIASES),
    "help",
    "quit",
)


def parse_command(text: str) -> Message:
    """What was typed after `:`, as the message that asks the console for it (the same
    a key posts); ValueError says what is allowed."""
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
        if screen.argument == "source" and args:
            return ShowScreen(verb, str(Source.parse(shlex.join(args))))
        return ShowScreen(verb, " ".join(args) or None)
    found = catalogue.find(verb)
    if found is not None:
        action, alias = found
        if not args and action.choices and (alias is None or not alias.targets):
            return PickTarget(action.name)  # asks which, as its key does
        try:
            return RequestAction(catalogue.parse(words))
        except UsageError as exc:
            raise ValueError(str(exc)) from None
    if verb in ("help", "?"):
        return ShowHelp()
    if verb in ("q", "quit"):
        return Quit()
    known = ", ".join(sorted({w.split()[0] for w in _WORDS}))
    raise ValueError(f":{inert(verb, 30)}: unknown command; known: {known}")


class CommandLineScreen(ModalScreen[Message | None]):
    """Dismissed with the message the typed command makes (None: nothing to do)."""

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
        if not event.value.strip():
            self.dismiss(None)
            return
        try:
            command = parse_command(event.value)
        except ValueError as exc:
            self.notify(str(exc), title="Command", severity="warning", markup=False)
            command = None
        self.dismiss(command)
