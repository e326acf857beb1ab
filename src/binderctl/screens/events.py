"""Recent warning events, newest first: one row per object and reason (the kubelet's
several events about one failing pull are one row that names the image); Enter opens
the whole of it (``screens/event_detail.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from binderctl.formatting import age, inert
from binderctl.models import WarningEvent
from binderctl.screens.base import ConsoleScreen
from binderctl.screens.table import TableScreen
from binderctl.widgets.live_table import CellValue, Column, Row

SEVERE = frozenset({"OutOfpods", "Evicted", "FailedScheduling", "BackOff", "Failed"})
# how the kubelet names an image in its events: Pulling image "x", Failed to pull image "x"
_IMAGE = re.compile(r'image "([^"]+)"')


@dataclass(frozen=True)
class WarningGroup:
    """The events about one object for one reason, newest first."""

    key: str
    events: tuple[WarningEvent, ...]

    @property
    def latest(self) -> WarningEvent:
        return self.events[0]

    @property
    def count(self) -> int:
        return sum(e.count for e in self.events)

    @property
    def first_seen(self) -> float:
        return min(e.first_seen or e.time for e in self.events)

    @property
    def gone(self) -> bool:
        return self.latest.gone

    @property
    def images(self) -> tuple[str, ...]:
        """The images the group's messages name, in order of first mention."""
        found = (image for e in self.events for image in _IMAGE.findall(e.message))
        return tuple(dict.fromkeys(found))

    @property
    def message(self) -> str:
        """The latest message, naming the images the others name when it does not
        (``Error: ImagePullBackOff`` says no more than that)."""
        text = self.latest.message
        missing = [image for image in self.images if image not in text]
        if missing:
            text += f" (image{'s' if len(missing) > 1 else ''} {', '.join(missing)})"
        return text


def event_key(event: WarningEvent) -> str:
    return f"{event.namespace}/{event.object}/{event.reason}"


def grouped(warnings: Iterable[WarningEvent]) -> list[WarningGroup]:
    """Warnings by object and reason, the group with the newest event first."""
    groups: dict[str, list[WarningEvent]] = {}
    for event in sorted(warnings, key=lambda e: e.time, reverse=True):
        groups.setdefault(event_key(event), []).append(event)
    return [WarningGroup(key, tuple(events)) for key, events in groups.items()]


def event_row(group: WarningGroup, now: float) -> Row:
    event = group.latest
    style = "bold red" if event.reason in SEVERE else "yellow"
    gone = " (gone)" if group.gone else ""
    return (
        CellValue(age(now - event.time), -event.time),
        CellValue(event.reason, event.reason, "dim" if group.gone else style),
        CellValue(event.object + gone, event.object, "dim" if group.gone else ""),
        CellValue(str(group.count), group.count),
        CellValue(group.message, group.message),
    )


def group_of(key: str, warnings: Sequence[WarningEvent]) -> WarningGroup | None:
    return next((g for g in grouped(warnings) if g.key == key), None)


class EventsScreen(TableScreen):
    KINDS = frozenset({"warning", "clock", "connection"})
    NOUN = "warnings"
    EMPTY = "no warning events: nothing has gone wrong lately"
    COLUMNS = (
        Column("age", "Age", 6),
        Column("reason", "Reason", 17),
        Column("object", "Object", middle=True),
        Column("count", "Count", 5),
        Column("message", "Message"),
    )
    SORT_BY = "age"

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        for group in grouped(model.warnings):
            event = group.latest
            gone = "gone" if group.gone else ""
            text = f"{event.reason} {event.object} {group.message} {gone}"
            yield group.key, event_row(group, now), text

    def open_details(self, key: str) -> None:
        from binderctl.screens.event_detail import EventDetailScreen

        self.app.push_screen(EventDetailScreen(key))

    def action_logs(self) -> None:
        key = self.table.current_key
        model = self.console.model
        group = None if key is None or model is None else group_of(key, model.warnings)
        if group is not None:
            logs_of(self, group)


def logs_of(screen: ConsoleScreen, group: WarningGroup) -> None:
    """`l` on an event: the logs of its pod, or why there are none."""
    event = group.latest
    if event.kind != "Pod":
        screen.notify(
            f"{inert(event.object, 100)} is not a pod: it has no logs",
            severity="warning",
            markup=False,
        )
    elif group.gone:
        screen.notify(
            f"pod {inert(event.object_name, 100)} is gone (deleted since the event): its logs "
            "went with it",
            title="Logs",
            severity="warning",
            markup=False,
        )
    else:
        screen.show_logs(f"{event.namespace}/{event.object_name}")
