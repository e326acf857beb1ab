"""Typed text is not a command (``screens/typing.py``): a word typed where no search box
is opens no dialog, Enter never picks or confirms, `q` asks, `/` without a list says
so; a key pressed on its own still acts."""

from __future__ import annotations

import asyncio

from textual.widgets import OptionList, Static

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.demo.world import DemoWorld
from binderctl.screens.choose import ChooseScreen
from binderctl.screens.confirm import TOO_SOON, ConfirmScreen
from binderctl.screens.dashboard import DashboardScreen
from binderctl.services import audit
from tests.tui.tuikit import SIZE, deliberately, notifications, shown_text, until


async def test_a_search_typed_on_the_dashboard_opens_nothing(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"binder-examples/requirements", "enter")
        await pilot.pause(0.6)  # longer than a held key waits
        assert isinstance(app.screen, DashboardScreen)
        assert len(app.screen_stack) == 1
        told = notifications(app)
        assert any("nothing to filter here" in n for n in told)
        assert any("r ignored: it came with other keys" in n for n in told)
        assert app.return_code is None


async def test_an_action_key_on_its_own_opens_a_chooser_that_enter_alone_cannot_pick(
    member: MemberConfig,
) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        dialog = await until(pilot, lambda: isinstance(app.screen, ChooseScreen) and app.screen)
        assert dialog.query_one(OptionList).highlighted is None
        await deliberately(pilot, "enter")
        assert app.screen is dialog  # nothing was highlighted: nothing picked
        await pilot.press("down", "enter")  # typed together: not a pick
        assert app.screen is dialog
        assert "ignored" in shown_text(dialog.query_one("#choose-keys", Static))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen))


async def test_q_asks_and_enter_stays(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert dialog.question == "Quit binderctl?"
        await pilot.press("y")  # at once: before the dialog could be read
        assert app.screen is dialog and app.return_code is None
        assert TOO_SOON in shown_text(dialog.query_one(".dialog-keys", Static))
        await deliberately(pilot, "enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.return_code is None
        await deliberately(pilot, "q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await deliberately(pilot, "y")
    assert app.return_code == 0


async def test_q_in_a_word_does_not_quit(member: MemberConfig) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"quota", "enter")
        await pilot.pause(0.6)
        assert isinstance(app.screen, DashboardScreen) and app.return_code is None


async def test_closing_the_console_with_a_dialog_open_runs_nothing(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    """The worker that asked waits for an answer nobody will give: the console's exit
    cancels it, the action is recorded as not confirmed and the console ends (it used
    to wait for ever)."""
    before = len(audit.read(live_member.name))
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"drain", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    for _ in range(50):
        records = audit.read(live_member.name)[before:]
        if records:
            break
        await asyncio.sleep(0.1)
    assert [(r.action, r.outcome, r.detail) for r in records] == [
        ("drain", "refused", "not confirmed")
    ]


async def test_a_search_typed_on_a_live_dashboard_stays_there(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    """With components under the cursor, the word's `l` (logs), `a` (Abuse) and digits
    and the Enter (details) are letters of the word: the Dashboard stays."""
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query("#components") and app.model is not None)
        await until(pilot, lambda: app.model is not None and len(app.model.components) == 4)
        await pilot.pause(0.5)
        await pilot.press("slash", *"binder-examples/requirements2", "enter")
        await pilot.pause(0.6)
        assert isinstance(app.screen, DashboardScreen) and app.current_mode == "dashboard"
        assert any("ignored: it came with other keys" in n for n in notifications(app))
