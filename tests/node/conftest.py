"""Fixtures: a loop thread with simulated nodes, a member, a client for a node."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from binderctl.config import MemberConfig
from binderctl.demo.node import SimulatedNode
from binderctl.demo.node.starter import LocalK3sStarter
from binderctl.demo.runtime import LoopThread
from binderctl.services.node import Node
from tests.node.nodekit import World, make_member, write_key


@pytest.fixture
def world() -> Iterator[World]:
    loop = LoopThread("node-tests")
    state = World(loop, LocalK3sStarter(), [])
    yield state
    for node in state.nodes:
        loop.run(node.stop())
    loop.stop()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BINDERCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return tmp_path / "home"


@pytest.fixture
def member(tmp_path: Path) -> MemberConfig:
    return make_member(tmp_path, key=write_key(tmp_path))


@pytest.fixture
def client_for(world: World) -> Callable[..., Node]:
    def make(member: MemberConfig, node: SimulatedNode, **options: object) -> Node:
        options.setdefault("poll_interval", 0.02)
        options.setdefault("connect_timeout", 5.0)
        return Node(replace(member, ssh_port=node.port), node.ip, **options)

    return make
