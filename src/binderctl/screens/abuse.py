"""Sessions ranked by suspicion (``services/abuse.py``): mining, scanning, traffic far
above the member's norm; the selected one's reasons and every other running session of
its repository below the table. ``b`` bans the selected rows' repositories (`:ban REPO
--kill` also kills their sessions), enter opens a session (ctrl+d kills it there)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from binderctl.formatting import age, inert, packet_rate, rate, repo_label, share
from binderctl.screens import keymap
from binderctl.screens.table import TableScreen
from binderctl.services.abuse import Suspicion
from binderctl.widgets.cells import plain
from binderctl.widgets.live_table import CellValue, Column, Row

SIBLINGS_SHOWN = 8


def suspicion_row(suspect: Suspicion, now: float) -> Row:
    session, traffic = suspect.session, suspect.traffic
    flagged = ", ".join(suspect.signals)
    style = "bold red" if suspect.flagged else ""
    used = traffic.cpu_share
    return (
        # whole points: a score moving in its noise does not re-sort the table
        CellValue(flagged or "-", -round(suspect.score), style),
        CellValue(session.user, session.user),
        CellValue(repo_label(session.repo), session.repo),
        CellValue(age(now - session.started), -session.started),
        CellValue(share(used), used),
        CellValue(rate(traffic.tx_rate), traffic.tx_rate),
        CellValue(packet_rate(traffic.tx_packet_rate), traffic.tx_packet_rate),
        CellValue(str(len(suspect.repo_sessions) - 1), len(suspect.repo_sessions) - 1),
    )


def suspect_table(suspect: Suspicion, now: float) -> Table:
    """Why the session is suspected, and the other running sessions of its repository."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    session = suspect.session
    rows = [
        ("Session", f"{session.pod} ({session.user}, {age(now - session.started)} old)"),
        ("Repository", f"{session.repo} at {session.ref}"),
        ("Why", "; ".join(suspect.reasons) or "nothing stands out"),
    ]
    others = sorted(suspect.siblings, key=lambda s: s.started)
    shown = [f"{s.pod} ({s.user}, {age(now - s.started)} old)" for s in others[:SIBLINGS_SHOWN]]
    if len(others) > SIBLINGS_SHOWN:
        shown.append(f"and {len(others) - SIBLINGS_SHOWN} more")
    rows.append(("Same repository", "\n".join(shown) or "no other session running"))
    for label, value in rows:
        table.add_row(label, plain(inert(value, 2000), limit=2000))
    return table


class AbuseScreen(TableScreen):
    BINDINGS = list(keymap.selection_bindings("abuse"))
    KINDS = frozenset({"session", "traffic", "clock", "connection"})
    NOUN = "sessions"
    EMPTY = (
        "no figures yet: the kubelet's stats are read every few seconds, and a session is "
        "ranked from its first read"
    )
    COLUMNS = (
        Column("signals", "Suspected", 18),
        Column("user", "User", 22),
        Column("repo", "Repository"),
        Column("age", "Age", 6),
        Column("cpu_share", "CPU%", 5),
        Column("net_out", "Net out", 9),
        Column("packets", "Pkt out", 11),
        Column("siblings", "Same repo", 9),
    )
    SORT_BY = "signals"

    def __init__(self) -> None:
        super().__init__()
        self._ranked: dict[str, Suspicion] = {}
        # ranked once per state of the model (a clock tick only moves the ages)
        self._ranked_for: object = None
        self._rows: dict[str, tuple[Row, str]] = {}
        self._panel: object = None  # what the panel shows now

    def compose_body(self) -> ComposeResult:
        yield from super().compose_body()
        yield Static(id="suspect", classes="panel")

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        if model is not self._ranked_for:
            self._ranked_for = model
            self._ranked = {s.key: s for s in model.suspicions}
            self._rows = {}
            for key, suspect in self._ranked.items():
                session = suspect.session
                words = " ".join(suspect.signals)
                text = f"{session.pod} {session.user} {session.repo} {words}"
                self._rows[key] = (suspicion_row(suspect, now), text)
        for key, (row, text) in self._rows.items():
            shown_age = age(now - self._ranked[key].session.started)
            if row[3].text != shown_age:
                row = (*row[:3], row[3]._replace(text=shown_age), *row[4:])
                self._rows[key] = (row, text)
            yield key, row, text

    def render_model(self) -> None:
        super().render_model()
        self._show_current()

    def _show_current(self) -> None:
        panel = self.query_one("#suspect", Static)
        key = self.table.current_key
        suspect = self._ranked.get(key) if key is not None else None
        panel.display = suspect is not None
        if suspect is None:
            return
        now = self.console.clock()
        shown = (suspect.key, suspect.reasons, suspect.repo_sessions, int(now // 60))
        if shown != self._panel:  # a new table lays the screen out again: only on change
            self._panel = shown
            panel.update(suspect_table(suspect, now))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_current()

    def selected_targets(self) -> list[str]:
        """The repositories of the selected rows (what ``ban`` acts on)."""
        repos = [
            self._ranked[k].session.repo for k in self.table.selected_keys() if k in self._ranked
        ]
        return list(dict.fromkeys(repos))

    def open_details(self, key: str) -> None:
        from binderctl.screens.session_detail import SessionDetailScreen

        self.app.push_screen(SessionDetailScreen(key))
