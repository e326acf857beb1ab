"""Fixtures of the fault suite: a provisioned demo member, frozen or running (see
faultworld.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from binderctl.demo.world import DemoWorld
from binderctl.services.cluster import ClusterModel
from tests.faults.faultworld import OPTIONS, freeze
from tests.kit.worlds import member_of


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoWorld]:
    """A member provisioned through the pipeline, 20 sessions running, then frozen;
    this process's environment points binderctl at it."""
    with DemoWorld(tmp_path / "demo", sessions=20, **OPTIONS) as world:
        world.provision()
        freeze(world)
        for name, value in world.env.items():
            monkeypatch.setenv(name, value)
        yield world


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoWorld]:
    """Like ``live``, but the member keeps running: its helm-controller and kubelet carry
    a changed launch quota through the install job and a binder rollout."""
    with DemoWorld(tmp_path / "demo", sessions=20, **OPTIONS) as world:
        world.provision()
        for name, value in world.env.items():
            monkeypatch.setenv(name, value)
        yield world


@pytest.fixture
def model(live: DemoWorld) -> Iterator[ClusterModel]:
    """The live model of ``live``, synced, polling quickly."""
    with ClusterModel(
        member_of(live), poll_interval=0.2, record_history=False, disk_interval=None
    ) as running:
        assert running.wait_synced(20)
        yield running
