"""The maintenance window as kured keeps it: kubereboot/kured v1.13.1 (91eb403)
``pkg/timewindow/timewindow_test.go`` ``TestTimeWindows``, case for case, and its
``parseTime`` layouts."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from binderctl.maintenance_window import Window, check, clock_time, contains, next_opening

LA = ZoneInfo("America/Los_Angeles")
# (days, start, end, zone, [(the moment as "YYYY/MM/DD HH:MM" and its zone, contained)])
KURED_CASES = [
    ("mon,tue,wed,thu,fri", "9am", "5pm", "America/Los_Angeles", [
        ("2019/03/31 10:00", LA, False), ("2019/04/04 00:49", LA, False),
        ("2019/04/04 12:00", LA, True), ("2019/04/04 11:59", UTC, False),
        ("2019/04/05 08:59", LA, False), ("2019/04/05 09:01", LA, True)]),
    ("mon,we,fri", "10:01", "11:30am", "America/Los_Angeles", [
        ("2019/04/05 10:30", LA, True), ("2019/04/06 10:30", LA, False),
        ("2019/04/07 10:30", LA, False), ("2019/04/08 10:30", LA, True),
        ("2019/04/09 10:30", LA, False), ("2019/04/10 10:30", LA, True),
        ("2019/04/11 10:30", LA, False)]),
    ("mo,tu,we,th,fr", "00:00", "23:59:59", "UTC", [
        ("2019/04/18 00:00", UTC, True), ("2019/04/18 23:59", UTC, True)]),
    ("mon,tue,wed,thu,fri", "9pm", "5am", "America/Los_Angeles", [
        ("2019/03/30 04:00", LA, False), ("2019/03/31 10:00", LA, False),
        ("2019/03/31 22:00", LA, False), ("2019/04/04 00:49", LA, True),
        ("2019/04/04 12:00", LA, False), ("2019/04/04 22:49", LA, True),
        ("2019/04/05 00:49", LA, True), ("2019/04/05 08:59", LA, False),
        ("2019/04/05 09:01", LA, False)]),
    ("mon,tue,wed,thu,fri", "11:59pm", "00:01am", "America/Los_Angeles", [
        ("2019/04/04 23:58", LA, False), ("2019/04/04 23:59", LA, True),
        ("2019/04/05 00:00", LA, True), ("2019/04/05 00:01", LA, True),
        ("2019/04/05 00:02", LA, False)]),
    ("mon,tue,wed,fri", "11:59pm", "00:01am", "America/Los_Angeles", [
        ("2019/04/04 23:58", LA, False), ("2019/04/04 23:59", LA, False),
        ("2019/04/05 00:00", LA, True), ("2019/04/05 00:02", LA, False)]),
    ("mon,tue,wed,thu", "11:59pm", "00:01am", "America/Los_Angeles", [
        ("2019/04/04 23:58", LA, False), ("2019/04/04 23:59", LA, True),
        ("2019/04/05 00:00", LA, False), ("2019/04/05 00:02", LA, False)]),
    ("mon,tue,wed,thu,fri", "11:59pm", "00:01am", "UTC", [
        ("2019/04/04 23:58", UTC, False), ("2019/04/04 23:59", UTC, True),
        ("2019/04/05 00:00", UTC, True), ("2019/04/05 00:01", UTC, True),
        ("2019/04/05 00:02", UTC, False)]),
]  # fmt: skip


@pytest.mark.parametrize(("days", "start", "end", "tz", "cases"), KURED_CASES)
def test_kureds_own_cases(
    days: str, start: str, end: str, tz: str, cases: list[tuple[str, object, bool]]
) -> None:
    window = Window(tuple(days.split(",")), start, end, tz)
    for text, where, expected in cases:
        moment = datetime.strptime(text, "%Y/%m/%d %H:%M").replace(tzinfo=where)  # type: ignore[arg-type]
        assert contains(window, moment) is expected, (window, text)


def test_both_ends_are_in_the_window_up_to_the_ends_last_second() -> None:
    window = Window(("sunday",), "00:00", "02:00", "UTC")
    sunday = datetime(2026, 10, 4, 0, 0, tzinfo=UTC)
    assert contains(window, sunday)
    assert contains(window, sunday.replace(hour=2, microsecond=999_999))
    assert not contains(window, sunday.replace(hour=2, second=1))


def test_a_window_across_midnight_is_valid_and_opens_at_midnight() -> None:
    window = Window(("friday", "saturday"), "21:00", "05:00", "UTC")
    check(window)
    friday = datetime(2026, 10, 2, 22, 0, tzinfo=UTC)
    assert contains(window, friday.replace(hour=23, minute=59))
    assert contains(window, datetime(2026, 10, 3, 0, 0, tzinfo=UTC))  # Saturday midnight
    assert next_opening(window, friday) == (
        datetime(2026, 10, 2, 21, 0, tzinfo=UTC),
        datetime(2026, 10, 3, 5, 0, tzinfo=UTC),
    )
    # Saturday's evening part closes at midnight: Sunday is not a day of the window
    assert next_opening(window, datetime(2026, 10, 3, 12, 0, tzinfo=UTC)) == (
        datetime(2026, 10, 3, 21, 0, tzinfo=UTC),
        datetime(2026, 10, 4, 0, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("15:04", time(15, 4)), ("9:30", time(9, 30)), ("23:59:59", time(23, 59, 59)),
     ("10:00:00.5", time(10, 0, 0)), ("11:30am", time(11, 30)), ("00:01am", time(0, 1)),
     ("12:00am", time(0, 0)), ("12pm", time(12, 0)), ("15", time(15, 0)), ("7", time(7, 0)),
     ("03pm", time(15, 0)), ("3pm", time(15, 0)), ("11pm", time(23, 0))],
)  # fmt: skip
def test_the_times_kured_parses(text: str, parsed: time) -> None:
    assert clock_time(text) == parsed


@pytest.mark.parametrize("text", ["3:04pm", "24:00", "13pm", "3PM", "9:5", "15:04 ", "noon"])
def test_the_times_kured_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid time format"):
        clock_time(text)
