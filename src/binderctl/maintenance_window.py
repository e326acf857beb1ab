"""A maintenance window as the system-upgrade-controller's Plan ``spec.window`` has it.

The Plan's window takes kured's schedule options (rancher/system-upgrade-controller
``pkg/apis/upgrade.cattle.io/v1/types.go`` ``TimeWindowSpec.Contains`` calls
kubereboot/kured ``pkg/timewindow``): days by name (``su``, ``sun``, ``sunday``, any case)
or number (0 Sunday .. 6 Saturday); start and end in the first of Go's layouts ``15:04``,
``15:04:05``, ``03:04pm``, ``15``, ``03pm``, ``3pm`` that parses them; an IANA time zone
(empty: UTC). A moment is in the window when its weekday (in that zone) is one of the
days and it is from that day's start up to the last instant of the end's second, both
included; a start after the end wraps across midnight: before that day's end the window
opened the day before, else it closes the next day (kubereboot/kured v1.13.1, 91eb403,
``pkg/timewindow/timewindow.go`` ``Contains`` and ``parseTime``; the version
rancher/system-upgrade-controller v0.20.1 vendors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
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
# kured's layouts in its order, as Go's time.Parse reads them: "15" takes 1-2 digits
# (0-23), "03" exactly 2 and "3" 1-2 (0-12), "04"/"05" exactly 2; "pm" is lower case only;
# a fraction may follow the seconds although the layout has none.
_LAYOUTS = (
    (re.compile(r"(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})"), 24),  # 15:04
    (re.compile(r"(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:[.,][0-9]+)?"), 24),
    (re.compile(r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2})(?P<pm>am|pm)"), 12),  # 03:04pm
    (re.compile(r"(?P<h>[0-9]{1,2})"), 24),  # 15
    (re.compile(r"(?P<h>[0-9]{2})(?P<pm>am|pm)"), 12),  # 03pm
    (re.compile(r"(?P<h>[0-9]{1,2})(?P<pm>am|pm)"), 12),  # 3pm
)


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
    """kured's ``parseTime``: the first layout that parses the text."""
    for pattern, hours in _LAYOUTS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        found = match.groupdict()
        hour, minute, second = (int(found.get(key) or 0) for key in ("h", "m", "s"))
        if hour > (23 if hours == 24 else 12) or minute > 59 or second > 59:
            continue
        if hours == 12:
            hour = hour % 12 + (12 if found["pm"] == "pm" else 0)
        return time(hour, minute, second)
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
    and what the Plan's CRD refuses; ValueError says which."""
    if not window.days:
        raise ValueError("no days: name at least one (the Plan's days has MinItems=1)")
    for day in window.days:
        if day not in PLAN_DAYS:
            raise ValueError(f"{day!r} is not a day the Plan accepts; use e.g. sunday, sun, 0")
    zone(window.timezone)
    clock_time(window.start)
    clock_time(window.end)


def _at(day: date, moment: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def contains(window: Window, moment: datetime) -> bool:
    """kured ``TimeWindow.Contains``: start <= moment <= end (its last nanosecond), the
    start a day earlier or the end a day later when the window wraps across midnight."""
    tz = zone(window.timezone)
    local = moment.astimezone(tz)
    if local.weekday() not in weekdays(window.days):
        return False
    opening, closing = clock_time(window.start), clock_time(window.end)
    start = _at(local.date(), opening, tz)
    end = _at(local.date(), closing, tz) + _LAST_INSTANT
    if opening > closing:
        if local < end:
            start -= timedelta(hours=24)
        else:
            end += timedelta(hours=24)
    return start <= local <= end


_LAST_INSTANT = timedelta(microseconds=999_999)  # Go's 1e9-1 ns, to Python's resolution


def _openings(window: Window, local: datetime) -> list[tuple[datetime, datetime]]:
    """The window's open spans from the day before ``local`` for a week, a span across
    midnight joined when both days are in the window."""
    tz, days = zone(window.timezone), weekdays(window.days)
    opening, closing = clock_time(window.start), clock_time(window.end)
    spans: list[tuple[datetime, datetime]] = []
    for ahead in range(-1, 9):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() not in days:
            continue
        if opening <= closing:
            found = [(_at(day, opening, tz), _at(day, closing, tz))]
        else:
            midnight = _at(day + timedelta(days=1), time(0), tz)
            found = [(_at(day, time(0), tz), _at(day, closing, tz)),
                     (_at(day, opening, tz), midnight)]  # fmt: skip
        for start, end in found:
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return spans


def next_opening(window: Window, moment: datetime) -> tuple[datetime, datetime]:
    """The window that is open at ``moment`` or opens next after it: (start, end)."""
    tz = zone(window.timezone)
    local = moment.astimezone(tz)
    is_open = contains(window, moment)
    for start, end in _openings(window, local):
        if start > local or (is_open and local <= end + timedelta(seconds=1)):
            return start.astimezone(tz), end.astimezone(tz)
    raise ValueError("the window never opens")
