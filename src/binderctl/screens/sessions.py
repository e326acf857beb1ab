"""Running user sessions: live, filterable, sortable, with marks and kill."""

from __future__ import annotations

from collections.abc import Iterable

from binderctl.formatting import age, cpu, repo_label, size
from binderctl.models import Session
from binderctl.screens import keymap
from binderctl.screens.table import TableScreen
from binderctl.widgets.live_table import CellValue, Column, Row

PHASE_STYLE = {"Running": "", "Pending": "yellow", "Failed": "bold red", "Unknown": "red"}


def session_row(session: Session, now: float) -> Row:
    return (
        CellValue(session.user, session.user),
        CellValue(repo_label(session.repo), session.repo),
        CellValue(session.ref, session.ref),
        CellValue(age(now - session.started), -session.started),
        CellValue(cpu(session.cpu), session.cpu),
        CellValue(size(session.memory), session.memory),
        CellValue(session.phase, session.phase, PHASE_STYLE.get(session.phase, "")),
    )


class SessionsScreen(TableScreen):
    BINDINGS = list(keymap.selection_bindings("sessions"))
    PODS = "sessions"
    KINDS = frozenset({"session", "clock", "connection"})
    NOUN = "sessions"
    EMPTY = "no sessions running yet: they appear here as users launch repositories"
    COLUMNS = (
        Column("user", "User", middle=True),
        Column("repo", "Repository", middle=True),
        Column("ref", "Ref", 10),
        Column("age", "Age", 6),
        Column("cpu", "CPU", 11),
        Column("memory", "Memory", 7),
        Column("phase", "Phase", 9),
    )
    SORT_BY = "age"

    def __init__(self) -> None:
        super().__init__()
        # key -> (session, row, search text): rebuilt only for sessions that changed.
        self._rows: dict[str, tuple[Session, Row, str]] = {}

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        cache = self._rows
        fresh: dict[str, tuple[Session, Row, str]] = {}
        for key, session in model.sessions.items():
            cached = cache.get(key)
            if cached is not None and cached[0] is session:
                _, row, text = cached
                shown_age = age(now - session.started)
                if row[3].text != shown_age:
                    row = (*row[:3], row[3]._replace(text=shown_age), *row[4:])
            else:
                row = session_row(session, now)
                text = f"{session.pod} {session.user} {session.repo} {session.ref} {session.phase}"
            fresh[key] = (session, row, text)
            yield key, row, text
        self._rows = fresh

    def open_details(self, key: str) -> None:
        from binderctl.screens.session_detail import SessionDetailScreen

        self.app.push_screen(SessionDetailScreen(key))
