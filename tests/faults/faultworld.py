"""The fault suite's demo worlds, the real CLI against them, and what tests read.

Worlds run at 60 times real speed with quick actions and no new launches (``OPTIONS``).
``freeze`` stops a provisioned member's simulation (no culling either), so what the
cluster holds changes only when a test changes it and a fresh list is a fixed truth to
compare the live model with. Reads and writes of the emulators' state run on their loop
(the store has no locks).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from binderctl.config import MemberConfig, load_config
from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, WatchEvent
from binderctl.demo.world import MEMBER, DemoWorld

T = TypeVar("T")
BINDERCTL = Path(sys.executable).parent / "binderctl"
OPTIONS: dict[str, Any] = {
    "action_seconds": 0.05,
    "backoff": 0.01,
    "speed": 60.0,
    "launches_per_minute": 0.0,
}
CHART = ("kube-system", "binderhub")  # the HelmChart that holds the launch quota


def member_of(world: DemoWorld) -> MemberConfig:
    return load_config(world.config_path).member(MEMBER)


def on_loop(world: DemoWorld, func: Callable[[], T]) -> T:
    async def call() -> T:
        return func()

    assert world.runtime is not None
    return world.runtime.run(call())


def freeze(world: DemoWorld) -> None:
    """Stop the simulated member: nothing moves unless a test moves it."""
    assert world.runtime is not None
    world.runtime.run(world.cluster().member.stop())


def run_cli(
    world: DemoWorld, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BINDERCTL), *args],
        env={**os.environ, **world.env, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def popen_cli(world: DemoWorld, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BINDERCTL), *args],
        env={**os.environ, **world.env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def chart_quota(chart: Obj) -> int | None:
    values = yaml.safe_load(chart["spec"].get("valuesContent") or "") or {}
    return values["config"]["LaunchQuota"]["total_quota"]


def quota(world: DemoWorld) -> int | None:
    store = world.cluster().store
    return on_loop(world, lambda: chart_quota(store.get(types.HELMCHARTS, *CHART)))


def node(world: DemoWorld) -> Obj:
    store = world.cluster().store
    return on_loop(world, lambda: store.list(types.NODES)[0])


def cordoned(world: DemoWorld) -> bool:
    return bool(node(world)["spec"].get("unschedulable"))


def record_quota_writes(world: DemoWorld) -> list[tuple[int | None, int | None]]:
    """Every change of the launch quota from now on, as (before, after), in order."""
    writes: list[tuple[int | None, int | None]] = []

    def listen(event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        if event.rt.key != types.HELMCHARTS.key or (meta["namespace"], meta["name"]) != CHART:
            return
        before = chart_quota(event.old) if event.old else None
        after = chart_quota(event.obj)
        if event.old is None or before != after:
            writes.append((before, after))

    store = world.cluster().store
    on_loop(world, lambda: store.add_listener(listen))
    return writes


def wait_for(condition: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        time.sleep(0.05)
