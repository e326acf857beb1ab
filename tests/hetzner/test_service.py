"""services/hetzner.py over the real hcloud client, against the emulator."""

from __future__ import annotations

import dataclasses
import functools
import socket
from collections.abc import Callable

import hcloud
import pytest
from hcloud.firewalls import FirewallRule

from binderctl.auth import Secret
from binderctl.config import MemberConfig
from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.world import DemoWorld
from binderctl.errors import EXIT_FAILED, EXIT_USAGE, BinderctlError, ConfigError
from binderctl.services import dns
from binderctl.services.attention import Facts, judge
from binderctl.services.cluster import ClusterState
from binderctl.services.hetzner import HetznerService, desired_rules, rules_differ
from tests.kit.worlds import on_loop

Labelled = Callable[[], dict[str, list[str]]]
CLOUD_INIT = "#cloud-config\nhostname: demo\n"


def public_key(world: DemoWorld) -> str:
    return world.key_path.with_suffix(".pub").read_text()


def provision(service: HetznerService, world: DemoWorld) -> list[str]:
    outcomes = [
        service.ensure_ssh_key(public_key(world)),
        service.ensure_firewall(),
        service.ensure_primary_ip(),
    ]
    key, firewall, ip = (o.found.id for o in outcomes)
    server = service.ensure_server(
        CLOUD_INIT, ssh_key_id=key, firewall_id=firewall, primary_ip_id=ip
    )
    assert server.found.ipv4 == outcomes[2].found.ipv4
    return [o.outcome for o in (*outcomes, server)]


def test_ensure_twice_creates_once(
    service: HetznerService, world: DemoWorld, labelled: Labelled, emulator: HetznerEmulator
) -> None:
    assert [i.action for i in service.plan(public_key(world))] == ["create"] * 4
    assert provision(service, world) == ["created"] * 4
    assert provision(service, world) == ["kept"] * 4
    assert labelled() == {
        "servers": ["binderctl-demo"],
        "firewalls": ["binderctl-demo"],
        "ssh_keys": ["binderctl-demo"],
        "primary_ips": ["binderctl-demo-ipv4"],
    }
    assert [i.action for i in service.plan(public_key(world))] == ["keep"] * 4
    server = next(iter(emulator.project.servers.values()))
    assert server.user_data == CLOUD_INIT
    assert server.labels == {"managed-by": "binderctl", "binderctl/member": "demo"}


def test_drift_is_repaired(
    in_world: DemoWorld, member: MemberConfig, api: hcloud.Client, labelled: Labelled
) -> None:
    service = HetznerService.for_member(member)
    provision(service, in_world)
    ip = api.primary_ips.get_by_name("binderctl-demo-ipv4")
    api.primary_ips.update(ip, auto_delete=True)
    api.servers.get_by_name("binderctl-demo").power_off().wait_until_finished()
    moved = dataclasses.replace(member, ssh_allowed_cidrs=("198.51.100.0/24",))
    service = HetznerService.for_member(moved)
    plan = {i.kind: i for i in service.plan(public_key(in_world))}
    assert plan["firewall"].action == "change" and "198.51.100.0/24" in plan["firewall"].detail
    assert plan["primary IP"].action == "change" and plan["server"].action == "change"
    assert provision(service, in_world) == ["kept", "changed", "changed", "changed"]
    assert api.servers.get_by_name("binderctl-demo").status == "running"
    assert api.primary_ips.get_by_id(ip.id).auto_delete is False
    ssh_rule = api.firewalls.get_by_name("binderctl-demo").rules[0]
    assert (ssh_rule.port, ssh_rule.source_ips) == ("2222", ["198.51.100.0/24"])
    assert len(labelled()["servers"]) == 1


def test_a_key_uploaded_by_hand_is_reused_and_left_alone(
    service: HetznerService, world: DemoWorld, api: hcloud.Client
) -> None:
    mine = api.ssh_keys.create("alice laptop", public_key=public_key(world))
    ensured = service.ensure_ssh_key(public_key(world))
    assert (ensured.outcome, ensured.found.id) == ("kept", mine.id)
    service.teardown()
    assert [k.name for k in api.ssh_keys.get_all()] == ["alice laptop"]


