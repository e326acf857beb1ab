"""Fixtures for the Hetzner tests: the demo world, a real hcloud client, the real CLI."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import hcloud
import pytest
from hetzner_cli import BINDERCTL, RunCli

from binderctl.config import MemberConfig, load_config
from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services.hetzner import HetznerService


@pytest.fixture
def world(demo_world: DemoWorld) -> DemoWorld:
    return demo_world


@pytest.fixture
def emulator(world: DemoWorld) -> HetznerEmulator:
    return world.hetzner


@pytest.fixture
def api(world: DemoWorld) -> hcloud.Client:
    """A plain hcloud client, as any user of the API would make it."""
    return hcloud.Client(world.token, api_endpoint=world.hetzner.url, poll_interval=0.02)


@pytest.fixture
def member(world: DemoWorld) -> MemberConfig:
    return load_config(world.config_path).member(MEMBER)


@pytest.fixture
def in_world(world: DemoWorld) -> Iterator[DemoWorld]:
    """This process's environment pointed at the world (token, home, quick backoff)."""
    with world.environment():
        yield world


@pytest.fixture
def service(in_world: DemoWorld, member: MemberConfig) -> HetznerService:
    return HetznerService.for_member(member)


@pytest.fixture
def cli(world: DemoWorld) -> RunCli:
    """Run the real ``binderctl`` with the world's environment."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BINDERCTL), *args],
            env={**os.environ, **world.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def labelled(api: hcloud.Client) -> Callable[[], dict[str, list[str]]]:
    """Names of everything labelled for the demo member, by kind."""
    selector = f"managed-by=binderctl,binderctl/member={MEMBER}"

    def names() -> dict[str, list[str]]:
        return {
            "servers": [s.name for s in api.servers.get_all(label_selector=selector)],
            "firewalls": [f.name for f in api.firewalls.get_all(label_selector=selector)],
            "ssh_keys": [k.name for k in api.ssh_keys.get_all(label_selector=selector)],
            "primary_ips": [i.name for i in api.primary_ips.get_all(label_selector=selector)],
        }

    return names
