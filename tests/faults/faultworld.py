"""The fault suite's demo worlds and what its tests read of them.

Worlds run at 60 times real speed with quick actions and no new launches (``OPTIONS``).
``freeze`` stops a provisioned member's simulation (no culling either), so what the
cluster holds changes only when a test changes it and a fresh list is a fixed truth to
compare the live model with. Reads and writes of the emulators' state run on their loop
(the store has no locks).
"""

from __future__ import annotations

from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, WatchEvent
from binderctl.demo.world import DemoWorld
from tests.kit.worlds import on_loop

OPTIONS: dict[str, Any] = {
    "action_seconds": 0.05,
    "backoff": 0.01,
    "speed": 60.0,
    "launches_per_minute": 0.0,
}
CHART = ("kube-system", "binderhub")  # the HelmChart that holds the launch quota


def freeze(world: DemoWorld) -> None:
    """Stop the simulated member: nothing moves unless a test moves it."""
    assert world.runtime is not None
    world.runtime.run(world.cluster().member.stop())


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
