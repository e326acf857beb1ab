"""Provisioning from the Provision screen, against an empty demo world."""

from __future__ import annotations

from helpers import notifications, shown_text
from textual.widgets import DataTable, Input, Static

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.demo.world import DemoWorld
from binderctl.screens.confirm import ConfirmScreen
from binderctl.screens.provision import ProvisionScreen
from conftest import SIZE


async def wait_until(pilot, condition, attempts: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("the console never got there")


async def test_form_validates_with_the_config_loader(
    empty_world: DemoWorld, world_member: MemberConfig
) -> None:
    app = BinderctlApp(world_member, start="provision")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        cidrs = screen.query_one("#field-ssh_allowed_cidrs", Input)
        cidrs.value = "0.0.0.0/0"
        await pilot.click("#plan")
        await pilot.pause()
        error = shown_text(screen.query_one("#error-ssh_allowed_cidrs", Static))
        assert "opens port 22 (SSH) to the whole internet" in error
        assert cidrs.has_class("-invalid")
        assert "Not valid" in shown_text(screen.query_one("#provision-status", Static))
        cidrs.value = "127.0.0.0/8"
        await pilot.click("#plan")
        await pilot.pause()
        assert not cidrs.has_class("-invalid")


async def test_plan_then_provision_with_confirmation(
    empty_world: DemoWorld, world_member: MemberConfig
) -> None:
    app = BinderctlApp(world_member, start="provision")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        summary = screen.query_one("#provision-summary", Static)
        await pilot.click("#plan")
        await wait_until(pilot, lambda: "Plan (dry run)" in shown_text(summary))
        plan = shown_text(summary)
        assert "create" in plan and "server" in plan.lower()

        await pilot.click("#provision")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        steps = screen.query_one("#steps", DataTable)
        await wait_until(pilot, lambda: "DNS records to create" in shown_text(summary), 300)
        states = [steps.get_cell(key, "state").plain for key in steps.rows]
        assert states and set(states) <= {"✔", "↷"}
        text = shown_text(summary)
        assert f"*.{world_member.binder_host}" in text
        assert "Next steps" in text
    assert not any("Traceback" in n for n in notifications(app))


async def test_cancelled_confirmation_provisions_nothing(
    empty_world: DemoWorld, world_member: MemberConfig
) -> None:
    app = BinderctlApp(world_member, start="provision")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#provision")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")  # the focused button is No
        await app.workers.wait_for_complete()
        await pilot.pause()
        steps = app.screen.query_one("#steps", DataTable)
        assert steps.row_count == 0
    assert any("not confirmed" in n for n in notifications(app))


async def test_demo_runs_the_pipeline_and_lands_on_the_dashboard(
    empty_world: DemoWorld, world_member: MemberConfig
) -> None:
    app = BinderctlApp(world_member, start="provision", demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.current_mode == "dashboard", 300)
        app.switch_mode("provision")
        await pilot.pause()
        steps = app.screen.query_one("#steps", DataTable)
        assert steps.row_count >= 5
