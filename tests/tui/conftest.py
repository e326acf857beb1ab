"""Fixtures for the console tests: the real app, against a home of its own or a demo world."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import LiveMember, live_member

from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import KEYRING_ENV, NO_KEYRING, DemoWorld, in_process_world
from binderctl.paths import CONFIG_ENV, HOME_ENV

SIZE = (140, 44)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A binderctl home with no cluster behind it (nothing provisioned)."""
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config.toml"))
    monkeypatch.setenv(KEYRING_ENV, NO_KEYRING)
    return tmp_path


@pytest.fixture
def member(home: Path) -> MemberConfig:
    return MemberConfig(
        name="lonely",
        binder_host="lonely.binder.test",
        hub_host="hub.lonely.binder.test",
        ssh_allowed_cidrs=("203.0.113.0/24",),
        api_allowed_cidrs=("203.0.113.0/24",),
    )


@pytest.fixture
def empty_world() -> Iterator[DemoWorld]:
    """A demo world with nothing provisioned yet, its environment applied."""
    with in_process_world(action_seconds=0.05) as world:
        yield world


@pytest.fixture
def world_member(empty_world: DemoWorld) -> MemberConfig:
    return load_config(empty_world.config_path).member(None)


@pytest.fixture
def live(member: MemberConfig) -> Iterator[LiveMember]:
    """A running member with 12 sessions behind ``member``'s kubeconfig."""
    with live_member(member, sessions=12) as running:
        yield running
