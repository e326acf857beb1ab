"""Hetzner's price list for a member: ``GET /pricing`` through the Hetzner service, cached.

The cache (``pricing.json`` in the member's cache dir) keeps the response and its fetch
time. A copy younger than ``FRESH_FOR`` is used as is; an older one is refreshed, and
used anyway (with the reason) when the API cannot be reached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.paths import member_dir, write_private
from binderctl.services.budget import Pricing, PricingError, parse_pricing
from binderctl.services.hetzner import HetznerService

CACHE_FILE = "pricing.json"
FRESH_FOR = timedelta(hours=1)


@dataclass(frozen=True)
class PriceList:
    pricing: Pricing
    fetched: datetime
    problem: str | None = None  # why a cached copy older than FRESH_FOR was used


def cache_path(member: MemberConfig) -> Path:
    return member_dir("cache", member.name) / CACHE_FILE


def _read_cache(path: Path) -> PriceList | None:
    """The cached price list, or None if there is none or it is unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return PriceList(
            pricing=parse_pricing(document["response"]),
            fetched=datetime.fromisoformat(document["fetched"]),
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, PricingError):
        return None


def load_prices(member: MemberConfig, hetzner: HetznerService, now: datetime) -> PriceList:
    """The price list: the cache if fresh, else the API (cached), else a stale cache."""
    path = cache_path(member)
    cached = _read_cache(path)
    if cached is not None and now - cached.fetched < FRESH_FOR:
        return cached
    try:
        response = hetzner.fetch_pricing()
        prices = PriceList(parse_pricing(response), now)
    except BinderctlError as exc:
        if cached is None:
            raise type(exc)(
                f"cannot get Hetzner's prices ({exc.message}), and there is no usable cached "
                f"copy at {path}",
                hint=exc.hint,
            ) from None
        return PriceList(cached.pricing, cached.fetched, f"not refreshed: {exc.message}")
    write_private(path, json.dumps({"fetched": now.isoformat(), "response": response}))
    return prices
