"""What-if rows and the assembled report (pure: no emulator)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from binderctl.config import DEFAULT_COMPARISONS
from binderctl.parsing import parse_size
from binderctl.services.budget import (
    NO_SESSIONS,
    Money,
    PricingError,
    PrimaryIPv4,
    Resources,
    ServerUsage,
    SessionUsage,
    parse_pricing,
)
from binderctl.services.budget_report import build_report
from binderctl.services.budget_whatif import CONFIGURED, HETZNER_PRICE, LIST_PRICE, what_if
from binderctl.services.pricing import PriceList
from tests.budget.price_list import MEMBER, PRICING, pricing_document

SESSION = 450 * 10**6
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def rows_by_name(peak: int | None, comparisons: dict[str, Decimal]) -> dict:
    rows = what_if(PRICING, "nbg1", "ccx63", 336, peak, SESSION, comparisons)
    return {row.name: row for row in rows}


def test_session_memory_sizes() -> None:
    assert parse_size("450M") == SESSION
    assert parse_size("2Gi") == 2 * 2**30
    assert parse_size("1.5G") == 1_500_000_000
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_server_types_of_the_location_with_fit_by_memory_and_pods() -> None:
    rows = what_if(PRICING, "nbg1", "ccx63", 336, 300, SESSION, {})
    assert [row.name for row in rows] == ["cx22", "ccx63", "cx99"]  # cheapest first
    cx22, ccx63, cx99 = rows
    assert ccx63.current and not cx22.current
    assert ccx63.monthly.net == Decimal("288.49") + Decimal("0.50")  # with the primary IPv4
    assert ccx63.source == HETZNER_PRICE
    # 300 x 450M + 4 GB reserve = 139 GB of 192; 300 + 20 system pods of 336.
    assert (ccx63.memory_gb, ccx63.max_pods, ccx63.fits_memory, ccx63.fits_pods) == (
        192,
        336,
        True,
        True,
    )
    assert (cx22.max_pods, cx22.fits_memory, cx22.fits_pods) == (7, False, False)
    assert (cx99.memory_gb, cx99.fits_memory, cx99.fits_pods) == (None, None, None)


def test_fit_turns_on_the_observed_peak() -> None:
    assert rows_by_name(317, {})["ccx63"].fits_pods is False
    assert rows_by_name(316, {})["ccx63"].fits_pods is True
    unknown = rows_by_name(None, {})["ccx63"]
    assert (unknown.fits_memory, unknown.fits_pods) == (None, None)


def test_comparison_providers_are_labelled() -> None:
    comparisons = {**DEFAULT_COMPARISONS, "Own rack (quote)": Decimal("700")}
    rows = what_if(PRICING, "nbg1", "ccx63", 336, 10, SESSION, comparisons)
    others = rows[3:]
    assert [row.monthly.net for row in others] == sorted(row.monthly.net for row in others)
    by_name = {row.name: row for row in others}
    assert by_name["Own rack (quote)"].source == CONFIGURED
    assert by_name["Own rack (quote)"].monthly == Money(Decimal("700"), Decimal("833"))
    for label in DEFAULT_COMPARISONS:
        assert by_name[label].source == LIST_PRICE
        assert by_name[label].fits_memory is None
    changed = {next(iter(DEFAULT_COMPARISONS)): Decimal("1")}
    assert what_if(PRICING, "nbg1", "ccx63", 336, 1, SESSION, changed)[3].source == CONFIGURED


def prices() -> PriceList:
    return PriceList(PRICING, datetime(2026, 11, 20, 11, 30, tzinfo=UTC))


def test_a_member_without_a_server_costs_nothing() -> None:
    report = build_report(MEMBER, prices(), Resources(), NO_SESSIONS, NOW)
    assert report.month_to_date.total.net == 0
    assert report.level == "ok"
    assert report.remaining == report.cap
    assert any("nothing billed" in note for note in report.notes)
    assert any("no session history" in note for note in report.notes)
    assert report.session_costs.per_session_hour is None
    assert report.prices_age.total_seconds() == 1800


def test_a_full_month_of_ccx63_warns_against_a_300_cap() -> None:
    created = datetime(2026, 9, 1, tzinfo=UTC)
    resources = Resources(
        servers=(ServerUsage("demo", "ccx63", "nbg1", created, 0, 60 * 2**40),),
        primary_ipv4s=(PrimaryIPv4("nbg1", created),),
    )
    sessions = SessionUsage(10 * 3600, 400 * 3600, 100, 80)
    report = build_report(MEMBER, prices(), resources, sessions, NOW)
    assert report.cap == Money(Decimal("300"), Decimal("357"))
    assert report.projected_month.total.net == Decimal("288.99")
    assert (report.month_to_date_level, report.projected_level, report.level) == (
        "ok",
        "warn",
        "warn",
    )
    assert report.headroom.net == Decimal("11.01")
    assert report.session_costs.per_session_hour is not None
    assert report.session_costs.per_session_hour.net == report.session_costs.per_launch.net / 4
    assert next(row for row in report.what_if if row.current).name == "ccx63"


def test_the_configured_type_must_be_priced_in_the_location() -> None:
    elsewhere = dataclasses.replace(MEMBER, location="hel1")
    with pytest.raises(PricingError, match="locations with a price for it: fsn1, nbg1"):
        build_report(elsewhere, prices(), Resources(), NO_SESSIONS, NOW)


def test_prices_in_another_currency_are_refused() -> None:
    document = pricing_document()
    document["pricing"]["currency"] = "USD"
    usd = PriceList(parse_pricing(document), NOW)
    with pytest.raises(PricingError, match="in USD, but budget_cap_eur is in EUR"):
        build_report(MEMBER, usd, Resources(), NO_SESSIONS, NOW)
