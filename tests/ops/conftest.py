"""Fixtures: a fresh simulated member per test (see ops_world.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from binderctl.services.cluster import ClusterModel
from tests.ops.ops_world import OpsWorld, start_world, stop_world


@pytest.fixture
def make_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., OpsWorld]]:
    """``make_world(sessions=30, speed=60, seed=1, **MemberOptions)``."""
    started: list[OpsWorld] = []

    def make(*, seed: int = 1, speed: float = 60.0, **options: Any) -> OpsWorld:
        world = start_world(tmp_path / f"world{len(started)}", seed, speed, **options)
        started.append(world)
        monkeypatch.setenv("BINDERCTL_HOME", str(world.home))
        monkeypatch.setenv("BINDERCTL_CONFIG", str(world.config_path))
        return world

    yield make
    for world in started:
        stop_world(world)


@pytest.fixture
def world(make_world: Callable[..., OpsWorld]) -> OpsWorld:
    return make_world(sessions=30, speed=1.0)  # quiet: nothing is culled during a test


@pytest.fixture
def quiet(make_world: Callable[..., OpsWorld]) -> OpsWorld:
    """A member with sessions but no new launches: the truth only changes when we act."""
    return make_world(sessions=40, speed=1.0, launches_per_minute=0.0)


@pytest.fixture
def model(quiet: OpsWorld) -> Iterator[ClusterModel]:
    """The live model of ``quiet``, listed, polling every 0.2 s."""
    with ClusterModel(
        quiet.member, poll_interval=0.2, record_history=False, disk_interval=None
    ) as live:
        assert live.wait_synced(20)
        yield live
