"""One warning event in full (Enter on Events): the whole message, the object it is
about, how often it happened, and when first and last."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from binderctl.formatting import inert, moment
from binderctl.models import WarningEvent
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.cells import fields_table, plain

MESSAGE_LIMIT = 4000


def event_fields(event: WarningEvent, now: float) -> list[tuple[str, Text]]:
    kind, _, name = event.object.partition("/")
    return [
        ("Reason", Text(inert(event.reason, 200), style="bold")),
        ("Type", Text(event.type)),
        ("Object", Text(inert(f"{kind} {name}", 300))),
        ("Namespace", Text(inert(event.namespace or "-", 100))),
        ("Count", Text(str(event.count))),
        ("First seen", Text(moment(event.first_time, now))),
        ("Last seen", Text(moment(event.time, now))),
        ("Message", Text(inert(event.message, MESSAGE_LIMIT))),  # whole, wrapped
    ]


class EventDetailScreen(ConsoleScreen):
    KINDS = frozenset({"clock"})
    BINDINGS = [
        *keymap.DETAIL_BINDINGS,
        Binding("l", "logs", "Logs", tooltip="the logs of the pod the event is about"),
    ]

    def __init__(self, event: WarningEvent) -> None:
        super().__init__()
        self.event = event

    def compose_body(self) -> ComposeResult:
        yield Static(plain(f"Event {self.event.reason}", "bold"), classes="title")
        yield Static(id="detail", classes="panel")

    def render_model(self) -> None:
        table = fields_table(event_fields(self.event, self.console.clock()))
        self.query_one("#detail", Static).update(table)

    def action_logs(self) -> None:
        kind, _, name = self.event.object.partition("/")
        if kind != "Pod":
            self.notify(f"the event is about a {kind}, not a pod", severity="warning")
            return
        self.show("logs", f"{self.event.namespace}/{name}" if self.event.namespace else name)
