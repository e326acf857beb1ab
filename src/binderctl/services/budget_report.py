"""A member's budget: its prices, its Hetzner resources and its session history, run
through the cost model (``services.budget``).

``budget_report(member)`` is what the Budget screen and ``binderctl budget`` show;
``month_to_date_summary(member)`` is the short form for the console header and
``binderctl status``. Both block on the Hetzner API: call them from a worker thread.
When the API cannot be reached, the last prices and resources seen (cache dir) are used
and the report says how old they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from binderctl.config import MemberConfig
from binderctl.formatting import age
from binderctl.parsing import parse_size
from binderctl.services.billed_resources import billed_resources
from binderctl.services.budget import (
    NO_SESSIONS,
    Bill,
    Level,
    Money,
    PricingError,
    Resources,
    SessionCosts,
    SessionUsage,
    cost_curve,
    month_to_date,
    projected_month,
    running_rate,
    session_costs,
    warning_level,
    with_vat,
    worst,
)
from binderctl.services.budget_whatif import WhatIfRow, what_if
from binderctl.services.hetzner import HetznerService
from binderctl.services.pricing import PriceList, load_prices
from binderctl.services.session_history import HistoryError, load_history, summarize

SESSION_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class BudgetReport:
    member: str
    now: datetime
    currency: str
    vat_rate: Decimal  # percent
    cap: Money
    month_to_date: Bill
    projected_month: Bill
    curve: tuple[tuple[datetime, Money], ...]  # daily totals; after ``now`` the projection
    month_to_date_level: Level
    projected_level: Level
    prices_fetched: datetime
    resources: Resources
    sessions: SessionUsage  # over the last SESSION_WINDOW
    session_costs: SessionCosts
    what_if: tuple[WhatIfRow, ...]
    notes: tuple[str, ...]
    stale: bool  # prices or resources are from the cache: the API could not be reached

    @property
    def level(self) -> Level:
        return worst((self.month_to_date_level, self.projected_level))

    @property
    def remaining(self) -> Money:
        """The cap minus what the month has cost so far."""
        return self.cap - self.month_to_date.total

    @property
    def headroom(self) -> Money:
        """The cap minus what the month will cost: negative when it will go over."""
        return self.cap - self.projected_month.total

    @property
    def prices_age(self) -> timedelta:
        return self.now - self.prices_fetched


@dataclass(frozen=True)
class BudgetSummary:
    """The month-to-date figure for the console header and ``binderctl status``."""

    currency: str
    month_to_date: Money
    projected_month: Money
    cap: Money
    level: Level
    prices_age: timedelta
    stale: bool
    notes: tuple[str, ...]


def build_report(
    member: MemberConfig,
    prices: PriceList,
    resources: Resources,
    sessions: SessionUsage,
    now: datetime,
    notes: tuple[str, ...] = (),
    stale: bool = False,
) -> BudgetReport:
    """The report from its inputs (pure); ``PricingError`` for a price that is missing."""
    pricing = prices.pricing
    if pricing.currency != "EUR":
        raise PricingError(
            f"Hetzner's prices are in {pricing.currency}, but budget_cap_eur is in EUR"
        )
    first = resources.servers[0] if resources.servers else None
    location = first.location if first else member.location
    server_type = first.server_type if first else member.server_type
    pricing.server_type(server_type, location)  # a missing price fails here, server or not
    cap = with_vat(member.budget_cap_eur, pricing.vat_rate)
    mtd = month_to_date(pricing, resources, now)
    projected = projected_month(pricing, resources, now)
    seen = sessions.covered_seconds > 0
    rows = what_if(
        pricing,
        location,
        server_type,
        member.max_pods,
        sessions.peak_sessions if seen else None,
        parse_size(member.session_memory_guarantee),
        member.comparisons,
    )
    extra = []
    if not resources.servers:
        extra.append(f"no server labelled for member {member.name!r}: nothing billed for it")
    elif len(resources.servers) > 1:
        extra.append(f"{len(resources.servers)} servers are labelled for this member: all billed")
    if not seen:
        extra.append(
            "no session history yet: an open console records it (a sample a minute), "
            "then cost per session-hour shows"
        )
    return BudgetReport(
        member=member.name,
        now=now,
        currency=pricing.currency,
        vat_rate=pricing.vat_rate,
        cap=cap,
        month_to_date=mtd,
        projected_month=projected,
        curve=tuple(cost_curve(pricing, resources, now)),
        month_to_date_level=warning_level(mtd.total.net, cap.net),
        projected_level=warning_level(projected.total.net, cap.net),
        prices_fetched=prices.fetched,
        resources=resources,
        sessions=sessions,
        session_costs=session_costs(running_rate(pricing, resources, now), sessions),
        what_if=tuple(rows),
        notes=(*notes, *extra),
        stale=stale,
    )


def _sessions(member: MemberConfig, now: datetime) -> tuple[SessionUsage, str | None]:
    try:
        history = load_history(member)
    except HistoryError as exc:
        return NO_SESSIONS, str(exc)
    return summarize(history, (now - SESSION_WINDOW).timestamp(), now.timestamp()), None


def budget_report(member: MemberConfig, now: datetime | None = None) -> BudgetReport:
    moment = now or datetime.now(UTC)
    hetzner = HetznerService.for_member(member)
    prices = load_prices(member, hetzner, moment)
    resources, resources_note = billed_resources(member, hetzner, moment)
    sessions, sessions_note = _sessions(member, moment)
    notes = []
    if prices.problem:
        notes.append(
            f"prices from the cache, fetched {age((moment - prices.fetched).total_seconds())} "
            f"ago ({prices.problem})"
        )
    notes += [n for n in (resources_note, sessions_note) if n]
    return build_report(
        member,
        prices,
        resources,
        sessions,
        moment,
        tuple(notes),
        stale=prices.problem is not None or resources_note is not None,
    )


def month_to_date_summary(member: MemberConfig, now: datetime | None = None) -> BudgetSummary:
    report = budget_report(member, now)
    return BudgetSummary(
        currency=report.currency,
        month_to_date=report.month_to_date.total,
        projected_month=report.projected_month.total,
        cap=report.cap,
        level=report.level,
        prices_age=report.prices_age,
        stale=report.stale,
        notes=report.notes,
    )
