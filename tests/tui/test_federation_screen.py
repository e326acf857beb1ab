"""The Federation screen on a demo member provisioned through the real pipeline: every
host of the demo federation, the member judged by the redirector's rules, and opening
the member from its row."""

from __future__ import annotations

from textual.widgets import Static

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.demo.federation.world import OTHER, PRIME, RETIRED
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.screens.federation import FederationScreen
from binderctl.widgets.live_table import LiveTable
from tests.tui.tuikit import SIZE, shown_text, until


async def test_every_host_and_opening_our_member(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("9")
        screen = app.screen
        assert isinstance(screen, FederationScreen)
        table = screen.query_one(LiveTable)
        await until(pilot, lambda: table.row_count == 4)
        assert {key.value for key in table.rows} == {PRIME, OTHER, MEMBER, RETIRED}
        await until(pilot, lambda: table.get_cell(MEMBER, "rotation").plain.startswith("IN"))
        assert table.get_cell(RETIRED, "rotation").plain == "OUT weight"
        assert table.get_cell(PRIME, "role").plain == "prime"
        assert table.get_cell(MEMBER, "role").plain == "ours"
        await until(pilot, lambda: app.header_state.observed is not None)
        assert app.header_state.observed is not None
        assert app.header_state.observed.in_rotation is True
        table.move_cursor(row=table.get_row_index(MEMBER))
        await pilot.pause(0.2)
        detail = shown_text(screen.query_one("#federation-detail", Static))
        assert "versions match the prime" in detail and "enter: switch" in detail
        await pilot.press("enter")
        await until(pilot, lambda: app.current_mode == "dashboard")


async def test_the_command_line_opens_it_and_a_silent_host_is_named(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    assert live_world.federation is not None and live_world.runtime is not None
    other = live_world.federation.other
    live_world.runtime.run(other.set_down(True))
    try:
        app = BinderctlApp(live_member)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("colon", *"federation", "enter")
            await until(pilot, lambda: isinstance(app.screen, FederationScreen))
            table = app.screen.query_one(LiveTable)
            await until(pilot, lambda: table.row_count == 4)
            await until(pilot, lambda: table.get_cell(OTHER, "rotation").plain == "OUT unreachable")
            table.move_cursor(row=table.get_row_index(OTHER))
            await pilot.press("enter")  # not ours: it says so and stays
            await pilot.pause(0.2)
            assert isinstance(app.screen, FederationScreen)
            assert "not one of our configured members" in [n.message for n in app._notifications]
    finally:
        live_world.runtime.run(other.set_down(False))
