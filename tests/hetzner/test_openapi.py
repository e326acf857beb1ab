"""The emulator's answers, for every endpoint binderctl uses and the errors it handles,
validate against the published Hetzner Cloud OpenAPI description."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.world import DemoWorld
from tests.hetzner.openapi_schema import problems


class Checked:
    """An HTTP client that validates every answer it gets."""

    def __init__(self, emulator: HetznerEmulator, token: str) -> None:
        self.http = httpx.Client(
            base_url=emulator.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        self.checked: set[tuple[str, str, int]] = set()

    def call(self, method: str, path: str, status: int, **options: Any) -> Any:
        response = self.http.request(method, path, **options)
        assert response.status_code == status, (method, path, response.text)
        template = "/".join(
            "{id}" if part.isdigit() else part for part in path.split("?")[0].split("/")
        )
        self.checked.add((method, template, status))
        if status == 204:
            assert response.content == b""
            return None
        body = response.json()
        found = problems(method, path.split("?")[0], status, body)
        assert found == [], (method, path, found)
        return body

    def wait(self, action: dict[str, Any]) -> None:
        while action["status"] == "running":
            time.sleep(0.02)
            action = self.call("GET", f"/actions/{action['id']}", 200)["action"]
        assert action["status"] == "success", action


@pytest.fixture
def checked(emulator: HetznerEmulator, world: DemoWorld) -> Checked:
    emulator.faults.action_seconds = 0.05
    return Checked(emulator, world.token)


def test_every_endpoint_binderctl_uses_answers_as_published(
    checked: Checked, emulator: HetznerEmulator, world: DemoWorld
) -> None:
    c = checked
    labels = {"managed-by": "binderctl", "binderctl/member": "demo"}
    selector = "managed-by=binderctl,binderctl/member=demo"
    c.call("GET", "/locations", 200)
    c.call("GET", "/locations/2", 200)
    c.call("GET", "/server_types?name=ccx63", 200)
    c.call("GET", "/server_types/101", 200)
    image = c.call("GET", "/images?name=ubuntu-24.04&architecture=x86", 200)["images"][0]
    c.call("GET", f"/images/{image['id']}", 200)
    c.call("GET", "/pricing", 200)

    public_key = world.key_path.with_suffix(".pub").read_text().strip()
    key = c.call(
        "POST", "/ssh_keys", 201, json={"name": "k", "public_key": public_key, "labels": labels}
    )["ssh_key"]
    c.call("GET", f"/ssh_keys?fingerprint={key['fingerprint']}", 200)
    c.call("GET", f"/ssh_keys?label_selector={selector}", 200)
    c.call("GET", f"/ssh_keys/{key['id']}", 200)
    c.call("PUT", f"/ssh_keys/{key['id']}", 200, json={"name": "k2"})

    rule = {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["10.0.0.0/8"]}
    firewall = c.call(
        "POST", "/firewalls", 201, json={"name": "fw", "rules": [rule], "labels": labels}
    )["firewall"]
    c.call("GET", f"/firewalls?label_selector={selector}", 200)
    c.call("GET", f"/firewalls/{firewall['id']}", 200)
    c.call("PUT", f"/firewalls/{firewall['id']}", 200, json={"labels": labels})
    icmp = {"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0", "::/0"]}
    for action in c.call(
        "POST", f"/firewalls/{firewall['id']}/actions/set_rules", 201, json={"rules": [rule, icmp]}
    )["actions"]:
        c.wait(action)

    ip = c.call(
        "POST",
        "/primary_ips",
        201,
        json={
            "name": "ip",
            "type": "ipv4",
            "location": "nbg1",
            "auto_delete": False,
            "labels": labels,
        },
    )["primary_ip"]
    c.call("GET", f"/primary_ips?label_selector={selector}", 200)
    c.call("GET", f"/primary_ips/{ip['id']}", 200)
    c.call("PUT", f"/primary_ips/{ip['id']}", 200, json={"auto_delete": False})

    created = c.call(
        "POST",
        "/servers",
        201,
        json={
            "name": "binderctl-demo",
            "server_type": "ccx63",
            "image": "ubuntu-24.04",
            "location": "nbg1",
            "ssh_keys": [key["id"]],
            "firewalls": [{"firewall": firewall["id"]}],
            "user_data": "#cloud-config\n",
            "labels": labels,
            "start_after_create": True,
            "public_net": {"enable_ipv4": True, "enable_ipv6": False, "ipv4": ip["id"]},
        },
    )
    server_id = created["server"]["id"]
    c.call("GET", f"/servers/{server_id}/actions?status=running", 200)
    c.wait(created["action"])
    for action in created["next_actions"]:
        c.wait(action)
    c.call("GET", f"/servers?label_selector={selector}", 200)
    c.call("GET", f"/servers/{server_id}", 200)
    c.call("GET", f"/servers/{server_id}/actions", 200)
    c.call("GET", f"/servers/{server_id}/actions/{created['action']['id']}", 200)
    c.call("PUT", f"/servers/{server_id}", 200, json={"labels": {**labels, "x": "y"}})
    for verb in ("reboot", "reset", "shutdown", "poweron", "poweroff"):
        c.wait(c.call("POST", f"/servers/{server_id}/actions/{verb}", 201)["action"])
    c.wait(c.call("POST", f"/primary_ips/{ip['id']}/actions/unassign", 201)["action"])
    c.wait(
        c.call(
            "POST",
            f"/primary_ips/{ip['id']}/actions/assign",
            201,
            json={"assignee_id": server_id, "assignee_type": "server"},
        )["action"]
    )
    apply = {"apply_to": [{"type": "label_selector", "label_selector": {"selector": "x=y"}}]}
    for action in c.call(
        "POST", f"/firewalls/{firewall['id']}/actions/apply_to_resources", 201, json=apply
    )["actions"]:
        c.wait(action)
    remove = {"remove_from": apply["apply_to"]}
    for action in c.call(
        "POST", f"/firewalls/{firewall['id']}/actions/remove_from_resources", 201, json=remove
    )["actions"]:
        c.wait(action)

    c.wait(c.call("DELETE", f"/servers/{server_id}", 200)["action"])
    c.call("DELETE", f"/firewalls/{firewall['id']}", 204)
    c.call("DELETE", f"/ssh_keys/{key['id']}", 204)
    c.call("DELETE", f"/primary_ips/{ip['id']}", 204)
    assert len(c.checked) >= 40


def test_error_answers_are_published_envelopes(
    checked: Checked, emulator: HetznerEmulator, world: DemoWorld
) -> None:
    c = checked
    server = {"name": "s", "server_type": "cx22", "image": "ubuntu-24.04", "location": "nbg1"}
    c.call("GET", "/servers/1", 404)
    c.call("POST", "/servers", 400, json={**server, "location": "sin"})
    c.call("POST", "/servers", 400, content=b"{not json")
    created = c.call("POST", "/servers", 201, json=server)
    c.call("POST", "/servers", 409, json=server)
    emulator.faults.action_seconds = 30
    c.call("POST", f"/servers/{created['server']['id']}/actions/reboot", 423)
    emulator.faults.server_limit = 1
    c.call("POST", "/servers", 403, json={**server, "name": "t"})
    emulator.faults.fail("GET", "/pricing", status=503)
    c.call("GET", "/pricing", 503)
    emulator.rate_limit.remaining = 0
    c.call("GET", "/pricing", 429)
    emulator.rate_limit.remaining = 100
    wrong = httpx.get(f"{emulator.url}/servers", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    assert problems("GET", "/servers", 401, wrong.json()) == []
