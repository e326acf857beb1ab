"""The `:` command line (k9s style): `:sessions`, `:logs hub`, `:restart proxy`, `:drain`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from binderctl.screens import keymap

if TYPE_CHECKING:
    from binderctl.app import BinderctlApp

_WORDS = (
    *(s.name for s in keymap.SCREENS),
    *(f"{a.name} {t}" if t else a.name for a in keymap.ACTIONS for t in a.targets or ("",)),
    "logs",
    "kill",
    "help",
    "quit",
)


@dataclass(frozen=True)
class Command:
    verb: str  # show, logs, act, help, quit
    name: str = ""
    target: str | None = None

    def run(self, app: BinderctlApp) -> None:
        if self.verb == "show":
            app.action_show(self.name)
        elif self.verb == "logs":
            app.show_logs(self.target)
        elif self.verb == "act" and self.target is None and keymap.action_spec(self.name):
            app.action_act(self.name)
        elif self.verb == "act":
            app.request_action(self.name, self.target)
        elif self.verb == "help":
            app.action_help()
        else:
            app.exit(0)


def parse_command(text: str) -> Command:
    """Parse what was typed after `:`; ValueError says what is allowed."""
    words = text.strip().lstrip(":").split()
    if not words:
        raise ValueError("empty command")
    verb, args = words[0].lower(), words[1:]
    if len(args) > 1:
        raise ValueError(f"too many words after {verb!r}")
    arg = args[0] if args else None
    if keymap.screen_spec(verb) and verb != "logs":
        if arg:
            raise ValueError(f":{verb} takes no argument")
        return Command("show", verb)
    if verb == "logs":
        return Command("logs", target=arg)
    spec = keymap.action_spec(verb)
    if spec is not None:
        if arg and arg not in spec.targets:
            choices = ", ".join(spec.targets) or "nothing"
            raise ValueError(f":{verb} {arg}: not allowed; {verb} takes {choices}")
        return Command("act", verb, arg)
    if verb == "kill":
        if not arg:
            raise ValueError(":kill needs a session pod name, like :kill jupyter-alice")
        return Command("act", "kill", arg)
    if verb in ("help", "?"):
        return Command("help")
    if verb in ("q", "quit"):
        return Command("quit")
    known = ", ".join(sorted({w.split()[0] for w in _WORDS}))
    raise ValueError(f":{verb[:30]}: unknown command; known: {known}")


class CommandLineScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self) -> None:
        super().__init__(classes="command-line")

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="sessions | logs hub | restart proxy | drain | resume | help",
            suggester=SuggestFromList(_WORDS, case_sensitive=False),
            id="command",
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
