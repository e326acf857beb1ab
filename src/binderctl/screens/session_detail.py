"""One session in full: who, what repository, how long, how much, and what to do."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from binderctl.formatting import cpu, inert, moment, size
from binderctl.models import Session
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.cells import fields_table, plain


def session_table(session: Session, now: float) -> Table:
    fields = (
        ("Pod", session.pod),
        ("Namespace", session.namespace),
        ("User", session.user),
        ("Repository", session.repo),
        ("Ref", session.ref),
        ("Phase", session.phase),
        ("Started", moment(session.started, now)),
        ("CPU", cpu(session.cpu)),
        ("Memory", size(session.memory)),
        ("Restarts", str(session.restarts)),
    )
    return fields_table((label, plain(inert(value, 1000), limit=1000)) for label, value in fields)


class SessionDetailScreen(ConsoleScreen):
    KINDS = frozenset({"session", "clock"})
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("l", "logs", "Logs"),
        *keymap.selection_bindings("sessions"),
    ]

    def __init__(self, pod: str) -> None:
        super().__init__()
        self.pod = pod

    def compose_body(self) -> ComposeResult:
        yield Static(plain(f"Session {self.pod}", "bold"), classes="title")
        yield Static(id="detail", classes="panel")

    def render_model(self) -> None:
        model = self.console.model
        session = None if model is None else model.sessions.get(self.pod)
        detail = self.query_one("#detail", Static)
        if session is None:
            detail.update(plain("This session has ended (or the model is not connected yet)."))
        else:
            detail.update(session_table(session, self.console.clock()))

    def action_logs(self) -> None:
        self.show("logs", self.pod)

    def selected_targets(self) -> list[str]:
        return [self.pod.rsplit("/", 1)[-1]]
