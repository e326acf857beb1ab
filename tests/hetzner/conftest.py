"""Fixtures for the Hetzner tests: the demo world, a real hcloud client, the real CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import hcloud
import pytest

from binderctl.config import MemberConfig, load_config
from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services.hetzner import HetznerService
from tests.kit.cli import RunCli, run_cli
from tests.kit.worlds import labelled as labelled_in


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
    return partial(run_cli, world)


@pytest.fixture
def labelled(world: DemoWorld) -> Callable[[], dict[str, list[str | None]]]:
    """Names of everything labelled for the demo member, by kind."""
    return partial(labelled_in, world)