def test_teardown_deletes_only_the_members_resources(
    service: HetznerService, world: DemoWorld, api: hcloud.Client, labelled: Labelled
) -> None:
    provision(service, world)
    api.firewalls.create("someone-elses", rules=desired_rules(service.member))
    kept = service.teardown(keep_ip=True)
    assert kept.kept == [f"primary IP binderctl-demo-ipv4 {kept_ip(api)} (id {ip_id(api)})"]
    assert labelled() == {
        "servers": [],
        "firewalls": [],
        "ssh_keys": [],
        "primary_ips": ["binderctl-demo-ipv4"],
    }
    assert provision(service, world) == ["created", "created", "kept", "created"]
    result = service.teardown()
    assert len(result.deleted) == 4 and result.kept == []
    assert all(not names for names in labelled().values())
    assert [f.name for f in api.firewalls.get_all()] == ["someone-elses"]


def kept_ip(api: hcloud.Client) -> str:
    return api.primary_ips.get_by_name("binderctl-demo-ipv4").ip


def ip_id(api: hcloud.Client) -> int:
    return api.primary_ips.get_by_name("binderctl-demo-ipv4").id


def test_user_data_over_32_kib_is_refused_before_sending(
    service: HetznerService, emulator: HetznerEmulator
) -> None:
    with pytest.raises(ConfigError, match="32768 bytes"):
        service.ensure_server("#" * (32 * 1024 + 1), ssh_key_id=1, firewall_id=2, primary_ip_id=3)
    assert emulator.project.servers == {}


def test_server_type_not_offered_lists_the_offered_ones(
    in_world: DemoWorld, member: MemberConfig
) -> None:
    service = HetznerService.for_member(dataclasses.replace(member, location="sin"))
    firewall = service.ensure_firewall().found.id
    ip = service.ensure_primary_ip().found.id
    key = service.ensure_ssh_key(public_key(in_world)).found.id
    small = HetznerService.for_member(
        dataclasses.replace(member, location="sin", server_type="cx22")
    )
    with pytest.raises(ConfigError) as caught:
        small.ensure_server(CLOUD_INIT, ssh_key_id=key, firewall_id=firewall, primary_ip_id=ip)
    message = str(caught.value)
    assert "server type 'cx22' is not offered in location 'sin'" in message
    assert "offered there: ccx13, ccx23, ccx33, ccx43, ccx53, ccx63, cpx11" in message
    assert caught.value.exit_code == EXIT_USAGE
    with pytest.raises(ConfigError, match="offered there"):
        small.check_server_type()


def test_failed_create_action_is_finished_by_the_next_run(
    service: HetznerService, world: DemoWorld, emulator: HetznerEmulator
) -> None:
    emulator.faults.failing_actions = {"create_server"}
    with pytest.raises(BinderctlError, match="create_server action ended in an error"):
        provision(service, world)
    emulator.faults.failing_actions = set()
    assert provision(service, world) == ["kept", "kept", "kept", "changed"]


@pytest.mark.parametrize(
    ("fault", "expected", "exit_code"),
    [
        ({"status": 503, "times": 99}, "the Hetzner API failed (unavailable", EXIT_FAILED),
        ({"status": 502, "times": 99}, "the Hetzner API failed (bad_gateway", EXIT_FAILED),
        ({"status": 500}, "the Hetzner API failed (server_error", EXIT_FAILED),
        ({"reset": True}, "(connection lost)", EXIT_FAILED),
        ({"status": 409, "code": "uniqueness_error", "times": 1}, "same name", EXIT_FAILED),
        ({"status": 403, "code": "resource_limit_exceeded"}, "account limit", EXIT_FAILED),
        ({"status": 401, "code": "unauthorized"}, "refused the token", EXIT_USAGE),
    ],
)
def test_api_failures_become_clear_errors(
    service: HetznerService,
    emulator: HetznerEmulator,
    fault: dict[str, object],
    expected: str,
    exit_code: int,
) -> None:
    emulator.faults.fail("GET", "/servers", **fault)
    with pytest.raises(BinderctlError) as caught:
        service.find_member_resources()
    assert expected in str(caught.value)
    assert caught.value.exit_code == exit_code
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize(("status", "retried"), [(502, True), (503, False), (500, False)])
def test_a_server_error_says_retried_only_when_hcloud_retries_it(
    service: HetznerService, emulator: HetznerEmulator, status: int, retried: bool
) -> None:
    """hcloud-python's ``Client._retry_policy`` retries 502 and 504 (and the codes
    conflict, rate_limit_exceeded, bad_gateway, timeout), not 500 or 503."""
    emulator.faults.fail("GET", "/servers", status=status, times=99)
    with pytest.raises(BinderctlError) as caught:
        service.find_member_resources()
    assert ("also when retried" in caught.value.message) is retried


