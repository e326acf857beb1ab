"""A small price list as Hetzner writes it, for the budget tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from binderctl.config import MemberConfig
from binderctl.services.budget import parse_pricing

TIB = 2**40
VAT = Decimal("19")


def amount(net: str) -> dict[str, str]:
    """Net and gross as decimal strings, the way the API writes them."""
    return {"net": net, "gross": str(Decimal(net) * (1 + VAT / 100))}


def server_price(location: str, hourly: str, monthly: str, included_tb: int) -> dict[str, Any]:
    return {
        "location": location,
        "price_hourly": amount(hourly),
        "price_monthly": amount(monthly),
        "included_traffic": included_tb * TIB,
        "price_per_tb_traffic": amount("1.0000"),
    }


def pricing_document() -> dict[str, Any]:
    return {
        "pricing": {
            "currency": "EUR",
            "vat_rate": "19.00",
            "primary_ips": [
                {
                    "type": "ipv4",
                    "prices": [
                        {
                            "location": loc,
                            "price_hourly": amount("0.0008"),
                            "price_monthly": amount("0.5000"),
                        }
                        for loc in ("fsn1", "nbg1")
                    ],
                },
                {"type": "ipv6", "prices": []},
            ],
            "server_types": [
                {
                    "id": 104,
                    "name": "cx22",
                    "prices": [
                        server_price(loc, "0.0060000000", "3.7900000000", 20)
                        for loc in ("fsn1", "nbg1")
                    ],
                },
                {
                    "id": 101,
                    "name": "ccx63",
                    "prices": [
                        server_price(loc, "0.4623000000", "288.4900000000", 60)
                        for loc in ("fsn1", "nbg1")
                    ],
                },
                # Reaches its monthly price in a 31-day month but not in a 28-day one.
                {"id": 900, "name": "cx99", "prices": [server_price("nbg1", "0.5", "350", 20)]},
            ],
        }
    }


PRICING = parse_pricing(pricing_document())
MEMBER = MemberConfig(
    name="demo",
    binder_host="demo.example.org",
    hub_host="hub.demo.example.org",
    ssh_allowed_cidrs=("203.0.113.0/24",),
    api_allowed_cidrs=("203.0.113.0/24",),
)
