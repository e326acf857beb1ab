"""The cost model: Hetzner's billing rules over the price list and the member's resources.

Pure functions, no I/O. Money is ``Decimal``; times are timezone-aware ``datetime``.
Hetzner bills each server and each primary IPv4 per started hour from its creation
until its deletion (running or off), never more than its monthly price per calendar
month (months are taken in UTC); outgoing traffic beyond the included volume is billed
pro rata per TB. The budget cap (``budget_cap_eur``) is net, like Hetzner's list prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from binderctl.errors import BinderctlError

HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)
# Hetzner's traffic "TB" is 2**40 bytes: 20 TB included = 21990232555520 bytes.
TB_BYTES = 2**40
WARN_FRACTION = Decimal("0.8")
CENT = Decimal("0.01")
UNIT_STEP = Decimal("0.0001")  # per session-hour and per launch: cents are too coarse

Level = Literal["ok", "warn", "over"]
LEVELS: tuple[Level, ...] = ("ok", "warn", "over")


class PricingError(BinderctlError):
    """The price list is malformed or has no price for what the member uses."""


@dataclass(frozen=True)
class Money:
    net: Decimal
    gross: Decimal

    def __add__(self, other: Money) -> Money:
        return Money(self.net + other.net, self.gross + other.gross)

    def __sub__(self, other: Money) -> Money:
        return Money(self.net - other.net, self.gross - other.gross)

    def times(self, factor: Decimal) -> Money:
        return Money(self.net * factor, self.gross * factor)

    def rounded(self, step: Decimal = CENT) -> Money:
        return Money(
            self.net.quantize(step, ROUND_HALF_UP), self.gross.quantize(step, ROUND_HALF_UP)
        )


ZERO = Money(Decimal(0), Decimal(0))


def with_vat(net: Decimal, vat_rate: Decimal) -> Money:
    """``net`` and its gross at ``vat_rate`` percent."""
    return Money(net, net * (1 + vat_rate / 100))


@dataclass(frozen=True)
class TimePrice:
    hourly: Money
    monthly: Money


@dataclass(frozen=True)
class ServerTypePrice:
    name: str
    location: str
    time: TimePrice
    included_traffic: int  # bytes per month
    per_tb_traffic: Money


@dataclass(frozen=True)
class Pricing:
    currency: str
    vat_rate: Decimal  # percent
    server_types: tuple[ServerTypePrice, ...]
    primary_ipv4: Mapping[str, TimePrice]  # by location

    def in_location(self, location: str) -> list[ServerTypePrice]:
        return [p for p in self.server_types if p.location == location]

    def server_type(self, name: str, location: str) -> ServerTypePrice:
        for price in self.server_types:
            if price.name == name and price.location == location:
                return price
        elsewhere = sorted(p.location for p in self.server_types if p.name == name)
        if not elsewhere:
            raise PricingError(f"the Hetzner price list has no server type {name!r}")
        raise PricingError(
            f"the Hetzner price list has no price for server type {name!r} in location "
            f"{location!r}; locations with a price for it: {', '.join(elsewhere)}"
        )

    def ipv4(self, location: str) -> TimePrice:
        if location not in self.primary_ipv4:
            raise PricingError(
                f"the Hetzner price list has no primary IPv4 price in location {location!r}; "
                f"locations with one: {', '.join(sorted(self.primary_ipv4)) or 'none'}"
            )
        return self.primary_ipv4[location]


def _get(obj: Any, key: str, path: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise PricingError(f"the /pricing document has no {path}.{key}")
    return obj[key]


def _list(obj: Any, key: str, path: str) -> list[tuple[str, Any]]:
    items = _get(obj, key, path)
    if not isinstance(items, list):
        raise PricingError(f"the /pricing document: {path}.{key} is not a list")
    return [(f"{path}.{key}[{i}]", item) for i, item in enumerate(items)]


def _str(obj: Any, key: str, path: str) -> str:
    value = _get(obj, key, path)
    if not isinstance(value, str) or not value:
        raise PricingError(f"the /pricing document: {path}.{key} is not a string")
    return value


def _decimal(obj: Any, key: str, path: str) -> Decimal:
    value = _get(obj, key, path)
    try:
        if not isinstance(value, str):
            raise InvalidOperation
        amount = Decimal(value)
    except InvalidOperation:
        raise PricingError(
            f"the /pricing document: {path}.{key} is {str(value)[:40]!r}, "
            "expected a decimal string like '0.0063'"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise PricingError(f"the /pricing document: {path}.{key} is not an amount: {value!r}")
    return amount


def _money(obj: Any, key: str, path: str) -> Money:
    price = _get(obj, key, path)
    return Money(_decimal(price, "net", f"{path}.{key}"), _decimal(price, "gross", f"{path}.{key}"))


def _time_price(obj: Any, path: str) -> TimePrice:
    return TimePrice(_money(obj, "price_hourly", path), _money(obj, "price_monthly", path))


def parse_pricing(document: Any) -> Pricing:
    """The ``GET /pricing`` response as typed prices; ``PricingError`` if malformed."""
    pricing = _get(document, "pricing", "response")
    path = "pricing"
    server_types = []
    for type_path, server_type in _list(pricing, "server_types", path):
        name = _str(server_type, "name", type_path)
        for price_path, price in _list(server_type, "prices", type_path):
            included = _get(price, "included_traffic", price_path)
            if isinstance(included, bool) or not isinstance(included, int) or included < 0:
                raise PricingError(
                    f"the /pricing document: {price_path}.included_traffic is not a byte count"
                )
            server_types.append(
                ServerTypePrice(
                    name=name,
                    location=_str(price, "location", price_path),
                    time=_time_price(price, price_path),
                    included_traffic=included,
                    per_tb_traffic=_money(price, "price_per_tb_traffic", price_path),
                )
            )
    ipv4: dict[str, TimePrice] = {}
    for ip_path, primary_ip in _list(pricing, "primary_ips", path):
        if _str(primary_ip, "type", ip_path) == "ipv4":
            for price_path, price in _list(primary_ip, "prices", ip_path):
                ipv4[_str(price, "location", price_path)] = _time_price(price, price_path)
    return Pricing(
        currency=_str(pricing, "currency", path),
        vat_rate=_decimal(pricing, "vat_rate", path),
        server_types=tuple(server_types),
        primary_ipv4=ipv4,
    )


# --- billing rules ---------------------------------------------------------------


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) containing ``now``: its first instant and the next month's."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def started_hours(start: datetime, end: datetime) -> int:
    """Hours started from ``start`` to ``end``: a resource that exists has started one."""
    return max(1, -((start - end) // HOUR))


def time_charge(price: TimePrice, start: datetime, end: datetime) -> Money:
    """Per started hour from ``start`` to ``end``, capped at the monthly price."""
    hourly = price.hourly.times(Decimal(started_hours(start, end)))
    return price.monthly if hourly.net >= price.monthly.net else hourly


def traffic_charge(outgoing: int, included: int, per_tb: Money) -> Money:
    """Outgoing bytes beyond the included volume, pro rata per TB."""
    return per_tb.times(Decimal(max(0, outgoing - included)) / TB_BYTES)


@dataclass(frozen=True)
class ServerUsage:
    """One server as Hetzner bills it: its type, place, creation and traffic this month."""

    name: str
    server_type: str
    location: str
    created: datetime
    outgoing_traffic: int  # bytes this billing period
    included_traffic: int  # bytes this billing period


@dataclass(frozen=True)
class PrimaryIPv4:
    location: str
    created: datetime


@dataclass(frozen=True)
class Resources:
    """What the member has at Hetzner that costs money."""

    servers: tuple[ServerUsage, ...] = ()
    primary_ipv4s: tuple[PrimaryIPv4, ...] = ()


@dataclass(frozen=True)
class Bill:
    server: Money = ZERO
    ipv4: Money = ZERO
    traffic: Money = ZERO

    @property
    def total(self) -> Money:
        return self.server + self.ipv4 + self.traffic


def _billed_from(created: datetime, now: datetime) -> datetime:
    """When billing in the month of ``now`` started for something created at ``created``."""
    return max(created, month_bounds(now)[0])


def _outgoing_at(usage: ServerUsage, now: datetime, at: datetime) -> int:
    """Outgoing bytes at ``at``: as counted at ``now``, flowing at the month's average rate."""
    start = _billed_from(usage.created, now)
    observed = (now - start) // MICROSECOND
    if observed <= 0:
        return usage.outgoing_traffic
    return usage.outgoing_traffic * ((at - start) // MICROSECOND) // observed


def bill_at(pricing: Pricing, resources: Resources, now: datetime, at: datetime) -> Bill:
    """The bill of the month of ``now`` as it stands at ``at`` (before or after ``now``),
    for the resources seen at ``now`` if they are kept until ``at``."""
    server = ipv4 = traffic = ZERO
    for usage in resources.servers:
        price = pricing.server_type(usage.server_type, usage.location)
        start = _billed_from(usage.created, now)
        if start <= at:
            server += time_charge(price.time, start, at)
            outgoing = _outgoing_at(usage, now, at)
            traffic += traffic_charge(outgoing, usage.included_traffic, price.per_tb_traffic)
    for ip in resources.primary_ipv4s:
        ip_price = pricing.ipv4(ip.location)
        start = _billed_from(ip.created, now)
        if start <= at:
            ipv4 += time_charge(ip_price, start, at)
    return Bill(server, ipv4, traffic)


def month_to_date(pricing: Pricing, resources: Resources, now: datetime) -> Bill:
    """What this calendar month has cost up to ``now``."""
    return bill_at(pricing, resources, now, now)


def projected_month(pricing: Pricing, resources: Resources, now: datetime) -> Bill:
    """What this calendar month will cost if everything is kept to its end."""
    return bill_at(pricing, resources, now, month_bounds(now)[1])


def cost_curve(
    pricing: Pricing, resources: Resources, now: datetime, step: timedelta = timedelta(days=1)
) -> list[tuple[datetime, Money]]:
    """The month's total at its start, every ``step``, at ``now`` and at its end: up to
    ``now`` what it cost, after ``now`` the projection."""
    start, end = month_bounds(now)
    times = {now, end} | {start + k * step for k in range((end - start) // step + 1)}
    return [(t, bill_at(pricing, resources, now, t).total) for t in sorted(times) if t <= end]


def warning_level(amount: Decimal, cap: Decimal) -> Level:
    if amount >= cap:
        return "over"
    return "warn" if amount >= cap * WARN_FRACTION else "ok"


def worst(levels: Iterable[Level]) -> Level:
    return max(levels, key=LEVELS.index)


# --- sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionUsage:
    """What the session history saw over a window."""

    covered_seconds: int  # how long samples were taken
    session_seconds: int
    launches: int
    peak_sessions: int


NO_SESSIONS = SessionUsage(0, 0, 0, 0)


@dataclass(frozen=True)
class SessionCosts:
    per_session_hour: Money | None
    per_launch: Money | None


def running_rate(pricing: Pricing, resources: Resources, now: datetime) -> Money:
    """The month's projected cost spread over its billed hours: the cost of one hour now."""
    if not resources.servers:
        return ZERO
    start = min(_billed_from(s.created, now) for s in resources.servers)
    hours = Decimal(started_hours(start, month_bounds(now)[1]))
    return projected_month(pricing, resources, now).total.times(1 / hours)


def session_costs(rate: Money, usage: SessionUsage) -> SessionCosts:
    """The cost of the sampled hours divided by the session-hours and launches in them."""
    covered_cost = rate.times(Decimal(usage.covered_seconds) / 3600)
    return SessionCosts(
        per_session_hour=(
            covered_cost.times(Decimal(3600) / usage.session_seconds)
            if usage.session_seconds and rate != ZERO
            else None
        ),
        per_launch=(
            covered_cost.times(1 / Decimal(usage.launches))
            if usage.launches and rate != ZERO
            else None
        ),
    )