def test_transient_failures_are_retried_by_the_client(
    service: HetznerService, emulator: HetznerEmulator
) -> None:
    emulator.faults.fail("GET", "/servers", status=502, times=2)
    emulator.faults.fail("GET", "/firewalls", status=429)
    assert service.find_member_resources().empty


def test_rate_limit_says_when_to_retry(service: HetznerService, emulator: HetznerEmulator) -> None:
    service.fetch_pricing()
    assert service.rate_limit is not None and service.rate_limit.limit == 3600
    emulator.rate_limit.remaining = 0
    with pytest.raises(BinderctlError) as caught:
        service.find_member_resources()
    assert "rate limit is used up" in caught.value.message
    assert caught.value.hint is not None and "retry after" in caught.value.hint
    assert "(in 59 min" in caught.value.hint or "(in 60 min" in caught.value.hint


def test_unreachable_api(in_world: DemoWorld, member: MemberConfig) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = dataclasses.replace(member, hcloud_endpoint=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(BinderctlError, match="connection refused"):
        HetznerService.for_member(gone).find_member_resources()


def test_pricing_power_and_no_token_in_reprs(
    service: HetznerService, world: DemoWorld, api: hcloud.Client
) -> None:
    pricing = service.fetch_pricing()["pricing"]
    ccx63 = next(t for t in pricing["server_types"] if t["name"] == "ccx63")
    nbg1 = next(p for p in ccx63["prices"] if p["location"] == "nbg1")
    assert nbg1["price_monthly"] == {"net": "288.4900000000", "gross": "343.3031000000"}
    assert pricing["vat_rate"] == "19.00"
    provision(service, world)
    assert service.reboot(hard=True).startswith("reset server binderctl-demo")
    commands = [a.command for a in api.servers.get_by_name("binderctl-demo").get_actions()]
    assert "reset_server" in commands
    for thing in (service, world, world.hetzner, Secret(world.token, "x")):
        assert world.token not in repr(thing)


def test_pure_helpers(member: MemberConfig) -> None:
    wanted = desired_rules(member)
    assert rules_differ(wanted, wanted) == ""
    fewer = [r for r in wanted if r.protocol != "icmp"]
    assert rules_differ(fewer, wanted) == "add icmp from 0.0.0.0/0, ::/0"
    extra = FirewallRule(direction="in", protocol="udp", port="53", source_ips=["0.0.0.0/0"])
    assert rules_differ([*wanted, extra], wanted) == "remove udp 53 from 0.0.0.0/0"
    assert [(r.name, r.kind, r.value) for r in dns.records(member, "192.0.2.7")] == [
        ("demo.binder.test", "A", "192.0.2.7"),
        ("*.demo.binder.test", "A", "192.0.2.7"),
    ]
    apart = dataclasses.replace(member, hub_host="hub.example.org")
    last = dns.records(apart, "192.0.2.7")[-1]
    assert (last.name, last.value, last.probe) == ("hub.example.org", "192.0.2.7", last.name)


def test_an_abuse_block_and_lock_are_read_from_the_api(
    service: HetznerService, world: DemoWorld, emulator: HetznerEmulator
) -> None:
    """As the API reports them (``public_net.ipv4.blocked``, ``locked``); a locked
    server takes no action."""
    provision(service, world)
    flags = service.server_flags()
    assert flags is not None and not flags.locked and not flags.ipv4_blocked
    server = next(iter(emulator.project.servers.values()))
    on_loop(world, functools.partial(emulator.project.abuse_block, server.id, lock=True))
    blocked = service.server_flags()
    assert blocked == dataclasses.replace(flags, locked=True, ipv4_blocked=True)
    kinds = [i.kind for i in judge(ClusterState(0, {}, {}, {}, {}, (), None, None, 0),
                                   Facts(server=blocked), 0.0)]  # fmt: skip
    assert kinds == ["server-locked", "ipv4-blocked"]
    with pytest.raises(BinderctlError, match="locked"):
        service.reboot()
    on_loop(world, functools.partial(emulator.project.abuse_block, server.id, blocked=False))
    assert service.server_flags() == flags
