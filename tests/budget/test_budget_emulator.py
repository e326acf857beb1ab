"""The budget against the Hetzner emulator, through the real hcloud client and CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import hcloud
import pytest
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType
from hcloud.servers import ServerCreatePublicNetwork

from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import BinderctlError
from binderctl.services.budget import SessionUsage
from binderctl.services.budget_report import budget_report, month_to_date_summary
from binderctl.services.hetzner import HetznerService
from binderctl.services.pricing import cache_path, load_prices
from binderctl.services.session_history import record_sample
from tests.kit.cli import run_cli

TIB = 2**40
CREATED = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 5, 9, 45, tzinfo=UTC)  # 48 h 15 min after CREATED: 49 hours


@pytest.fixture
def world(demo_world: DemoWorld) -> Iterator[DemoWorld]:
    """The project's demo world, this process pointed at it, its traffic held still."""
    demo_world.hetzner.project.traffic_rate = (0.0, 0.0)
    with demo_world.environment():
        yield demo_world


@pytest.fixture
def member(world: DemoWorld) -> MemberConfig:
    return load_config(world.config_path).member(MEMBER)


def client(world: DemoWorld) -> hcloud.Client:
    return hcloud.Client(token=world.token, api_endpoint=world.hetzner.url)


def create_server(world: DemoWorld, member: MemberConfig, outgoing: int = 0) -> None:
    """The member's server, and its primary IPv4 labelled and kept like provisioning does."""
    api = client(world)
    server = api.servers.create(
        "binderctl-demo",
        server_type=ServerType(name="ccx63"),
        image=Image(name="ubuntu-24.04"),
        location=Location(name="nbg1"),
        labels=member.labels,
        public_net=ServerCreatePublicNetwork(enable_ipv4=True, enable_ipv6=False),
    ).server
    ip = server.public_net.primary_ipv4
    api.primary_ips.update(ip, auto_delete=False, labels=member.labels)
    project = world.hetzner.project
    project.servers[server.id].created = CREATED.timestamp()
    project.primary_ips[ip.id].created = CREATED.timestamp()
    project.add_traffic(server.id, outgoing, 0)


def test_prices_come_from_the_api_and_are_cached(world: DemoWorld, member: MemberConfig) -> None:
    hetzner = HetznerService.for_member(member)
    prices = load_prices(member, hetzner, NOW)
    assert prices.problem is None
    assert prices.fetched == NOW
    ccx63 = prices.pricing.server_type("ccx63", "nbg1")
    assert ccx63.time.monthly.net == Decimal("288.4900000000")
    assert ccx63.included_traffic == 60 * TIB
    path = cache_path(member)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["fetched"] == NOW.isoformat()
    # Within an hour the cache is used without asking: a failing API goes unnoticed.
    world.hetzner.faults.fail("GET", "/pricing", status=503)
    assert load_prices(member, hetzner, NOW + timedelta(minutes=59)).problem is None


def test_an_unreachable_api_falls_back_to_the_cache_and_says_how_old_it_is(
    world: DemoWorld, member: MemberConfig
) -> None:
    hetzner = HetznerService.for_member(member)
    load_prices(member, hetzner, NOW)
    world.hetzner.faults.fail("GET", "/pricing", status=503, message="maintenance")
    answered = load_prices(member, hetzner, NOW + timedelta(hours=2))
    assert answered.fetched == NOW
    assert answered.problem is not None and "maintenance" in answered.problem


