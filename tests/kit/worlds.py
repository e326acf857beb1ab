"""Reading a ``DemoWorld``: its member's config, its emulators' state (on their loop), and
what its Hetzner project holds for the member."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from typing import Any, TypeVar

import hcloud

from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import MEMBER, DemoWorld

T = TypeVar("T")
# A world for tests: quick Hetzner actions and retries, the member's time 20 times real
# time (helm install jobs, image pulls, readiness take a second or two).
QUICK: dict[str, Any] = {"action_seconds": 0.2, "backoff": 0.01, "speed": 20.0}
ONE_OF_EACH = {
    "servers": ["binderctl-demo"],
    "firewalls": ["binderctl-demo"],
    "ssh_keys": ["binderctl-demo"],
    "primary_ips": ["binderctl-demo-ipv4"],
}
NOTHING: dict[str, list[str]] = {"servers": [], "firewalls": [], "ssh_keys": [], "primary_ips": []}


def member_of(world: DemoWorld) -> MemberConfig:
    return load_config(world.config_path).member(MEMBER)


def on_loop(world: DemoWorld, func: Callable[..., T], *args: Any) -> T:
    """Call ``func(*args)`` on the world's loop, where its emulators live."""
    assert world.runtime is not None
    return world.runtime.on_loop(func, *args)


def labelled(world: DemoWorld) -> dict[str, list[str | None]]:
    """Names of everything at the (emulated) Hetzner labelled for the demo member."""
    api = hcloud.Client(world.token, api_endpoint=world.hetzner.url, poll_interval=0.02)
    selector = f"managed-by=binderctl,binderctl/member={MEMBER}"
    return {
        "servers": [s.name for s in api.servers.get_all(label_selector=selector)],
        "firewalls": [f.name for f in api.firewalls.get_all(label_selector=selector)],
        "ssh_keys": [k.name for k in api.ssh_keys.get_all(label_selector=selector)],
        "primary_ips": [i.name for i in api.primary_ips.get_all(label_selector=selector)],
    }


HAS_KUBECTL = shutil.which("kubectl") is not None


def kubectl(world: DemoWorld, *args: str) -> str:
    """The real kubectl with the member's kubeconfig (where it is installed)."""
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(world.kubeconfig_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
