"""The Upgrades view: opened from the `:` line on a demo member, it shows k3s behind the
channel, and `k` runs the staged upgrade with each step drawn as it goes; in read-only
mode the upgrade is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.message import Message
from textual.widgets import Static

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import DEMO_K3S_VERSION, DemoWorld, in_process_world
from binderctl.screens.confirm import ConfirmScreen
from binderctl.screens.upgrades import UpgradesScreen
from binderctl.services.upgrade_k3s import STEPS
from tests.tui.test_readonly import audit_records
from tests.tui.tuikit import SIZE, deliberately, notifications, shown_text, until
from tests.upgrades.upgradekit import node_version

STABLE = "v1.36.3+k3s1"


@pytest.fixture
def world() -> Iterator[DemoWorld]:
    with in_process_world(
        action_seconds=0.05, backoff=0.01, speed=20.0, launches_per_minute=0.0
    ) as world:
        world.provision()
        yield world


async def test_the_view_runs_a_staged_upgrade_live(world: DemoWorld) -> None:
    app = BinderctlApp(load_config(world.config_path).member(None))
    steps: list[tuple[str, str]] = []  # (step, state) of each step event, as it came

    def hook(message: Message) -> None:
        if isinstance(message, UpgradesScreen.Step):
            steps.append((message.event.step, message.event.state))

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await pilot.press("colon", *"upgrade", "enter")
        screen = await until(pilot, lambda: isinstance(app.screen, UpgradesScreen) and app.screen)
        plan = screen.query_one("#upgrades-plan", Static)
        await until(pilot, lambda: "behind" in shown_text(plan))
        assert DEMO_K3S_VERSION in shown_text(plan) and STABLE in shown_text(plan)
        await deliberately(pilot, "k")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await deliberately(pilot, "y")
        await until(pilot, lambda: not screen.running and "resume" in screen.steps, seconds=60)
        assert [name for name in screen.steps] == [step.name for step in STEPS]
        assert {event.state for event in screen.steps.values()} == {"done"}
        # each step was drawn running, then done, in order
        changes = [(step, state) for step, state in steps if state in ("running", "done")]
        assert list(dict.fromkeys(changes)) == [
            (step.name, state) for step in STEPS for state in ("running", "done")
        ]
        assert f"runs {STABLE}" in screen.steps["upgrade"].message
        steps = shown_text(screen.query_one("#upgrades-steps", Static))
        assert all(step.title in steps for step in STEPS), steps
        assert node_version(world) == STABLE
        await until(pilot, lambda: "behind" not in shown_text(plan))
        assert "current" in shown_text(plan)


async def test_read_only_refuses_the_upgrade(member: MemberConfig) -> None:
    app = BinderctlApp(member, readonly=True, start="upgrade")
    async with app.run_test(size=SIZE) as pilot:
        await deliberately(pilot, "k")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("colon", *"upgrade-k3s", "enter")
        await until(pilot, lambda: any("read-only" in n for n in notifications(app)))
    assert [(r["action"], r["outcome"]) for r in audit_records(member)] == [
        ("upgrade-k3s", "refused")
    ]
