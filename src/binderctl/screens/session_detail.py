"""One session in full: who, what repository, how long, how much, and what to do."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from binderctl.formatting import cpu, inert, moment, packet_rate, rate, share, size
from binderctl.models import Session, SessionTraffic
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.cells import fields_table, plain


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def traffic_rows(traffic: SessionTraffic | None) -> list[tuple[str, str]]:
    """The kubelet's figures of a session, over the live model's window."""
    if traffic is None:
        return [("Network", "not read yet (the kubelet's stats come every few seconds)")]
    over = f"over {traffic.window:.0f} s" if traffic.window else "since it started"
    return [
        ("CPU of limit", f"{share(traffic.cpu_share)} ({cpu(traffic.cpu)} {over})"),
        ("Net out", f"{rate(traffic.tx_rate)}, {packet_rate(traffic.tx_packet_rate)} {over}"),
        ("Net in", f"{rate(traffic.rx_rate)} {over}"),
        ("Sent", f"{size(traffic.tx_bytes)} in {_count(traffic.tx_packets)} packets"),
    ]


def session_table(session: Session, now: float, traffic: SessionTraffic | None = None) -> Table:
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
        *traffic_rows(traffic),
    )
    return fields_table((label, plain(inert(value, 1000), limit=1000)) for label, value in fields)


class SessionDetailScreen(ConsoleScreen):
    KINDS = frozenset({"session", "traffic", "clock"})
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
            traffic = None if model is None else model.traffic.get(self.pod)
            detail.update(session_table(session, self.console.clock(), traffic))

    def action_logs(self) -> None:
        self.show("logs", self.pod)

    def selected_targets(self) -> list[str]:
        return [self.pod.rsplit("/", 1)[-1]]
