"""Fixtures for the console tests: the real app, against a home of its own or a demo world.

A provisioned demo world takes a few seconds to bring up through the real pipeline, so
the live tests share one per test module (``live_world``); the tests leave it as they
found it (a drain is resumed, a killed session is one of many).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import KEYRING_ENV, NO_KEYRING, DemoWorld, in_process_world
from binderctl.paths import CONFIG_ENV, HOME_ENV
from tests.tui.tuikit import provisioned_world

LIVE_SESSIONS = 12


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


@pytest.fixture(scope="module")
def live_world() -> Iterator[DemoWorld]:
    """``LIVE_SESSIONS`` sessions, for the module."""
    with provisioned_world(LIVE_SESSIONS, seed=7) as world:
        yield world


@pytest.fixture
def live_member(live_world: DemoWorld) -> MemberConfig:
    return load_config(live_world.config_path).member(None)
