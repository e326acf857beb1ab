"""One session in full: who, what repository, how long, how much, and what to do."""

from __future__ import annotations

from rich.table import Table

from binderctl.formatting import cpu, moment, packet_rate, rate, share, size
from binderctl.models import Session, SessionTraffic
from binderctl.screens import keymap
from binderctl.screens.detail import DetailScreen, fields


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
            *traffic_rows(traffic),
        ]
    )


class SessionDetailScreen(DetailScreen):
    KINDS = frozenset({"session", "traffic", "clock"})
    BINDINGS = list(keymap.selection_bindings("sessions"))
    NOUN = "Session"
    ENDED = "This session has ended (or the model is not connected yet)."

    def describe(self) -> Table | None:
        model = self.console.model
        if model is None or self.key not in model.sessions:
            return None
        traffic = model.traffic.get(self.key)
        return session_table(model.sessions[self.key], self.console.clock(), traffic)

    def action_logs(self) -> None:
        self.show_logs(self.key)

    def selected_targets(self) -> list[str]:
        return [self.key.rsplit("/", 1)[-1]]
