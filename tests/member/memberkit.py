"""Helpers for member tests: members on a bare Store, driven by ``advance`` (simulated
time, no waiting), and ways to look at what they wrote."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from binderctl.demo.cluster import MemberStack
from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member.binderhub_http import BinderHubApp
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.simulation import Member, MemberOptions

EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SPEED = 400.0  # simulated seconds per real second for members with a control plane
Running = Callable[..., Any]


@pytest.fixture
def make_member() -> Callable[..., Member]:
    def make(seed: int = 7, speed: float = 1000.0, **options: Any) -> Member:
        options.setdefault("launches_per_minute", 0.0)
        clock = SimClock(speed, epoch=EPOCH, source=lambda: 0.0)
        return Member(Store(), MemberOptions(**options), seed=seed, clock=clock)

    return make


def session_pods(member: Member) -> list[Obj]:
    return [
        p
        for p in member.store.list(types.PODS, "binderhub")
        if (p["metadata"].get("labels") or {}).get("component") == "singleuser-server"
    ]


def pod_named(member: Member, prefix: str, namespace: str = "binderhub") -> Obj:
    pods = [p for p in member.store.list(types.PODS, namespace)
            if p["metadata"]["name"].startswith(prefix)]  # fmt: skip
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def log_text(member: Member, pod: Obj, container: str) -> str:
    meta = pod["metadata"]
    lines = member.logs.lines(meta["namespace"], meta["name"], container, False)
    return "\n".join(line.text for line in lines)


@asynccontextmanager
async def serving(member: Member) -> AsyncIterator[int]:
    """BinderHub's HTTP endpoints for ``member`` on 127.0.0.1 (plain HTTP); the port."""
    app = BinderHubApp(member)
    try:
        yield await app.start("127.0.0.1", 0)
    finally:
        await app.stop()


async def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := check()):
            await asyncio.sleep(0.01)
        return result


@pytest.fixture
async def running() -> AsyncIterator[Callable[..., Any]]:
    """Start a member with the emulator's control plane (scheduler, controllers) on the
    test's loop at ``SPEED``; it returns once binder, hub and proxy are up."""
    started: list[MemberStack] = []

    async def start(**options: Any) -> Member:
        options.setdefault("launches_per_minute", 0.0)
        stack = MemberStack(MemberOptions(**options), speed=SPEED, seed=3)
        await stack.start()
        started.append(stack)
        hub = stack.member.hub
        await until(lambda: hub.binder_up and hub.hub_up and hub.proxy_up)
        return stack.member

    yield start
    for stack in started:
        await stack.stop()
