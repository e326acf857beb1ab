"""Running user sessions: live, filterable, sortable, with marks and kill."""

from __future__ import annotations

from collections.abc import Iterable

from binderctl.formatting import age, cpu, rate, repo_label, share, size
from binderctl.models import Session, SessionTraffic
from binderctl.screens import keymap
from binderctl.screens.table import TableScreen
from binderctl.widgets.live_table import CellValue, Column, Row

PHASE_STYLE = {"Running": "", "Pending": "yellow", "Failed": "bold red", "Unknown": "red"}


def traffic_cells(traffic: SessionTraffic | None) -> tuple[CellValue, CellValue, CellValue]:
    """CPU%, Net out and Net in: what a read of the kubelet changes."""
    if traffic is None:
        return CellValue("-"), CellValue("-"), CellValue("-")
    used, sent, received = traffic.cpu_share, traffic.tx_rate, traffic.rx_rate
    # sorted by what is shown: a cell whose figure moves within its shown digits stays
    return (
        CellValue(share(used), None if used is None else round(used, 2)),
        CellValue(rate(sent), None if sent is None else float(f"{sent:.2g}")),
        CellValue(rate(received), None if received is None else float(f"{received:.2g}")),
    )


def session_row(session: Session, traffic: SessionTraffic | None, now: float) -> Row:
    used, sent, received = traffic_cells(traffic)
    return (
        CellValue(session.user, session.user),
        CellValue(repo_label(session.repo), session.repo),
        CellValue(session.ref, session.ref),
        CellValue(age(now - session.started), -session.started),
        CellValue(cpu(session.cpu), session.cpu),
        used,
        CellValue(size(session.memory), session.memory),
        sent,
        received,
        CellValue(session.phase, session.phase, PHASE_STYLE.get(session.phase, "")),
    )


class SessionsScreen(TableScreen):
    BINDINGS = list(keymap.selection_bindings("sessions"))
    PODS = "sessions"
    KINDS = frozenset({"session", "traffic", "clock", "connection"})
    NOUN = "sessions"
    EMPTY = "no sessions running yet: they appear here as users launch repositories"
    COLUMNS = (
        Column("user", "User", middle=True),
        Column("repo", "Repository", middle=True),
        Column("ref", "Ref", 10),
        Column("age", "Age", 6),
        Column("cpu", "CPU", 11),
        Column("cpu_share", "CPU%", 5),
        Column("memory", "Memory", 7),
        Column("net_out", "Net out", 9),
        Column("net_in", "Net in", 9),
        Column("phase", "Phase", 9),
    )
    SORT_BY = "age"

    def __init__(self) -> None:
        super().__init__()
        # key -> (session, its traffic, row, search text): rebuilt only for sessions
        # whose row or figures changed.
        self._rows: dict[str, tuple[Session, SessionTraffic | None, Row, str]] = {}

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        cache = self._rows
        figures = model.traffic
        fresh: dict[str, tuple[Session, SessionTraffic | None, Row, str]] = {}
        for key, session in model.sessions.items():
            traffic = figures.get(key)
            cached = cache.get(key)
            if cached is not None and cached[0] is session:
                _, was, row, text = cached
                if was is not traffic:  # a read of the kubelet: its three cells only
                    used, sent, received = traffic_cells(traffic)
                    row = (*row[:5], used, row[6], sent, received, row[9])
                shown_age = age(now - session.started)
                if row[3].text != shown_age:
                    row = (*row[:3], row[3]._replace(text=shown_age), *row[4:])
            else:
                row = session_row(session, traffic, now)
                text = f"{session.pod} {session.user} {session.repo} {session.ref} {session.phase}"
            fresh[key] = (session, traffic, row, text)
            yield key, row, text
        self._rows = fresh

    def open_details(self, key: str) -> None:
        from binderctl.screens.session_detail import SessionDetailScreen

        self.app.push_screen(SessionDetailScreen(key))
