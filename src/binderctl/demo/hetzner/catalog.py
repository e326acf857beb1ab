"""What the emulated Hetzner project can order: locations, server types, images, prices.

Prices are EUR per month (the monthly cap) and per hour, net, for an account charged
German VAT (19 %). Sources:

- EU locations (fsn1, nbg1, hel1): Hetzner's published list prices before the April
  2026 adjustment. The CCX figures were checked against a public price table that
  lists them gross (CCX63: 0.5501 EUR/h, 343.30 EUR/month incl. 19 % VAT, i.e. 0.4623
  and 288.49 net, 60 TB traffic); the CX, CPX and CAX figures are the published list
  prices of the same period as remembered, not re-checked.
- Primary IPv4: 0.50 EUR/month net (0.0008 EUR/h), checked against the same table.
- US (ash, hil) and Singapore (sin): plausible figures, not published ones: Hetzner
  sells only CPX and CCX there, dearer than in the EU and with much less included
  traffic; the exact rate cards were not found.
- Traffic above the included amount: 1.00 EUR/TB net in the EU and US (published),
  7.40 EUR/TB in Singapore (plausible).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from binderctl.config import SERVER_TYPE_MEMORY_GB

VAT_RATE = Decimal("19.00")
TIB = 2**40
CREATED = "2016-01-30T23:50:00+00:00"

_EU = ("fsn1", "nbg1", "hel1")
_EVERYWHERE = (*_EU, "ash", "hil", "sin")


@dataclass(frozen=True)
class Location:
    id: int
    name: str
    description: str
    country: str
    city: str
    latitude: float
    longitude: float
    network_zone: str
    datacenter_id: int
    datacenter: str
    traffic_per_tb: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "country": self.country,
            "city": self.city,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "network_zone": self.network_zone,
        }


LOCATIONS: dict[str, Location] = {
    loc.name: loc
    for loc in (
        Location(1, "fsn1", "Falkenstein DC Park 1", "DE", "Falkenstein", 50.47612,
                 12.370071, "eu-central", 4, "fsn1-dc14", Decimal("1.00")),
        Location(2, "nbg1", "Nuremberg DC Park 1", "DE", "Nuremberg", 49.452102,
                 11.076665, "eu-central", 2, "nbg1-dc3", Decimal("1.00")),
        Location(3, "hel1", "Helsinki DC Park 1", "FI", "Helsinki", 60.169855,
                 24.938379, "eu-central", 3, "hel1-dc2", Decimal("1.00")),
        Location(4, "ash", "Ashburn, VA", "US", "Ashburn, VA", 39.045821,
                 -77.487073, "us-east", 5, "ash-dc1", Decimal("1.00")),
        Location(5, "hil", "Hillsboro, OR", "US", "Hillsboro, OR", 45.54222,
                 -122.951924, "us-west", 6, "hil-dc1", Decimal("1.00")),
        Location(6, "sin", "Singapore", "SG", "Singapore", 1.283333,
                 103.833333, "ap-southeast", 7, "sin-dc1", Decimal("7.40")),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Price:
    hourly: Decimal
    monthly: Decimal
    included_tb: Decimal


@dataclass(frozen=True)
class ServerType:
    id: int
    name: str
    cores: int
    disk: int
    cpu_type: str  # shared | dedicated
    architecture: str  # x86 | arm
    prices: dict[str, Price]  # location name -> price; where it is offered

    @property
    def memory(self) -> int:
        return SERVER_TYPE_MEMORY_GB[self.name]

    @property
    def description(self) -> str:
        return self.name.upper()

    def included_traffic(self, location: str) -> int:
        return int(self.prices[location].included_tb * TIB)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "cores": self.cores,
            "memory": self.memory,
            "disk": self.disk,
            "deprecated": False,
            "deprecation": None,
            "prices": [price_json(self, loc) for loc in self.prices],
            "storage_type": "local",
            "cpu_type": self.cpu_type,
            "architecture": self.architecture,
            "locations": [
                {
                    "id": LOCATIONS[loc].id,
                    "name": loc,
                    "deprecation": None,
                    "available": True,
                    "recommended": True,
                }
                for loc in self.prices
            ],
        }


def _offer(
    eu: tuple[str, str, str],
    abroad: tuple[str, str, str] | None = None,
    *,
    sin: tuple[str, str, str] | None = None,
) -> dict[str, Price]:
    """Prices per location from (hourly, monthly, included TB) for the EU, US and SG."""

    def price(row: tuple[str, str, str]) -> Price:
        return Price(Decimal(row[0]), Decimal(row[1]), Decimal(row[2]))

    offered = {loc: price(eu) for loc in _EU}
    if abroad is not None:
        offered |= {loc: price(abroad) for loc in ("ash", "hil")}
        offered["sin"] = price(sin or abroad)
    return offered


SERVER_TYPES: dict[str, ServerType] = {
    st.name: st
    for st in (
        ServerType(104, "cx22", 2, 40, "shared", "x86", _offer(("0.0060", "3.79", "20"))),
        ServerType(105, "cx32", 4, 80, "shared", "x86", _offer(("0.0109", "6.80", "20"))),
        ServerType(106, "cx42", 8, 160, "shared", "x86", _offer(("0.0263", "16.40", "20"))),
        ServerType(107, "cx52", 16, 320, "shared", "x86", _offer(("0.0519", "32.40", "20"))),
        ServerType(22, "cpx11", 2, 40, "shared", "x86", _offer(
            ("0.0070", "4.35", "20"), ("0.0080", "4.99", "1"), sin=("0.0096", "5.99", "0.5"))),
        ServerType(23, "cpx21", 3, 80, "shared", "x86", _offer(
            ("0.0121", "7.55", "20"), ("0.0144", "8.99", "2"), sin=("0.0176", "10.99", "1"))),
        ServerType(24, "cpx31", 4, 160, "shared", "x86", _offer(
            ("0.0218", "13.60", "20"), ("0.0256", "15.99", "3"), sin=("0.0304", "18.99", "1.5"))),
        ServerType(25, "cpx41", 8, 240, "shared", "x86", _offer(
            ("0.0403", "25.20", "20"), ("0.0480", "29.99", "4"), sin=("0.0560", "34.99", "2"))),
        ServerType(26, "cpx51", 16, 360, "shared", "x86", _offer(
            ("0.0879", "54.90", "20"), ("0.1040", "64.99", "5"), sin=("0.1200", "74.99", "3"))),
        ServerType(45, "cax11", 2, 40, "shared", "arm", _offer(("0.0060", "3.79", "20"))),
        ServerType(93, "cax21", 4, 80, "shared", "arm", _offer(("0.0104", "6.49", "20"))),
        ServerType(94, "cax31", 8, 160, "shared", "arm", _offer(("0.0200", "12.49", "20"))),
        ServerType(95, "cax41", 16, 320, "shared", "arm", _offer(("0.0392", "24.49", "20"))),
        ServerType(96, "ccx13", 2, 80, "dedicated", "x86", _offer(
            ("0.0200", "12.49", "20"), ("0.0240", "14.99", "1"), sin=("0.0280", "17.49", "0.5"))),
        ServerType(97, "ccx23", 4, 160, "dedicated", "x86", _offer(
            ("0.0392", "24.49", "20"), ("0.0480", "29.99", "2"), sin=("0.0560", "34.99", "1"))),
        ServerType(98, "ccx33", 8, 240, "dedicated", "x86", _offer(
            ("0.0777", "48.49", "30"), ("0.0945", "58.99", "3"), sin=("0.1105", "68.99", "1.5"))),
        ServerType(99, "ccx43", 16, 360, "dedicated", "x86", _offer(
            ("0.1546", "96.49", "40"), ("0.1890", "117.99", "4"), sin=("0.2195", "136.99", "2"))),
        ServerType(100, "ccx53", 32, 600, "dedicated", "x86", _offer(
            ("0.3085", "192.49", "50"), ("0.3765", "234.99", "6"), sin=("0.4405", "274.99", "3"))),
        ServerType(101, "ccx63", 48, 960, "dedicated", "x86", _offer(
            ("0.4623", "288.49", "60"), ("0.5640", "351.99", "8"), sin=("0.6600", "411.99", "4"))),
    )
}  # fmt: skip

PRIMARY_IPV4 = Price(Decimal("0.0008"), Decimal("0.50"), Decimal("0"))


@dataclass(frozen=True)
class Image:
    id: int
    name: str
    description: str
    os_flavor: str
    os_version: str
    architecture: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "system",
            "status": "available",
            "name": self.name,
            "description": self.description,
            "image_size": None,
            "disk_size": 5,
            "created": CREATED,
            "created_from": None,
            "bound_to": None,
            "os_flavor": self.os_flavor,
            "os_version": self.os_version,
            "rapid_deploy": True,
            "protection": {"delete": False},
            "deprecated": None,
            "deleted": None,
            "labels": {},
            "architecture": self.architecture,
        }


IMAGES: tuple[Image, ...] = (
    Image(161547269, "ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04", "x86"),
    Image(161547270, "ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04", "arm"),
    Image(67794396, "ubuntu-22.04", "Ubuntu 22.04", "ubuntu", "22.04", "x86"),
    Image(103908070, "ubuntu-22.04", "Ubuntu 22.04", "ubuntu", "22.04", "arm"),
    Image(114690387, "debian-12", "Debian 12", "debian", "12", "x86"),
    Image(114690389, "debian-12", "Debian 12", "debian", "12", "arm"),
)


def amount(net: Decimal) -> dict[str, str]:
    """A price as the API writes it: net and gross decimal strings, 10 places."""
    gross = net * (1 + VAT_RATE / 100)
    return {"net": f"{net:.10f}", "gross": f"{gross:.10f}"}


def price_json(server_type: ServerType, location: str) -> dict[str, Any]:
    price = server_type.prices[location]
    return {
        "location": location,
        "price_hourly": amount(price.hourly),
        "price_monthly": amount(price.monthly),
        "included_traffic": server_type.included_traffic(location),
        "price_per_tb_traffic": amount(LOCATIONS[location].traffic_per_tb),
    }


def datacenter_json(location: Location) -> dict[str, Any]:
    offered = [st.id for st in SERVER_TYPES.values() if location.name in st.prices]
    return {
        "id": location.datacenter_id,
        "name": location.datacenter,
        "description": f"{location.city} virtual DC {location.datacenter.rsplit('dc', 1)[1]}",
        "location": location.to_json(),
        "server_types": {
            "supported": offered,
            "available": offered,
            "available_for_migration": offered,
        },
    }


def _load_balancer(type_id: int, name: str, hourly: str, monthly: str, tb: str) -> dict[str, Any]:
    return {
        "id": type_id,
        "name": name,
        "prices": [
            {
                "location": loc,
                "price_hourly": amount(Decimal(hourly)),
                "price_monthly": amount(Decimal(monthly)),
                "included_traffic": int(Decimal(tb) * TIB),
                "price_per_tb_traffic": amount(LOCATIONS[loc].traffic_per_tb),
            }
            for loc in _EVERYWHERE
        ],
    }


def pricing_json() -> dict[str, Any]:
    """The body of ``GET /pricing``."""
    per_location = [
        {
            "location": loc,
            "price_hourly": amount(PRIMARY_IPV4.hourly),
            "price_monthly": amount(PRIMARY_IPV4.monthly),
        }
        for loc in _EVERYWHERE
    ]
    free = [
        {"location": loc, "price_hourly": amount(Decimal(0)), "price_monthly": amount(Decimal(0))}
        for loc in _EVERYWHERE
    ]
    return {
        "pricing": {
            "currency": "EUR",
            "vat_rate": f"{VAT_RATE:.2f}",
            "image": {"price_per_gb_month": amount(Decimal("0.0110"))},
            "floating_ip": {"price_monthly": amount(Decimal("3.00"))},
            "floating_ips": [
                {
                    "type": kind,
                    "prices": [
                        {"location": loc, "price_monthly": amount(Decimal("3.00"))}
                        for loc in _EVERYWHERE
                    ],
                }
                for kind in ("ipv4", "ipv6")
            ],
            "primary_ips": [
                {"type": "ipv4", "prices": per_location},
                {"type": "ipv6", "prices": free},
            ],
            "server_backup": {"percentage": "20.00"},
            "volume": {"price_per_gb_month": amount(Decimal("0.0440"))},
            "load_balancer_types": [
                _load_balancer(1, "lb11", "0.0086", "5.39", "20"),
                _load_balancer(2, "lb21", "0.0263", "16.40", "20"),
                _load_balancer(3, "lb31", "0.0527", "32.90", "30"),
            ],
            "server_types": [
                {
                    "id": st.id,
                    "name": st.name,
                    "prices": [price_json(st, loc) for loc in st.prices],
                }
                for st in SERVER_TYPES.values()
            ],
        }
    }
