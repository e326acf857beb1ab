"""Provisioning from the Provision screen, against an empty demo world."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Static

from binderctl.app import BinderctlApp
from binderctl.commands.default_cmd import new_member
from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import DemoWorld
from binderctl.screens.confirm import ConfirmScreen
from binderctl.screens.provision import ProvisionScreen, steps_table
from binderctl.services.provision import ProgressEvent
from binderctl.widgets.config_form import ConfigForm
from binderctl.widgets.header import render_header
from tests.tui.tuikit import SIZE, deliberately, notifications, shown_text, until


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
        await until(pilot, lambda: "Plan (dry run)" in shown_text(summary))
        plan = shown_text(summary)
        assert "create" in plan and "server" in plan.lower()

        await pilot.click("#provision")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await deliberately(pilot, "y")
        await until(pilot, lambda: "DNS records (keep them)" in shown_text(summary), 60)
        states = [event.state for event in screen.steps.values()]
        assert states and set(states) <= {"done", "skipped"}
        shown = shown_text(screen.query_one("#steps", Static))
        assert all(event.title in shown for event in screen.steps.values())
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
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")  # the focused button is No
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        assert not screen.steps
    assert any("not confirmed" in n for n in notifications(app))


async def test_demo_runs_the_pipeline_and_lands_on_the_dashboard(
    empty_world: DemoWorld, world_member: MemberConfig
) -> None:
    empty_world.sessions = 3
    app = BinderctlApp(
        world_member, start="provision", demo=True, after_provision=empty_world.start_sessions
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not isinstance(app.focused, Input)  # keys switch screens while it runs
        await until(pilot, lambda: app.current_mode == "dashboard", 60)
        await until(pilot, lambda: app.model and len(app.model.sessions) == 3)
        await until(pilot, lambda: app.header_state.health_ok)
        app.switch_mode("provision")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        assert len(screen.steps) >= 5


async def test_a_first_run_writes_the_config_from_the_form(home: Path) -> None:
    path = home / "new-config.toml"
    app = BinderctlApp(new_member(""), start="provision", config_path=path)
    async with app.run_test(size=SIZE) as pilot:
        assert "new member" in render_header(app.header_state).plain
        await deliberately(pilot, "1")
        activity = shown_text(app.screen.query_one("#activity", Static))
        assert "not provisioned yet" in activity
        await deliberately(pilot, "8")
        form = app.screen.query_one(ConfigForm)
        for key, value in {
            "name": "fresh",
            "binder_host": "fresh.binder.test",
            "ssh_allowed_cidrs": "198.51.100.0/24",
        }.items():
            form.query_one(f"#field-{key}", Input).value = value
        await pilot.click("#save")
        await pilot.pause()
        assert "Saved" in shown_text(app.screen.query_one("#provision-status", Static))
    assert load_config(path).member(None).binder_host == "fresh.binder.test"
    assert app.member.name == "fresh"
    assert path.stat().st_mode & 0o777 == 0o600


async def test_q_types_into_a_field_and_esc_gives_the_screen_keys_back(
    member: MemberConfig,
) -> None:
    app = BinderctlApp(member, start="provision")
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#field-binder_host", Input)
        field.focus()
        await pilot.press("end", "q", "1")
        assert field.value == f"{member.binder_host}q1"
        assert app.current_mode == "provision"
        keys = app.screen.active_bindings
        assert keys["escape"].binding.description == "Leave field"
        assert keys["ctrl+q"].binding.show and "q" not in keys and "1" not in keys
        await pilot.press("escape")
        assert app.focused is None
        assert "escape" not in app.screen.active_bindings
        await deliberately(pilot, "1")
        assert app.current_mode == "dashboard"
        await deliberately(pilot, "8", "tab")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        await deliberately(pilot, "q")  # a screen key again: it asks before quitting
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert dialog.question == "Quit binderctl?"
        await deliberately(pilot, "y")
        await pilot.pause()
        assert not app.is_running


async def test_ctrl_q_quits_from_a_field(member: MemberConfig) -> None:
    app = BinderctlApp(member, start="provision")
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#field-name", Input).focus()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


def test_a_long_step_message_wraps_whole_within_a_narrow_panel() -> None:
    message = "cert-manager created, registry created, binderhub created; digest " + "f" * 70
    event = ProgressEvent("charts", "Charts", "done", message, 1.5)
    console = Console(width=50, record=True, color_system=None, file=io.StringIO())
    console.print(steps_table([event]))
    _, first, *more = console.export_text().splitlines()
    assert first.split()[:3] == ["✔", "Charts", "1.5s"]
    start = first.index("cert-manager")
    lines = [first, *more]
    assert len(lines) > 2 and all(len(line) <= 50 for line in lines)
    shown = "".join(line[start:] for line in lines).replace(" ", "")
    assert shown == message.replace(" ", "")
