"""The console on a running member: sessions, kill, drain and resume, logs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import notifications, shown_text
from livekit import LiveMember
from textual.pilot import Pilot
from textual.widgets import Input

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.screens.choose import ChooseScreen
from binderctl.screens.confirm import ConfirmScreen
from binderctl.screens.logs import LogsScreen
from binderctl.widgets.header import render_header
from binderctl.widgets.live_table import LiveTable
from binderctl.widgets.log_view import LogView
from conftest import SIZE


async def until(pilot: Pilot, check: Callable[[], Any], seconds: float = 20.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        if result := check():
            return result
        await pilot.pause(0.1)
    raise AssertionError("the console never got there")


async def sessions_screen(app: BinderctlApp, pilot: Pilot, count: int) -> LiveTable:
    await pilot.press("2")
    table = app.screen.query_one(LiveTable)
    await until(pilot, lambda: table.row_count == count)
    return table


async def test_sessions_are_listed_and_filtered(member: MemberConfig, live: LiveMember) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, 12)
        shown = {(key.value or "").rsplit("/", 1)[-1] for key in table.rows}
        assert shown == set(live.running_sessions())
        repos = [table.get_cell(key, "repo").plain for key in table.rows]
        wanted = repos[0].rsplit("/", 1)[-1]
        expected = sum(1 for r in repos if wanted.lower() in r.lower())
        await pilot.press("slash", *wanted, "enter")
        await until(pilot, lambda: table.row_count == expected)
        assert all(wanted in table.get_cell(k, "repo").plain for k in table.rows)
        assert "filter" in shown_text(app.screen.query_one("#status"))
        await pilot.press("escape")
        await until(pilot, lambda: table.row_count == 12)
        assert app.screen.query_one("#filter", Input).value == ""
        await pilot.press("s")
        assert table.sort_by == "cpu"
        cpus = [table.get_row_at(i)[5].sort_key for i in range(table.row_count)]
        assert cpus == sorted(cpus)


async def test_kill_asks_first_and_cancel_keeps_the_session(
    member: MemberConfig, live: LiveMember
) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, 12)
        victim = table.current_key
        assert victim is not None
        pod = victim.rsplit("/", 1)[-1]

        await pilot.press("ctrl+d")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert pod in dialog.question
        assert "unsaved work" in dialog.blast_radius
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("enter")
        await until(pilot, lambda: any("not confirmed" in n for n in notifications(app)))
        assert pod in live.running_sessions()

        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any("killed 1 session" in n for n in notifications(app)))
        live.wait(lambda: pod not in live.running_sessions())
        await until(pilot, lambda: victim not in table.rows)


async def test_marked_sessions_are_killed_with_one_question(
    member: MemberConfig, live: LiveMember
) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, 12)
        await pilot.press("space", "space")
        marked = table.selected_keys()
        assert len(marked) == 2
        await pilot.press("ctrl+d")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "2 selected" in dialog.question
        await pilot.press("y")
        await until(pilot, lambda: sum("killed 1 session" in n for n in notifications(app)) == 1)
        pods = {key.rsplit("/", 1)[-1] for key in marked}
        live.wait(lambda: not pods & set(live.running_sessions()))


async def test_drain_then_resume_changes_the_header(member: MemberConfig, live: LiveMember) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.header_state.rotation is not None)
        assert "IN ROTATION" in render_header(app.header_state).plain
        await pilot.press("D")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "no new sessions start here" in dialog.blast_radius
        await pilot.press("y")
        out = "OUT OF ROTATION (quota 0 + cordoned)"
        await until(pilot, lambda: out in render_header(app.header_state).plain)

        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: "● IN ROTATION" in render_header(app.header_state).plain)
        assert app.header_state.rotation.quota == member.launch_quota


async def test_restart_asks_which_and_says_the_blast_radius(
    member: MemberConfig, live: LiveMember
) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"restart proxy", "enter")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "Every user loses their connection" in dialog.blast_radius
        await pilot.press("n")
        await until(pilot, lambda: any("not confirmed" in n for n in notifications(app)))

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ChooseScreen))
        await pilot.press("down", "enter")  # hub, then binder
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "binder" in dialog.question and "site blinks" in dialog.blast_radius
        await pilot.press("y")
        await until(pilot, lambda: any("rollout restart of" in n for n in notifications(app)))


async def test_logs_of_a_session_arrive(member: MemberConfig, live: LiveMember) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, 12)
        pod = (table.current_key or "").rsplit("/", 1)[-1]
        await pilot.press("l")
        screen = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen)
        view = screen.query_one(LogView)
        await until(pilot, lambda: view.shown > 0)
        assert screen.source is not None and screen.source.endswith(pod)
        assert pod in shown_text(screen.query_one("#log-status"))
        await pilot.press("t")
        assert view.timestamps
        await pilot.press("f")
        assert not view.follow
        await pilot.press("f")
        assert view.follow
        await pilot.press("colon", *"logs hub", "enter")
        await until(pilot, lambda: screen.source == "hub" and view.shown > 0)
        assert view.show_pods
        await pilot.press("ctrl+s")
        saved = await until(pilot, lambda: [n for n in notifications(app) if "saved" in n])
        path = Path(saved[0].rsplit(" to ", 1)[1])
        assert path.stat().st_mode & 0o777 == 0o600
        assert len(path.read_text().splitlines()) == view.shown


HOSTILE_REPO = (
    "https://github.com/\x1b[2J\x1b]0;owned\x07[bold red]evil[/]/[link=http://x]r[/link]"
    + "x" * 300
)


async def test_hostile_session_data_is_shown_inert(member: MemberConfig, live: LiveMember) -> None:
    from binderctl.demo.kube import types

    pod = {
        "metadata": {
            "name": "jupyter-hostile",
            "namespace": "binderhub",
            "labels": {"component": "singleuser-server", "app": "jupyterhub"},
        },
        "spec": {
            "containers": [
                {
                    "name": "notebook",
                    "image": "registry/binder-hostile:abc",
                    "env": [{"name": "BINDER_REPO_URL", "value": HOSTILE_REPO}],
                }
            ]
        },
    }
    live.runtime.call(live.store.create, types.PODS, pod)
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, 13)
        key = next(k for k in table.rows if (k.value or "").endswith("jupyter-hostile"))
        cell = table.get_cell(key, "repo").plain
        assert "[bold red]evil[/]" in cell
        assert "\x1b" not in cell and "\x07" not in cell
        assert len(cell) <= 80
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        await pilot.pause(0.3)
        detail = shown_text(app.screen.query_one("#detail"))
        assert "[link=http://x]" in detail and "\x1b" not in detail
