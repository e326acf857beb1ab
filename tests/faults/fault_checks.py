"""After a provisioning run: what Hetzner has, compared with what binderctl recorded.

Read from outside, through a plain hcloud client with the world's token: every server,
firewall, SSH key and primary IP of the project. ``inspect_member`` counts duplicates
(more than one resource of a kind labelled for the member), orphans (a resource in the
project that ``provision.json`` does not name) and problems with the state file.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import hcloud
import yaml

from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services.provision import STATE_FILE, STEPS

SELECTOR = f"managed-by=binderctl,binderctl/member={MEMBER}"
# kind as hcloud names it -> the pipeline step that records its id
RECORDED_BY = {
    "ssh_keys": "ssh-key",
    "firewalls": "firewall",
    "primary_ips": "primary-ip",
    "servers": "server",
}


@dataclass(frozen=True)
class Findings:
    servers: int  # servers labelled for the member
    duplicates: int  # resources beyond one per kind labelled for the member
    orphans: tuple[str, ...]  # in the project, unknown to provision.json
    state_problems: tuple[str, ...]

    @property
    def sound(self) -> bool:
        return (
            self.servers == 1
            and not self.duplicates
            and not self.orphans
            and not self.state_problems
        )


def _resources(client: hcloud.Client, selector: str | None = None) -> dict[str, list[Any]]:
    options = {} if selector is None else {"label_selector": selector}
    return {
        "servers": client.servers.get_all(**options),
        "firewalls": client.firewalls.get_all(**options),
        "ssh_keys": client.ssh_keys.get_all(**options),
        "primary_ips": client.primary_ips.get_all(**options),
    }


def _state(world: DemoWorld) -> tuple[dict[str, Any], list[str]]:
    path = world.home / "state" / MEMBER / STATE_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [f"{path.name} unreadable: {exc}"]
    problems = []
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        problems.append(f"{path.name} has mode {stat.S_IMODE(path.stat().st_mode):o}")
    steps = document.get("steps") or {}
    for step in STEPS:
        state = (steps.get(step.name) or {}).get("state")
        if state != "done":
            problems.append(f"step {step.name} recorded as {state}")
    return steps, problems


def _address_problems(world: DemoWorld, steps: dict[str, Any], servers: list[Any]) -> list[str]:
    recorded = (steps.get("server") or {}).get("data", {}).get("ipv4")
    reserved = (steps.get("primary-ip") or {}).get("data", {}).get("ipv4")
    actual = {s.public_net.ipv4.ip for s in servers if s.public_net.ipv4}
    problems = []
    if not recorded or recorded != reserved or actual != {recorded}:
        problems.append(f"addresses disagree: server {recorded}, IP {reserved}, actual {actual}")
    kubeconfig = world.kubeconfig_path
    if not kubeconfig.exists():
        return [*problems, "no kubeconfig"]
    document = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
    host = urlsplit(document["clusters"][0]["cluster"]["server"]).hostname
    if host != recorded:
        problems.append(f"kubeconfig points at {host}, the server is at {recorded}")
    return problems


def inspect_member(world: DemoWorld) -> Findings:
    client = hcloud.Client(world.token, api_endpoint=world.hetzner.url)
    labelled = _resources(client, SELECTOR)
    everything = _resources(client)
    steps, problems = _state(world)
    known = {
        (kind, (steps.get(step) or {}).get("data", {}).get("id"))
        for kind, step in RECORDED_BY.items()
    }
    orphans = tuple(
        f"{kind[:-1]} {r.name} (id {r.id})"
        for kind, found in everything.items()
        for r in found
        if (kind, r.id) not in known
    )
    problems += _address_problems(world, steps, labelled["servers"])
    return Findings(
        servers=len(labelled["servers"]),
        duplicates=sum(max(0, len(found) - 1) for found in labelled.values()),
        orphans=orphans,
        state_problems=tuple(problems),
    )
