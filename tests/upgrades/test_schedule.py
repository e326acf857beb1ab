"""`binderctl upgrade schedule` on the demo: the automatic k3s upgrade Plan waits for its
window (`status` shows when it opens) and upgrades k3s to the channel's release in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from binderctl.demo.world import DEMO_K3S_VERSION, DemoWorld
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.kit.worlds import QUICK, on_loop
from tests.upgrades.upgradekit import node_version

STABLE = "v1.36.3+k3s1"
DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DemoWorld]:
    with DemoWorld(tmp_path / "demo", **QUICK) as world:
        world.provision()
        yield world


def scheduled(world: DemoWorld) -> dict[str, Any] | None:
    done = run_cli(world, "status", "-o", "json")
    schedule: dict[str, Any] | None = json.loads(done.stdout)["upgrade_schedule"]
    return schedule


def test_the_plan_waits_for_its_window_then_upgrades(world: DemoWorld) -> None:
    # the member's clock: the simulated one the demo's node and controller run on
    now = datetime.fromtimestamp(on_loop(world, world.cluster().member.wall_now), UTC)
    tomorrow = DAYS[((now + timedelta(days=1)).weekday() + 1) % 7]
    done = run_cli(
        world, "upgrade", "schedule", "--yes", "--day", tomorrow, "--start", "00:00",
        "--end", "00:01",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "k3s-upgrade created" in done.stdout
    waiting = wait_for(lambda: (s := scheduled(world)) and s["state"] == "Waiting" and s)
    assert waiting["window"]["days"] == [tomorrow] and waiting["opens"]
    assert waiting["latest"] == STABLE.replace("+", "-")  # resolved from the channel
    text = run_cli(world, "status").stdout
    assert "k3s auto-upgrade opens in " in text
    assert node_version(world) == DEMO_K3S_VERSION

    every_day = [word for day in DAYS for word in ("--day", day)]
    moved = run_cli(
        world, "upgrade", "schedule", "--yes", *every_day, "--start", "00:00", "--end", "23:59"
    )
    assert moved.returncode == 0 and "updated" in moved.stdout, moved.stderr
    wait_for(lambda: node_version(world) == STABLE, what="k3s upgraded in its window")
    wait_for(lambda: (s := scheduled(world)) and s["state"] == "Complete")
    removed = run_cli(world, "upgrade", "schedule", "--yes", "--remove")
    assert removed.returncode == 0 and "removed" in removed.stdout, removed.stderr
    assert scheduled(world) is None
