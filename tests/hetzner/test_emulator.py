"""The Hetzner emulator driven by the real hcloud client (and raw HTTP where the client
hides what the API answers)."""

from __future__ import annotations

import time
from collections.abc import Callable

import hcloud
import httpx
import pytest
import requests
from hcloud.actions import ActionFailedException
from hcloud.firewalls import FirewallResource, FirewallResourceLabelSelector, FirewallRule
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.primary_ips import PrimaryIP
from hcloud.server_types import ServerType
from hcloud.servers import BoundServer, ServerCreatePublicNetwork
from hcloud.ssh_keys import SSHKey

from binderctl.demo.hetzner import HetznerEmulator, ServerEvent, ServerInfo
from binderctl.demo.world import DemoWorld

TIB = 2**40


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait (up to 10 s) for something the emulator does on its own loop."""
    deadline = time.monotonic() + 10
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.01)


def has_length(items: list[object], length: int) -> Callable[[], bool]:
    return lambda: len(items) == length


def new_server(api: hcloud.Client, name: str = "node-1", **options: object) -> BoundServer:
    created = api.servers.create(
        name,
        server_type=ServerType(name=str(options.pop("server_type", "ccx63"))),
        image=Image(name="ubuntu-24.04"),
        location=Location(name=str(options.pop("location", "nbg1"))),
        **options,  # type: ignore[arg-type]
    )
    created.action.wait_until_finished()
    for action in created.next_actions:
        action.wait_until_finished()
    return api.servers.get_by_id(created.server.id)


def record(emulator: HetznerEmulator) -> list[tuple[ServerEvent, ServerInfo]]:
    seen: list[tuple[ServerEvent, ServerInfo]] = []
    for event in ServerEvent:

        async def hook(info: ServerInfo, event: ServerEvent = event) -> None:
            seen.append((event, info))

        emulator.hooks.add(event, hook)
    return seen


def test_server_lifecycle_runs_actions_and_tells_the_hooks(
    api: hcloud.Client, emulator: HetznerEmulator, world: DemoWorld
) -> None:
    seen = record(emulator)
    key = api.ssh_keys.create("ops", public_key=world.key_path.with_suffix(".pub").read_text())
    created = api.servers.create(
        "node-1",
        server_type=ServerType(name="ccx63"),
        image=Image(name="ubuntu-24.04"),
        location=Location(name="nbg1"),
        ssh_keys=[SSHKey(id=key.id)],
        user_data="#cloud-config\nhostname: node-1\n",
        labels={"role": "binder"},
    )
    assert created.server.status == "initializing"
    assert created.action.command == "create_server" and created.action.status == "running"
    assert [a.command for a in created.next_actions] == ["start_server"]
    assert created.root_password is None
    created.action.wait_until_finished()
    server = api.servers.get_by_id(created.server.id)
    assert server.status == "running"
    assert server.public_net.ipv4.ip in [str(h) for h in world.network.hosts()][9:]
    assert server.public_net.primary_ipv4 is not None
    assert server.included_traffic == 60 * TIB
    assert emulator.project.servers[server.id].user_data == "#cloud-config\nhostname: node-1\n"
    eventually(has_length(seen, 2), "created and running hooks")
    assert [event for event, _ in seen] == [ServerEvent.CREATED, ServerEvent.RUNNING]
    info = seen[1][1]
    assert info.ipv4 == server.public_net.ipv4.ip
    assert info.ssh_public_keys == (key.public_key,)
    assert info.user_data.startswith("#cloud-config")

    seen.clear()
    for verb, status, events in [
        ("power_off", "off", [ServerEvent.POWERED_OFF]),
        ("power_on", "running", [ServerEvent.POWERED_ON, ServerEvent.RUNNING]),
        ("reboot", "running", [ServerEvent.REBOOTED, ServerEvent.RUNNING]),
        ("reset", "running", [ServerEvent.REBOOTED, ServerEvent.RUNNING]),
        ("shutdown", "off", [ServerEvent.POWERED_OFF]),
    ]:
        getattr(server, verb)().wait_until_finished()
        assert api.servers.get_by_id(server.id).status == status, verb
        eventually(has_length(seen, len(events)), f"hooks after {verb}")
        assert [event for event, _ in seen] == events, verb
        if verb == "reset":
            assert seen[0][1].command == "reset_server"
        seen.clear()

    server.delete().wait_until_finished()
    assert api.servers.get_all() == []
    assert api.primary_ips.get_all() == []  # created with the server: auto_delete
    eventually(lambda: [event for event, _ in seen] == [ServerEvent.DELETED], "deleted hook")


def test_a_running_action_locks_the_server(api: hcloud.Client, emulator: HetznerEmulator) -> None:
    server = new_server(api)
    emulator.faults.action_seconds = 5
    server.reboot()
    with pytest.raises(hcloud.APIException) as caught:
        server.reset()
    assert caught.value.code == "locked"


def test_a_failing_hook_does_not_break_the_api(
    api: hcloud.Client, emulator: HetznerEmulator
) -> None:
    async def broken(info: ServerInfo) -> None:
        raise RuntimeError("the simulated node fell over")

    emulator.hooks.add(ServerEvent.CREATED, broken)
    assert new_server(api).status == "running"


def test_an_action_can_end_in_error(api: hcloud.Client, emulator: HetznerEmulator) -> None:
    emulator.faults.failing_actions = {"create_server"}
    created = api.servers.create(
        "node-1", server_type=ServerType(name="cx22"), image=Image(name="ubuntu-24.04")
    )
    with pytest.raises(ActionFailedException):
        created.action.wait_until_finished()
    assert created.action.error["code"] == "action_failed"
    assert api.servers.get_by_id(created.server.id).status == "off"


def test_api_errors_have_hetzner_codes_and_details(
    api: hcloud.Client, emulator: HetznerEmulator, world: DemoWorld
) -> None:
    def code_of(call: Callable[[], object]) -> hcloud.APIException:
        with pytest.raises(hcloud.APIException) as caught:
            call()
        return caught.value

    bad_token = hcloud.Client("not-the-token", api_endpoint=emulator.url)
    assert code_of(bad_token.servers.get_all).code == "unauthorized"
    assert code_of(lambda: api.servers.get_by_id(12345)).code == "not_found"

    not_offered = code_of(lambda: new_server(api, server_type="cx22", location="sin"))
    assert not_offered.code == "invalid_input"
    assert "cx22" in not_offered.message and "sin" in not_offered.message
    assert not_offered.details["fields"][0]["name"] == "server_type"

    new_server(api, "taken")
    assert code_of(lambda: new_server(api, "taken")).details == {"fields": [{"name": "name"}]}
    bad_name = code_of(lambda: new_server(api, "not a hostname"))
    assert bad_name.code == "invalid_input" and bad_name.details["fields"][0]["name"] == "name"

    emulator.faults.server_limit = 1
    assert code_of(lambda: new_server(api, "second")).code == "resource_limit_exceeded"

    public_key = world.key_path.with_suffix(".pub").read_text()
    api.ssh_keys.create("ops", public_key=public_key)
    duplicate = code_of(lambda: api.ssh_keys.create("ops-2", public_key=public_key))
    assert duplicate.code == "uniqueness_error"
    assert duplicate.details == {"fields": [{"name": "public_key"}]}
    assert code_of(lambda: api.ssh_keys.create("x", public_key="ssh-rsa nonsense")).code == (
        "invalid_input"
    )
    no_port = FirewallRule(direction="in", protocol="tcp", source_ips=["0.0.0.0/0"])
    assert code_of(lambda: api.firewalls.create("fw", rules=[no_port])).code == "invalid_input"

    response = httpx.get(f"{emulator.url}/nothing", headers={"Authorization": "x"})
    assert response.status_code == 401  # the token is checked before the route
    response = httpx.get(
        f"{emulator.url}/nothing", headers={"Authorization": f"Bearer {world.token}"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_lists_are_paged_and_filtered_by_label_selector(api: hcloud.Client) -> None:
    rule = FirewallRule(direction="in", protocol="icmp", source_ips=["0.0.0.0/0"])
    for n in range(53):
        api.firewalls.create(f"fw-{n}", rules=[rule], labels={"n": str(n), "tier": str(n % 3)})
    page, meta = api.firewalls.get_list(page=2, per_page=25)
    assert len(page) == 25
    p = meta.pagination
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (
        2,
        25,
        1,
        3,
        3,
        53,
    )
    assert len(api.firewalls.get_all()) == 53  # the client walks the pages
    assert {f.name for f in api.firewalls.get_all(label_selector="n in (1,2,50)")} == {
        "fw-1",
        "fw-2",
        "fw-50",
    }
    assert len(api.firewalls.get_all(label_selector="tier=0")) == 18
    assert len(api.firewalls.get_all(label_selector="tier!=0,tier notin (1)")) == 17
    assert api.firewalls.get_all(label_selector="!n") == []
    with pytest.raises(hcloud.APIException) as caught:
        api.firewalls.get_all(label_selector="n in 1")
    assert caught.value.code == "invalid_input"


def test_primary_ips_follow_hetzners_assignment_rules(api: hcloud.Client, world: DemoWorld) -> None:
    kept = api.primary_ips.create(
        type="ipv4", name="keep-me", location=Location(name="nbg1"), auto_delete=False
    ).primary_ip
    assert kept.assignee_id is None and kept.auto_delete is False
    server = new_server(
        api, public_net=ServerCreatePublicNetwork(enable_ipv4=False, enable_ipv6=False)
    )
    assert server.public_net.ipv4 is None
    with pytest.raises(hcloud.APIException) as caught:
        kept.assign(server.id, "server")
    assert caught.value.code == "server_not_stopped"
    server.power_off().wait_until_finished()
    kept.assign(server.id, "server").wait_until_finished()
    assert api.servers.get_by_id(server.id).public_net.ipv4.ip == kept.ip
    with pytest.raises(hcloud.APIException) as caught:
        api.primary_ips.delete(kept)
    assert caught.value.code == "primary_ip_assigned"
    server.delete().wait_until_finished()
    survivor = api.primary_ips.get_by_id(kept.id)
    assert survivor.assignee_id is None  # auto_delete off: it outlives the server

    elsewhere = api.primary_ips.create(type="ipv4", name="fsn", location=Location(name="fsn1"))
    with pytest.raises(hcloud.APIException) as caught:
        new_server(
            api,
            "node-2",
            public_net=ServerCreatePublicNetwork(
                ipv4=PrimaryIP(id=elsewhere.primary_ip.id), enable_ipv6=False
            ),
        )
    assert caught.value.code == "primary_ip_datacenter_mismatch"
    reused = new_server(
        api,
        "node-3",
        public_net=ServerCreatePublicNetwork(ipv4=PrimaryIP(id=kept.id), enable_ipv6=False),
    )
    assert reused.public_net.ipv4.ip == kept.ip


def test_firewalls_apply_by_label_selector_and_block_deletion(api: hcloud.Client) -> None:
    server = new_server(api, labels={"role": "binder"})
    rule = FirewallRule(direction="in", protocol="tcp", port="22", source_ips=["10.0.0.0/8"])
    created = api.firewalls.create(
        "fw",
        rules=[rule],
        resources=[
            FirewallResource(
                type="label_selector",
                label_selector=FirewallResourceLabelSelector(selector="role=binder"),
            )
        ],
    )
    for action in created.actions:
        action.wait_until_finished()
    firewall = api.firewalls.get_by_id(created.firewall.id)
    applied = firewall.applied_to[0]
    assert applied.type == "label_selector"
    assert [r.server.id for r in applied.applied_to_resources] == [server.id]
    assert [f.firewall.id for f in api.servers.get_by_id(server.id).public_net.firewalls] == [
        firewall.id
    ]
    with pytest.raises(hcloud.APIException) as caught:
        firewall.delete()
    assert caught.value.code == "resource_in_use"
    icmp = FirewallRule(direction="in", protocol="icmp", source_ips=["0.0.0.0/0", "::/0"])
    for action in firewall.set_rules([icmp]):
        action.wait_until_finished()
    assert [r.protocol for r in api.firewalls.get_by_id(firewall.id).rules] == ["icmp"]


def test_traffic_counters(api: hcloud.Client, emulator: HetznerEmulator) -> None:
    emulator.project.traffic_rate = (0.0, 0.0)
    server = new_server(api, server_type="cpx31", location="ash")
    emulator.runtime.call(emulator.project.add_traffic, server.id, 5 * 10**9, 10**9)
    eventually(lambda: api.servers.get_by_id(server.id).outgoing_traffic == 5 * 10**9, "traffic")
    fresh = api.servers.get_by_id(server.id)
    assert fresh.ingoing_traffic == 10**9
    assert fresh.included_traffic == 3 * TIB


def test_rate_limit_headers_and_budget(emulator: HetznerEmulator, world: DemoWorld) -> None:
    auth = {"Authorization": f"Bearer {world.token}"}
    first = httpx.get(f"{emulator.url}/locations", headers=auth)
    second = httpx.get(f"{emulator.url}/locations", headers=auth)
    assert first.headers["RateLimit-Limit"] == "3600"
    assert int(second.headers["RateLimit-Remaining"]) < int(first.headers["RateLimit-Remaining"])
    assert int(first.headers["RateLimit-Reset"]) >= int(time.time())
    emulator.rate_limit.remaining = 0
    limited = httpx.get(f"{emulator.url}/locations", headers=auth)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert int(limited.headers["RateLimit-Reset"]) >= int(time.time()) + 3500


def test_scripted_faults_hit_the_nth_matching_call(
    api: hcloud.Client, emulator: HetznerEmulator, world: DemoWorld
) -> None:
    auth = {"Authorization": f"Bearer {world.token}"}
    emulator.faults.fail("GET", "/locations", nth=2, times=2, status=503)
    statuses = [httpx.get(f"{emulator.url}/locations", headers=auth).status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]

    emulator.faults.fail("POST", "/firewalls", reset=True, after=True)
    with pytest.raises(requests.ConnectionError):
        api.firewalls.create("made-anyway")
    assert [f.name for f in api.firewalls.get_all()] == ["made-anyway"]

    emulator.faults.error_rate = 1.0
    emulator.faults.error_statuses = (500,)
    with pytest.raises(hcloud.APIException) as caught:
        api.locations.get_all()
    assert caught.value.code == "server_error"
    emulator.faults.error_rate = 0.0
    emulator.faults.latency = 0.05
    assert len(api.locations.get_all()) == 6
