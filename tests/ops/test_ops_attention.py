"""What needs attention, as binderctl's two faces report it: the console (its header and
Needs-attention panel) and `binderctl status` list the same items for the same member,
and status exits 1 while one of them is an error."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, replace
from io import StringIO
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from binderctl.app import BinderctlApp
from binderctl.demo.drills.catalogue import CERT_DAYS_LEFT, DISK_FREE_SHARE, HUNG_BUILD_AGE
from binderctl.demo.kube import types
from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.tls import LEAF_LIFETIME
from binderctl.demo.member import incidents
from binderctl.demo.member.kubelet import EVICTION_INTERVAL
from binderctl.screens.confirm import ConfirmScreen
from binderctl.services import audit
from binderctl.widgets.attention import first_fix, fix_text
from binderctl.widgets.header import render_header
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.ops.ops_world import OpsWorld
from tests.tui.tuikit import deliberately

# Simulated seconds per real second: slow enough that the kubelet's next eviction check
# (it evicts the oldest pod first: the hung build) comes well after the test.
SPEED = 0.25
SEEDED = {"builds-stuck", "disk-pressure", "certificate"}


def seed_incidents(world: OpsWorld) -> None:
    """A warning-level node condition, a stuck build and a client certificate about to
    expire, made as the fire drills make them."""
    world.on_loop(lambda: incidents.fill_image_filesystem(world.sim, DISK_FREE_SHARE))
    world.on_loop(lambda: world.sim.advance(EVICTION_INTERVAL))  # the kubelet's check
    world.on_loop(lambda: incidents.hang_build(world.sim, HUNG_BUILD_AGE))
    issued = dt.datetime.now(dt.UTC) - (LEAF_LIFETIME - dt.timedelta(days=CERT_DAYS_LEFT))
    old = world.stack.server.credentials.rotate_client(now=issued)
    write_kubeconfig(world.kubeconfig, old, world.url)


def status_items(world: OpsWorld) -> list[dict[str, object]]:
    done = run_cli(world, "status", "-o", "json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["attention"]


async def test_the_console_and_status_list_the_same_items(
    make_world: Callable[..., OpsWorld], tmp_path: Path
) -> None:
    world = make_world(sessions=6, speed=SPEED)
    seed_incidents(world)
    # no SSH to the node here: a key that does not exist keeps the console off port 22
    member = replace(world.member, ssh_key=tmp_path / "no-key")
    app = BinderctlApp(member, config_path=world.config_path)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(300):
            header = app.header_state
            if header.observed and {item.kind for item in header.attention} >= SEEDED:
                break
            await pilot.pause(0.1)
        console = [asdict(item) for item in app.header_state.attention]
        assert await asyncio.to_thread(status_items, world) == console
        assert {item["kind"] for item in console} == SEEDED
        await pilot.pause(0.5)  # the panel redraws at most four times a second
        panel = app.screen.query_one("#attention", Static)
        wide = Console(width=1000, file=StringIO(), color_system=None, record=True)
        wide.print(panel.content)  # each row on one line
        shown = wide.export_text()
        for item in app.header_state.attention:
            assert item.text in shown and fix_text(item) in shown
        assert "◌ ROTATION" not in render_header(app.header_state).plain
        # `f` runs the worst fixable item's fix, asking first: two keys from the Dashboard
        worst = first_fix(app.header_state.attention)
        assert worst is not None and f"f or {fix_text(worst)}" in shown
        await pilot.press("f")
        for _ in range(100):
            if isinstance(app.screen, ConfirmScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ConfirmScreen)
        await deliberately(pilot, "y")  # once the dialog could be read
        for _ in range(200):
            if audit.read(member.name):
                break
            await pilot.pause(0.05)
        (record,) = audit.read(member.name)
        assert (record.action, record.target) == (worst.action, worst.target or record.target)


def test_status_exits_1_while_binder_is_scaled_to_0(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=3, speed=1.0)
    healthy = run_cli(world, "status", "-o", "json")
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["attention"] == []

    def scale_to_0(deployment: dict) -> None:
        deployment["spec"]["replicas"] = 0

    world.on_loop(lambda: world.store.mutate(types.DEPLOYMENTS, "binderhub", "binder", scale_to_0))

    def binder_down() -> dict[str, object] | None:
        items = status_items(world)
        return next((i for i in items if str(i["text"]).startswith("binder is scaled")), None)

    item = wait_for(binder_down)
    assert item is not None and (item["kind"], item["severity"], item["action"]) == (
        "component-down",
        "error",
        None,
    )
    text = run_cli(world, "status")
    assert text.returncode == 1
    assert "ERROR: binder is scaled to 0" in text.stdout
