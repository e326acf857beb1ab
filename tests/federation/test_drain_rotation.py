"""Drain and resume as the federation sees them, end to end through the CLI: when
`binderctl drain --yes` reports success the emulated redirector (its own view, over
HTTP) has dropped the member, and `status -o json` and `federation -o json` (what the
Federation screen shows) say it is out and why; after `resume` the redirector takes it
back only at its re-check, after failed_period."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from binderctl.demo.world import MEMBER, DemoWorld
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for


def redirector_says(world: DemoWorld) -> dict[str, Any]:
    """The emulated redirector's own view of the member, read over HTTP."""
    url = world.endpoints["federation redirector"] + "/_emulator/hosts"
    document = httpx.get(url, timeout=10).json()
    return document["hosts"][MEMBER] | {"settings": document["settings"]}


def cli_json(world: DemoWorld, *args: str) -> dict[str, Any]:
    done = run_cli(world, *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_drain_is_done_when_the_redirector_has_dropped_the_member(world: DemoWorld) -> None:
    wait_for(lambda: redirector_says(world)["in_rotation"], what="the member in rotation")
    drained = run_cli(world, "drain", "--yes")
    assert drained.returncode == 0, drained.stderr
    assert "federation redirector's next check" in drained.stderr

    seen = redirector_says(world)
    assert seen["in_rotation"] is False, seen
    assert "quota" in (seen["reason"] or "") + (seen["message"] or ""), seen
    observed = cli_json(world, "status")["rotation"]["observed"]
    assert observed["in_rotation"] is False and observed["reason"] == "quota headroom", observed
    assert "pod_headroom" in observed["detail"] and ">= quota 0" in observed["detail"]
    hosts = {h["name"]: h for h in cli_json(world, "federation")["hosts"]}
    assert hosts[MEMBER]["in_rotation"] is False
    assert hosts[MEMBER]["reason"] == "quota headroom"

    resumed = run_cli(world, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "failed_period" in resumed.stdout + resumed.stderr
    back_at = time.monotonic()
    assert redirector_says(world)["in_rotation"] is False  # not before its re-check
    failed_period = seen["settings"]["failed_period"]
    wait_for(lambda: redirector_says(world)["in_rotation"], what="the member back in rotation")
    dropped_for = time.monotonic() - back_at
    assert dropped_for <= failed_period + 5, dropped_for
    # binderctl cannot read the redirector's clock: it says in rotation once its own bound
    # on failed_period has passed
    wait_for(
        lambda: cli_json(world, "status")["rotation"]["observed"]["in_rotation"],
        timeout=failed_period + 10,
        what="status: in rotation",
    )
