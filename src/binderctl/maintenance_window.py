"""A maintenance window as the system-upgrade-controller's Plan ``spec.window`` has it.

The Plan's window takes kured's schedule options (rancher/system-upgrade-controller
``pkg/apis/upgrade.cattle.io/v1/types.go`` ``TimeWindowSpec.Contains`` calls
kubereboot/kured ``pkg/timewindow``): days by name (``su``, ``sun``, ``sunday``, any case)
or number (0 Sunday .. 6 Saturday); start and end as ``15:04``, ``15``, ``03:04pm`` or
``03pm``; an IANA time zone (empty: UTC). A moment is in the window when its weekday (in
that zone) is one of the days and it is strictly after that day's start and strictly
before that day's end: a window whose end is not after its start never opens (kured
compares the times on the same day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# kured pkg/timewindow/days.go dayStrings; Python's weekday(): Monday 0 .. Sunday 6
_DAY_NAMES = {
    "su": 6, "sun": 6, "sunday": 6, "mo": 0, "mon": 0, "monday": 0,
    "tu": 1, "tue": 1, "tuesday": 1, "we": 2, "wed": 2, "wednesday": 2,
    "th": 3, "thu": 3, "thursday": 3, "fr": 4, "fri": 4, "friday": 4,
    "sa": 5, "sat": 5, "saturday": 5,
}  # fmt: skip
# The Plan CRD's Day enum (upgrade.cattle.io_plans.yaml, v0.20.1): lower case only.
PLAN_DAYS = (
    "0", "su", "sun", "sunday", "1", "mo", "mon", "monday", "2", "tu", "tue", "tuesday",
    "3", "we", "wed", "wednesday", "4", "th", "thu", "thursday", "5", "fr", "fri", "friday",
    "6", "sa", "sat", "saturday",
)  # fmt: skip
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_24 = re.compile(r"(?P<h>[0-9]{1,2})(:(?P<m>[0-9]{2}))?")
_12 = re.compile(r"(?P<h>0[1-9]|1[0-2])(:(?P<m>[0-9]{2}))?(?P<pm>am|pm)")


@dataclass(frozen=True)
class Window:
    days: tuple[str, ...]  # as written in the Plan
    start: str
    end: str
    timezone: str = "UTC"

    @classmethod
    def from_spec(cls, window: dict[str, object]) -> Window:
        """A Plan's ``spec.window`` as written (no time zone: UTC, as Go reads "")."""
        days = window.get("days")
        return cls(
            tuple(str(d) for d in days) if isinstance(days, list) else (),
            str(window.get("startTime") or ""),
            str(window.get("endTime") or ""),
            str(window.get("timeZone") or ""),
        )

    def spec(self) -> dict[str, object]:
        """The Plan's ``spec.window``."""
        return {
            "days": list(self.days),
            "startTime": self.start,
            "endTime": self.end,
            "timeZone": self.timezone,
        }

    def text(self) -> str:
        names = ", ".join(_FULL[d].capitalize() for d in weekdays(self.days))
        return f"{names} {self.start}-{self.end} {self.timezone or 'UTC'}"


# mybinder.org-deploy config/k3s/k3s-upgrade-plan.yaml: "Sunday 0-2/UTC is our current
# lowest traffic time"
MYBINDER_WINDOW = Window(("sunday",), "00:00", "02:00", "UTC")


def weekday(day: str) -> int:
    """Python's weekday number of a kured day; ValueError for anything else."""
    if day.isdigit():
        number = int(day)
        if not 0 <= number < 7:
            raise ValueError(f"Invalid weekday, number out of range: {day}")
        return (number - 1) % 7  # kured and Go count from Sunday
    found = _DAY_NAMES.get(day.lower())
    if found is None:
        raise ValueError(f"Invalid weekday: {day}")
    return found


def weekdays(days: tuple[str, ...]) -> list[int]:
    return sorted({weekday(day) for day in days})


def clock_time(text: str) -> time:
    """kured's ``parseTime``: 15:04, 15, 03:04pm, 03pm."""
    for pattern, twelve in ((_24, False), (_12, True)):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if twelve:
            hour = hour % 12 + (12 if match["pm"] == "pm" else 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"Invalid time format: {text}")


def zone(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def check(window: Window) -> None:
    """What ``timewindow.New`` refuses (the controller then marks the Plan not valid),
    and a window that would never open; ValueError says which."""
    if not window.days:
        raise ValueError("no days: name at least one (the Plan's days has MinItems=1)")
    for day in window.days:
        if day not in PLAN_DAYS:
            raise ValueError(f"{day!r} is not a day the Plan accepts; use e.g. sunday, sun, 0")
    zone(window.timezone)
    if clock_time(window.end) <= clock_time(window.start):
        raise ValueError(
            f"it ends ({window.end}) at or before it starts ({window.start}): the window is "
            "compared within one day, so it would never open"
        )


def _bounds(window: Window, day: datetime) -> tuple[datetime, datetime]:
    tz = zone(window.timezone)
    start, end = clock_time(window.start), clock_time(window.end)
    return (
        datetime.combine(day.date(), start, tzinfo=tz),
        datetime.combine(day.date(), end, tzinfo=tz),
    )


def contains(window: Window, moment: datetime) -> bool:
    """kured ``TimeWindow.Contains``: strictly after the start, strictly before the end."""
    local = moment.astimezone(zone(window.timezone))
    if local.weekday() not in weekdays(window.days):
        return False
    start, end = _bounds(window, local)
    return start < local < end


def next_opening(window: Window, moment: datetime) -> tuple[datetime, datetime]:
    """The window that is open at ``moment`` or opens next after it: (start, end)."""
    local = moment.astimezone(zone(window.timezone))
    days = weekdays(window.days)
    for ahead in range(8):
        day = local + timedelta(days=ahead)
        if day.weekday() not in days:
            continue
        start, end = _bounds(window, day)
        if local < end and start < end:
            return start, end
    raise ValueError("the window never opens")
