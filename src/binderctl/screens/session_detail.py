"""One session in full: who, what repository, how long, how much, and what to do."""

from __future__ import annotations

from rich.table import Table

from binderctl.formatting import cpu, moment, size
from binderctl.models import Session
from binderctl.screens import keymap
from binderctl.screens.detail import DetailScreen, fields


def session_table(session: Session, now: float) -> Table:
    return fields(
        [
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
        ]
    )


class SessionDetailScreen(DetailScreen):
    KINDS = frozenset({"session", "clock"})
    BINDINGS = list(keymap.selection_bindings("sessions"))
    NOUN = "Session"
    ENDED = "This session has ended (or the model is not connected yet)."

    def describe(self) -> Table | None:
        model = self.console.model
        session = None if model is None else model.sessions.get(self.key)
        return None if session is None else session_table(session, self.console.clock())

    def action_logs(self) -> None:
        self.show("logs", self.key)

    def selected_targets(self) -> list[str]:
        return [self.key.rsplit("/", 1)[-1]]
