"""What the end-to-end provisioning tests share: the real ``binderctl`` (a subprocess
with the world's environment), the real hcloud client, and the pipeline in-process
for bringing a world to a given step before the CLI takes over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcloud

from binderctl.config import MemberConfig, load_config
from binderctl.demo.node import SimulatedNode
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services import provision
from binderctl.services.hetzner import HetznerService

BINDERCTL = Path(sys.executable).parent / "binderctl"
SPEED = 20.0  # simulated time of the member: helm install jobs, image pulls, readiness
CLI_TIMEOUT = 120  # seconds before a hung CLI fails the test (not a measurement)
STEP_NAMES = [step.name for step in provision.STEPS]
HEALTHY = {"Docker registry": "ok", "JupyterHub API": "ok", "Pod quota": "ok"}
ONE_OF_EACH = {
    "servers": ["binderctl-demo"],
    "firewalls": ["binderctl-demo"],
    "ssh_keys": ["binderctl-demo"],
    "primary_ips": ["binderctl-demo-ipv4"],
}
NOTHING: dict[str, list[str]] = {"servers": [], "firewalls": [], "ssh_keys": [], "primary_ips": []}


def cli_env(world: DemoWorld) -> dict[str, str]:
    env = {**os.environ, **world.env}
    env.pop("SSH_AUTH_SOCK", None)
    return env


def run_cli(
    world: DemoWorld, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``binderctl ARGS`` against the world (``env`` on top of its environment), no
    terminal: stdin is ``stdin``, or /dev/null."""
    return subprocess.run(
        [str(BINDERCTL), *args],
        env=cli_env(world) | (env or {}),
        stdin=subprocess.DEVNULL if stdin is None else None,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def start_cli(world: DemoWorld, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BINDERCTL), *args],
        env=cli_env(world),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def member_of(world: DemoWorld) -> MemberConfig:
    return load_config(world.config_path).member(MEMBER)


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


def labelled(world: DemoWorld) -> dict[str, list[str]]:
    """Names of everything at the (emulated) Hetzner labelled for the demo member."""
    api = hcloud.Client(world.token, api_endpoint=world.hetzner.url, poll_interval=0.02)
    selector = f"managed-by=binderctl,binderctl/member={MEMBER}"
    return {
        "servers": [s.name for s in api.servers.get_all(label_selector=selector)],
        "firewalls": [f.name for f in api.firewalls.get_all(label_selector=selector)],
        "ssh_keys": [k.name for k in api.ssh_keys.get_all(label_selector=selector)],
        "primary_ips": [i.name for i in api.primary_ips.get_all(label_selector=selector)],
    }


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
