"""Every screen is reachable by its key, by the command palette and by the `:` line."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Input

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.screens import keymap
from binderctl.screens.command_line import CommandLineScreen
from binderctl.screens.help import HelpScreen
from tests.tui.tuikit import SIZE, deliberately


def screen_name(app: BinderctlApp) -> str:
    return type(app.screen).__name__


async def test_number_keys_switch_screens(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        for spec in (*keymap.KEYED_SCREENS[1:], keymap.KEYED_SCREENS[0]):
            await deliberately(pilot, spec.key)  # on its own: not a letter of a word
            await pilot.pause()
            assert screen_name(app) == spec.cls
            assert app.current_mode == spec.name


async def test_palette_opens_every_screen(member: MemberConfig) -> None:
    app = BinderctlApp(member, start="events")
    async with app.run_test(size=SIZE) as pilot:
        for spec in keymap.SCREENS:
            await pilot.press("ctrl+p")
            await pilot.press(*spec.title)
            await pilot.pause(0.2)
            await pilot.press("enter")
            await pilot.pause()
            assert screen_name(app) == spec.cls


async def test_command_line_switches_screens(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        assert isinstance(app.screen, CommandLineScreen)
        await pilot.press(*"builds", "enter")
        await pilot.pause()
        assert screen_name(app) == "BuildsScreen"


async def test_command_line_gives_a_screen_its_filter(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"sessions norvig", "enter")
        await pilot.pause()
        assert screen_name(app) == "SessionsScreen"
        assert app.screen.query_one("#filter", Input).value == "norvig"
        await pilot.press("colon", *"sessions binder", "enter")  # already shown
        await pilot.pause()
        assert app.screen.query_one("#filter", Input).value == "binder"


async def test_palette_hints_show_each_action_s_key_or_command(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hints = {
            c.title: Content.from_markup(c.help).plain for c in app.get_system_commands(app.screen)
        }
    assert hints["Action: Drain"].startswith("[D] ")
    assert hints["Action: Resume"].startswith("[U] ")
    assert hints["Action: Restart dind"].startswith("[r dind] ")
    assert hints["Action: Reboot server"].startswith("[:reboot] ")
    assert hints["Action: Renew certificates"].startswith("[:renew-certs] ")
    assert hints["Screen: Dashboard"].startswith("[1] ")


async def test_unknown_command_is_a_notification(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"frobnicate", "enter")
        await pilot.pause()
        assert screen_name(app) == "DashboardScreen"
        assert any("unknown command" in n.message for n in app._notifications)


async def test_help_lists_keys_and_closes(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "DashboardScreen"


async def test_no_cluster_is_a_notification_not_a_crash(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        assert app.header_state.connection == "disconnected"
        assert any("not provisioned yet" in n.message for n in app._notifications)


async def test_ctrl_q_quits_at_once(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
