"""Recent warning events, newest first."""

from __future__ import annotations

from collections.abc import Iterable

from binderctl.formatting import age
from binderctl.models import WarningEvent
from binderctl.screens.table import TableScreen
from binderctl.widgets.live_table import CellValue, Column, Row

SEVERE = frozenset({"OutOfpods", "Evicted", "FailedScheduling", "BackOff", "Failed"})


def event_key(event: WarningEvent) -> str:
    return f"{event.namespace}/{event.object}/{event.reason}"


def event_row(event: WarningEvent, now: float) -> Row:
    style = "bold red" if event.reason in SEVERE else "yellow"
    return (
        CellValue(age(now - event.time), -event.time),
        CellValue(event.reason, event.reason, style),
        CellValue(event.object, event.object),
        CellValue(str(event.count), event.count),
        CellValue(event.message, event.message),
    )


class EventsScreen(TableScreen):
    KINDS = frozenset({"warning", "clock", "connection"})
    NOUN = "warnings"
    EMPTY = "no warning events: nothing has gone wrong lately"
    COLUMNS = (
        Column("age", "Age", 6),
        Column("reason", "Reason", 18),
        Column("object", "Object", 34),
        Column("count", "Count", 5),
        Column("message", "Message", None),
    )
    SORT_BY = "age"

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        for event in model.warnings:
            text = f"{event.reason} {event.object} {event.message}"
            yield event_key(event), event_row(event, now), text

    def open_details(self, key: str) -> None:
        from binderctl.screens.event_detail import EventDetailScreen

        model = self.console.model
        event = next((e for e in model.warnings if event_key(e) == key), None) if model else None
        if event is not None:
            self.app.push_screen(EventDetailScreen(event))

    def action_logs(self) -> None:
        key = self.table.current_key
        if key is not None and "/pod/" in key.lower():
            self.show("logs", key.split("/")[2])
