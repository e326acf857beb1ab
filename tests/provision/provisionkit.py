"""What the end-to-end provisioning tests share besides the kit: the pipeline in-process
for bringing a world to a given step before the CLI takes over, provision.json, and the
secrets that must never show in output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from binderctl.demo.node import SimulatedNode
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services import provision
from binderctl.services.hetzner import HetznerService
from tests.kit.worlds import member_of

STEP_NAMES = [step.name for step in provision.STEPS]
HEALTHY = {"Docker registry": "ok", "JupyterHub API": "ok", "Pod quota": "ok"}


def state_file(world: DemoWorld) -> Path:
    return world.home / "state" / MEMBER / provision.STATE_FILE


def recorded(world: DemoWorld) -> dict[str, dict[str, Any]]:
    """The steps as provision.json has them now ({} before the first run)."""
    try:
        text = state_file(world).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    steps: dict[str, dict[str, Any]] = json.loads(text)["steps"]
    return steps


def provision_through(world: DemoWorld, last: str) -> None:
    """Run the pipeline in-process up to and including step ``last``."""
    steps = provision.STEPS[: STEP_NAMES.index(last) + 1]
    with world.environment():
        member = member_of(world)
        provision.provision(member, HetznerService.for_member(member), lambda e: None, steps)


def the_node(world: DemoWorld) -> SimulatedNode:
    assert world.fleet is not None
    (node,) = world.fleet.nodes.values()
    return node


def secrets_of(world: DemoWorld) -> list[str]:
    """Strings that must never appear in binderctl's output: the API token, the SSH
    private key, the kubeconfig's client key."""
    found = [world.token, world.key_path.read_text().splitlines()[1]]
    if world.kubeconfig_path.exists():
        for line in world.kubeconfig_path.read_text().splitlines():
            if "client-key-data" in line:
                found.append(line.split(":", 1)[1].strip())
    return found


def assert_clean(world: DemoWorld, *outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output
        for secret in secrets_of(world):
            assert secret not in output
