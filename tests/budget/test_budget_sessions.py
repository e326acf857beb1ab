"""The session history (hourly buckets, on disk) and the cost per session-hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from binderctl.services.budget import (
    NO_SESSIONS,
    Money,
    Resources,
    ServerUsage,
    SessionUsage,
    running_rate,
    session_costs,
)
from binderctl.services.session_history import (
    RETENTION_SECONDS,
    History,
    HistoryError,
    add_sample,
    history_path,
    load_history,
    record_sample,
    summarize,
)
from tests.budget.price_list import MEMBER, PRICING

HOUR = 3600
T0 = int(datetime(2026, 11, 10, 9, tzinfo=UTC).timestamp())  # on an hour boundary


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BINDERCTL_HOME", str(tmp_path))
    return tmp_path


def test_session_seconds_are_counted_with_the_sessions_of_the_previous_sample() -> None:
    history = History()
    add_sample(history, T0, 10, 100)
    add_sample(history, T0 + 60, 20, 103)
    add_sample(history, T0 + 120, 0, 103)
    usage = summarize(history, T0, T0 + HOUR)
    assert usage == SessionUsage(
        covered_seconds=120, session_seconds=60 * 10 + 60 * 20, launches=3, peak_sessions=20
    )


def test_an_interval_across_the_hour_is_split_between_buckets() -> None:
    history = History()
    add_sample(history, T0 + HOUR - 30, 4, 0)
    add_sample(history, T0 + HOUR + 90, 4, 2)
    first = summarize(history, T0, T0 + HOUR)
    second = summarize(history, T0 + HOUR, T0 + 2 * HOUR)
    assert (first.covered_seconds, first.session_seconds) == (30, 120)
    assert (second.covered_seconds, second.session_seconds, second.launches) == (90, 360, 2)


def test_a_gap_or_a_restarted_counter_is_not_counted_as_usage() -> None:
    history = History()
    add_sample(history, T0, 50, 500)
    add_sample(history, T0 + 3 * HOUR, 50, 900)  # the console was closed: a new baseline
    assert summarize(history, T0, T0 + 4 * HOUR).covered_seconds == 0
    assert summarize(history, T0, T0 + 4 * HOUR).launches == 0
    add_sample(history, T0 + 3 * HOUR + 60, 50, 4)  # the model restarted its counter
    assert summarize(history, T0, T0 + 4 * HOUR).launches == 4


def test_old_buckets_are_dropped() -> None:
    history = History()
    add_sample(history, T0, 1, 0)
    add_sample(history, T0 + 60, 1, 0)
    add_sample(history, T0 + RETENTION_SECONDS + 2 * HOUR, 1, 0)
    assert min(history.buckets) > T0


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        add_sample(History(), T0, -1, 0)


def test_record_sample_keeps_a_private_compact_file(home: Path) -> None:
    for minute, sessions in enumerate([3, 5, 4]):
        record_sample(MEMBER, T0 + 60 * minute, sessions, 10 + minute)
    path = history_path(MEMBER)
    assert path == home / "state" / "demo" / "sessions.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["last"] == [T0 + 120, 4, 12]
    usage = summarize(load_history(MEMBER), T0, T0 + HOUR)
    assert usage == SessionUsage(120, 60 * 3 + 60 * 5, 2, 5)


def test_an_unreadable_history_is_reported_and_started_over(home: Path) -> None:
    history_path(MEMBER).write_text('{"last": [1, 2], "buckets": []}')
    with pytest.raises(HistoryError, match=r"sessions\.json is unreadable"):
        load_history(MEMBER)
    record_sample(MEMBER, T0, 7, 0)
    assert load_history(MEMBER).last == (T0, 7, 0)


def test_cost_per_session_hour_and_per_launch() -> None:
    rate = Money(Decimal("0.40"), Decimal("0.476"))
    # Ten hours watched, 200 session-hours, 50 launches: 4.00 net spread over them.
    usage = SessionUsage(10 * HOUR, 200 * HOUR, 50, 30)
    costs = session_costs(rate, usage)
    assert costs.per_session_hour == Money(Decimal("0.02"), Decimal("0.0238"))
    assert costs.per_launch == Money(Decimal("0.08"), Decimal("0.0952"))
    assert session_costs(rate, NO_SESSIONS).per_session_hour is None
    assert session_costs(rate, SessionUsage(HOUR, 0, 0, 0)).per_launch is None


def test_the_running_rate_spreads_the_projected_month_over_its_billed_hours() -> None:
    # A ccx63 all of November (720 h) reaches its 288.49 cap: 0.4006805... per hour.
    created = datetime(2026, 10, 1, tzinfo=UTC)
    resources = Resources(servers=(ServerUsage("demo", "ccx63", "nbg1", created, 0, 0),))
    rate = running_rate(PRICING, resources, datetime(2026, 11, 10, tzinfo=UTC))
    assert rate.net == Decimal("288.49") / 720
    assert running_rate(PRICING, Resources(), datetime(2026, 11, 10, tzinfo=UTC)).net == 0