def test_month_to_date_of_the_member_server(world: DemoWorld, member: MemberConfig) -> None:
    create_server(world, member, outgoing=61 * TIB + TIB // 2)
    report = budget_report(member, NOW)
    assert [s.server_type for s in report.resources.servers] == ["ccx63"]
    assert report.month_to_date.server.net == 49 * Decimal("0.4623")
    assert report.month_to_date.ipv4.net == 49 * Decimal("0.0008")
    assert report.month_to_date.traffic.net == Decimal("1.5")
    assert report.month_to_date.total.gross == report.month_to_date.total.net * Decimal("1.19")
    assert report.projected_month.server.net == Decimal("288.49")
    assert not report.stale
    summary = month_to_date_summary(member, NOW)
    assert summary.month_to_date == report.month_to_date.total
    assert (summary.currency, summary.level, summary.stale) == ("EUR", report.level, False)


def test_with_the_api_down_the_report_uses_the_cache_and_its_age(
    world: DemoWorld, member: MemberConfig
) -> None:
    create_server(world, member)
    before = budget_report(member, NOW)
    world.hetzner.stop()
    later = NOW + timedelta(hours=3)
    report = budget_report(member, later)
    assert report.stale
    assert report.prices_age == timedelta(hours=3)
    assert any(n.startswith("prices from the cache, fetched 3h ago") for n in report.notes)
    assert any("not refreshed" in n and world.hetzner.url in n for n in report.notes)
    assert report.resources == before.resources
    assert report.month_to_date.server.net == 52 * Decimal("0.4623")


def test_no_api_and_no_cache_is_a_clear_error(world: DemoWorld, member: MemberConfig) -> None:
    world.hetzner.stop()
    with pytest.raises(
        BinderctlError,
        match=r"cannot get Hetzner's prices \(fetching prices: cannot talk to the Hetzner API",
    ):
        budget_report(member, NOW)


def test_without_a_server_nothing_is_billed(world: DemoWorld, member: MemberConfig) -> None:
    report = budget_report(member, NOW)
    assert report.month_to_date.total.net == 0
    assert report.projected_month.total.net == 0
    assert any("nothing billed" in note for note in report.notes)


def test_cli_budget_json(world: DemoWorld, member: MemberConfig) -> None:
    create_server(world, member)
    done = run_cli(world, "budget", "-o", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["currency"] == "EUR"
    for key in ("month_to_date", "projected_month", "cap", "remaining", "headroom"):
        assert set(document[key]) == {"net", "gross"}
        assert all(Decimal(value).is_finite() for value in document[key].values())
    assert document["cap"] == {"net": "300.00", "gross": "357.00"}
    # A ccx63 billed for most of a month reaches its monthly price: 288.49 + 0.50 for the IP.
    assert document["projected_month"]["net"] == "288.99"
    assert document["level"] == document["levels"]["projected_month"] == "warn"
    assert document["servers"][0]["server_type"] == "ccx63"
    assert any(row["current"] and row["name"] == "ccx63" for row in document["what_if"])
    text = run_cli(world, "budget")
    assert text.returncode == 0, text.stderr
    assert re.search(r"projected month +288\.99 / 343\.90 +warn \(96% of cap\)", text.stdout)
    assert "server binderctl-demo (ccx63 in nbg1) since 2026-11-03 09:30 UTC" in text.stdout


def test_cli_budget_exit_codes(world: DemoWorld, tmp_path: Path) -> None:
    world.hetzner.stop()
    failed = run_cli(world, "budget", "-o", "json")
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "cannot get Hetzner's prices" in failed.stderr
    assert "Traceback" not in failed.stderr
    missing = run_cli(world, "budget", env={"BINDERCTL_CONFIG": str(tmp_path / "missing.toml")})
    assert missing.returncode == 2
    assert "no configuration file" in missing.stderr


def test_cost_per_session_hour_from_the_recorded_history(
    world: DemoWorld, member: MemberConfig
) -> None:
    create_server(world, member)
    start = (NOW - timedelta(hours=2)).timestamp()
    for minute in range(61):  # an hour of 30 sessions, with 2 launches a minute
        record_sample(member, start + 60 * minute, 30, 2 * minute)
    report = budget_report(member, NOW)
    assert report.sessions == SessionUsage(3600, 30 * 3600, 120, 30)
    # 288.99 for the 663 hours from CREATED to the month's end: the cost of one hour.
    hour = report.projected_month.total.times(Decimal(1) / 663)
    costs, step = report.session_costs, Decimal("0.000001")
    assert costs.per_session_hour is not None and costs.per_launch is not None
    assert costs.per_session_hour.rounded(step) == hour.times(1 / Decimal(30)).rounded(step)
    assert costs.per_launch.rounded(step) == hour.times(1 / Decimal(120)).rounded(step)
    assert next(row for row in report.what_if if row.current).fits_memory is True
