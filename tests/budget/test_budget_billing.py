"""Hetzner's billing rules as the cost model applies them (pure functions, no emulator)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binderctl.services.budget import (
    Bill,
    Money,
    PricingError,
    PrimaryIPv4,
    Resources,
    ServerUsage,
    cost_curve,
    month_bounds,
    month_to_date,
    parse_pricing,
    projected_month,
    started_hours,
    time_charge,
    warning_level,
    with_vat,
)
from tests.budget.price_list import PRICING, TIB, pricing_document

CCX63_HOURLY = Decimal("0.4623")
CCX63_MONTHLY = Decimal("288.49")


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def server(
    created: datetime,
    server_type: str = "ccx63",
    location: str = "nbg1",
    outgoing: int = 0,
    included: int = 60 * TIB,
) -> Resources:
    usage = ServerUsage("demo", server_type, location, created, outgoing, included)
    return Resources(servers=(usage,))


def test_prices_are_read_exactly_from_decimal_strings() -> None:
    price = PRICING.server_type("ccx63", "nbg1")
    assert price.time.hourly.net == Decimal("0.4623000000")
    assert price.time.hourly.gross == Decimal("0.4623000000") * Decimal("1.19")
    assert price.time.monthly.net == CCX63_MONTHLY
    assert price.included_traffic == 60 * TIB
    assert PRICING.vat_rate == Decimal("19.00")
    assert PRICING.ipv4("fsn1").monthly.net == Decimal("0.5000")
    assert all(isinstance(p.time.hourly.net, Decimal) for p in PRICING.server_types)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("vat_rate",), 19.0, "vat_rate is '19.0', expected a decimal string"),
        (("server_types", 0, "prices", 0, "price_hourly", "net"), 0.006, "expected a decimal"),
        (("server_types", 0, "prices", 0, "price_monthly", "gross"), "lots", "expected a decimal"),
        (("server_types", 0, "prices", 0, "included_traffic"), "20", "not a byte count"),
        (("currency",), None, "currency is not a string"),
    ],
)
def test_malformed_price_lists_are_refused_clearly(
    path: tuple[str | int, ...], value: object, message: str
) -> None:
    document = copy.deepcopy(pricing_document())
    target = document["pricing"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PricingError, match=message):
        parse_pricing(document)


def test_missing_sections_are_named() -> None:
    with pytest.raises(PricingError, match=r"no response\.pricing"):
        parse_pricing({"error": {}})
    document = pricing_document()
    del document["pricing"]["primary_ips"]
    with pytest.raises(PricingError, match=r"no pricing\.primary_ips"):
        parse_pricing(document)


def test_a_missing_price_for_the_location_lists_the_locations_that_have_one() -> None:
    with pytest.raises(PricingError, match=r"'ccx63' in location 'hel1'.*: fsn1, nbg1$"):
        month_to_date(PRICING, server(at(1), location="hel1"), at(2))
    with pytest.raises(PricingError, match="no server type 'ccx99'"):
        PRICING.server_type("ccx99", "nbg1")
    ip_in_hel1 = Resources(primary_ipv4s=(PrimaryIPv4("hel1", at(1)),))
    with pytest.raises(PricingError, match=r"IPv4 price in location 'hel1'.*: fsn1, nbg1$"):
        month_to_date(PRICING, ip_in_hel1, at(2))


def test_a_server_created_mid_month_pays_each_started_hour() -> None:
    bill = month_to_date(PRICING, server(at(10, 10, 15)), at(10, 12, 16))
    assert bill.server.net == 3 * CCX63_HOURLY
    assert bill.server.gross == 3 * CCX63_HOURLY * Decimal("1.19")


@pytest.mark.parametrize(
    ("elapsed", "hours"),
    [
        (timedelta(0), 1),
        (timedelta(seconds=1), 1),
        (timedelta(minutes=59, seconds=59), 1),
        (timedelta(hours=1), 1),
        (timedelta(hours=1, seconds=1), 2),
        (timedelta(days=2, minutes=1), 49),
    ],
)
def test_partial_hours_round_up(elapsed: timedelta, hours: int) -> None:
    assert started_hours(at(5), at(5) + elapsed) == hours


def test_a_server_created_last_month_is_billed_from_the_first_of_this_month() -> None:
    bill = month_to_date(PRICING, server(at(20, month=10)), at(2, 0, 30))
    assert bill.server.net == 25 * CCX63_HOURLY


def test_the_monthly_price_caps_the_hourly_sum() -> None:
    # 624 started hours cost 288.4752, still below the cap; the 625th reaches it.
    assert month_to_date(PRICING, server(at(1)), at(27)).server.net == 624 * CCX63_HOURLY
    assert month_to_date(PRICING, server(at(1)), at(27, 0, 1)).server.net == CCX63_MONTHLY
    capped = month_to_date(PRICING, server(at(1, month=9)), at(30, 23, 59))
    assert capped.server == PRICING.server_type("ccx63", "nbg1").time.monthly


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2027, 2, 28), (2028, 2, 29), (2026, 11, 30), (2026, 12, 31), (2027, 1, 31)],
)
def test_month_bounds(year: int, month: int, days: int) -> None:
    start, end = month_bounds(datetime(year, month, 14, 15, 9, tzinfo=UTC))
    assert start == datetime(year, month, 1, tzinfo=UTC)
    assert end - start == timedelta(days=days)


def test_a_28_day_month_can_stay_under_the_cap_that_a_31_day_month_reaches() -> None:
    # cx99: 0.50 per hour, 350 per month. 28 x 24 = 672 hours = 336; 31 x 24 = 744 h = 372.
    february = projected_month(
        PRICING, server(at(1, month=1, year=2027), "cx99"), at(3, month=2, year=2027)
    )
    assert february.server.net == Decimal("336.0")
    march = projected_month(
        PRICING, server(at(1, month=1, year=2027), "cx99"), at(3, month=3, year=2027)
    )
    assert march.server.net == Decimal("350")


def test_the_projection_assumes_the_server_keeps_running_to_month_end() -> None:
    # Created on the 29th of November at 12:00: 36 hours are left in the month.
    resources = server(at(29, 12))
    assert projected_month(PRICING, resources, at(29, 13)).server.net == 36 * CCX63_HOURLY
    assert month_to_date(PRICING, resources, at(29, 13)).server.net == CCX63_HOURLY


def test_traffic_over_the_included_volume_is_billed_per_tb() -> None:
    over = month_to_date(PRICING, server(at(1), outgoing=61 * TIB + TIB // 2), at(15))
    assert over.traffic == Money(Decimal("1.5"), Decimal("1.5") * Decimal("1.19"))
    under = month_to_date(PRICING, server(at(1), outgoing=59 * TIB), at(15))
    assert under.traffic == Money(Decimal(0), Decimal(0))


def test_traffic_is_projected_at_this_months_rate() -> None:
    # 40 TB out in the first 15 days of a 30-day month: 80 TB by its end, 20 TB over.
    projected = projected_month(PRICING, server(at(1, month=10), outgoing=40 * TIB), at(16))
    assert projected.traffic.net == Decimal(20)


def test_the_primary_ipv4_is_billed_separately_from_its_own_creation() -> None:
    resources = Resources(
        servers=server(at(10)).servers, primary_ipv4s=(PrimaryIPv4("nbg1", at(9, 23)),)
    )
    bill = month_to_date(PRICING, resources, at(10, 2))
    assert bill.server.net == 2 * CCX63_HOURLY
    assert bill.ipv4.net == 3 * Decimal("0.0008")
    assert bill.total.net == bill.server.net + bill.ipv4.net
    whole_month = projected_month(
        PRICING, Resources(primary_ipv4s=(PrimaryIPv4("nbg1", at(1)),)), at(2)
    )
    assert whole_month.ipv4.net == Decimal("0.5000")


def test_the_cost_curve_runs_from_the_month_start_through_now_to_the_projection() -> None:
    resources = server(at(10, 6), outgoing=70 * TIB)
    now = at(20, 12, 30)
    curve = cost_curve(PRICING, resources, now)
    times = [t for t, _ in curve]
    assert times[0] == at(1) and times[-1] == at(1, month=12)
    assert len(curve) == 30 + 1 + 1  # every midnight of November and December 1st, and now
    totals = [total.net for _, total in curve]
    assert totals == sorted(totals)
    assert totals[:10] == [0] * 10  # before the server was created
    assert dict(curve)[now] == month_to_date(PRICING, resources, now).total
    assert curve[-1][1] == projected_month(PRICING, resources, now).total


def test_nothing_is_billed_without_resources() -> None:
    assert month_to_date(PRICING, Resources(), at(12)) == Bill()
    assert projected_month(PRICING, Resources(), at(12)).total.net == 0


def test_gross_is_net_plus_vat() -> None:
    assert with_vat(Decimal("300"), Decimal("19.00")) == Money(Decimal("300"), Decimal("357"))
    assert with_vat(Decimal("300"), Decimal("0")).gross == Decimal("300")


@pytest.mark.parametrize(
    ("amount", "level"),
    [
        ("0", "ok"),
        ("239.99", "ok"),
        ("240", "warn"),
        ("299.99", "warn"),
        ("300", "over"),
        ("301", "over"),
    ],
)
def test_warning_levels(amount: str, level: str) -> None:
    assert warning_level(Decimal(amount), Decimal("300")) == level


@given(
    created=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=62)),
    more=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_charges_grow_with_time_and_never_pass_the_monthly_price(
    created: datetime, elapsed: timedelta, more: timedelta
) -> None:
    price = PRICING.server_type("ccx63", "nbg1").time
    start = created.replace(tzinfo=UTC)
    end = start + elapsed
    first = time_charge(price, start, end)
    assert Decimal(0) < first.net <= price.monthly.net
    assert first.net <= time_charge(price, start, end + more).net
    assert month_to_date(PRICING, server(start), end).server.net <= CCX63_MONTHLY
