"""Snapshots of each main screen: a frozen member (fixed seed) and a fixed console clock.

Update them with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at
the SVGs (tests/tui/__snapshots__/) before committing them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from livekit import LiveMember, live_member
from textual.pilot import Pilot

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.widgets.live_table import LiveTable
from binderctl.widgets.log_view import LogView
from conftest import SIZE

CLOCK_OFFSET = 600.0  # the console's "now": ten minutes after the member started


@pytest.fixture
def frozen(member: MemberConfig) -> Iterator[LiveMember]:
    with live_member(member, sessions=8, seed=11, frozen=True) as running:
        yield running


def console(member: MemberConfig, frozen: LiveMember, start: str = "dashboard") -> BinderctlApp:
    return BinderctlApp(member, start=start, clock=lambda: frozen.epoch + CLOCK_OFFSET)


async def loaded(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, BinderctlApp)
    for _ in range(200):
        model = app.model
        budget = app.header_state.month_to_date
        if model and model.node and model.components and len(model.sessions) == 8 and budget:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.6)  # one redraw after the last change


@pytest.mark.parametrize("start", ["dashboard", "sessions", "builds", "events", "resources"])
def test_screen(snap_compare, member: MemberConfig, frozen: LiveMember, start: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(console(member, frozen, start), terminal_size=SIZE, run_before=loaded)


def test_session_detail(snap_compare, member: MemberConfig, frozen: LiveMember) -> None:  # type: ignore[no-untyped-def]
    async def open_detail(pilot: Pilot) -> None:
        await loaded(pilot)
        table = pilot.app.screen.query_one(LiveTable)
        table.move_cursor(row=2)
        await pilot.press("enter")
        await pilot.pause(0.6)

    app = console(member, frozen, "sessions")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_detail)


def test_logs(snap_compare, member: MemberConfig, frozen: LiveMember) -> None:  # type: ignore[no-untyped-def]
    async def follow_hub(pilot: Pilot) -> None:
        await loaded(pilot)
        app = pilot.app
        assert isinstance(app, BinderctlApp)
        app.show_logs("hub")
        for _ in range(200):
            views = app.screen.query(LogView)
            if views and views.first().shown:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.5)

    assert snap_compare(console(member, frozen), terminal_size=SIZE, run_before=follow_hub)


def test_help(snap_compare, member: MemberConfig, frozen: LiveMember) -> None:  # type: ignore[no-untyped-def]
    async def help_over_dashboard(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    app = BinderctlApp(member, readonly=True, clock=lambda: frozen.epoch + CLOCK_OFFSET)
    assert snap_compare(app, terminal_size=SIZE, run_before=help_over_dashboard)


def test_provision_form(snap_compare, member: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    app = BinderctlApp(member, start="provision")
    assert snap_compare(app, terminal_size=SIZE)
