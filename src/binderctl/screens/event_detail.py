"""One warning in full: the object it is about (and whether that still exists), its
reason, how often and since when, and every message of its row, whole."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from binderctl.formatting import inert, moment
from binderctl.models import WarningEvent
from binderctl.screens.detail import DetailScreen, fields
from binderctl.screens.events import WarningGroup, group_of, logs_of

MESSAGE_LIMIT = 4000  # characters of one message shown (a message is a few hundred)


def _event(event: WarningEvent, now: float) -> Group:
    first = event.first_seen or event.time
    seen = f"{event.count} time{'s' if event.count != 1 else ''}"
    head = f"{seen}, first {moment(first, now)}, last {moment(event.time, now)}"
    message = Text(inert(event.message, MESSAGE_LIMIT))
    return Group(Text(head, style="dim"), message, Text(""))


def event_detail(group: WarningGroup, now: float) -> Group:
    latest = group.latest
    where = f"{latest.object} in namespace {latest.namespace or '-'}"
    if group.gone:
        where += "  (gone: deleted since)"
    table = fields(
        [
            ("Reason", latest.reason),
            ("Object", where),
            ("Count", str(group.count)),
            ("First seen", moment(group.first_seen, now)),
            ("Last seen", moment(latest.time, now)),
            *([("Images", ", ".join(group.images))] if group.images else []),
        ]
    )
    messages = Text("Messages, newest first", style="bold")
    return Group(table, Text(""), messages, *(_event(e, now) for e in group.events))


class EventDetailScreen(DetailScreen):
    KINDS = frozenset({"warning", "clock"})
    NOUN = "Warning"
    ENDED = "This warning is no longer kept (events expire an hour after they last happen)."

    def _group(self) -> WarningGroup | None:
        model = self.console.model
        return None if model is None else group_of(self.key, model.warnings)

    def describe(self) -> Group | None:
        group = self._group()
        return None if group is None else event_detail(group, self.console.clock())

    def action_logs(self) -> None:
        group = self._group()
        if group is not None:
            logs_of(self, group)
