"""The console on a demo member provisioned through the real pipeline: sessions, kill,
drain and resume, restart, logs, hostile data, the budget."""

from __future__ import annotations

import asyncio
import string
import time
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.widgets.data_table import RowKey

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig, load_config
from binderctl.demo.kube import types
from binderctl.demo.member import incidents
from binderctl.demo.world import DemoWorld
from binderctl.screens import keymap
from binderctl.screens.budget import BudgetScreen, day_totals
from binderctl.screens.choose import ChooseScreen
from binderctl.screens.confirm import KEYS, ConfirmScreen
from binderctl.screens.events import EventsScreen
from binderctl.screens.logs import DEFAULT_SOURCE, LogsScreen, Source
from binderctl.screens.typing import TYPING_GAP
from binderctl.services import audit
from binderctl.services.budget import UNIT_STEP
from binderctl.services.session_history import record_sample
from binderctl.widgets.cells import NAME_LIMIT
from binderctl.widgets.header import render_header
from binderctl.widgets.live_table import LiveTable
from binderctl.widgets.log_view import LogView
from tests.fuzz.fuzzkit import budget
from tests.kit.worlds import on_loop
from tests.tui.tuikit import (
    SIZE,
    deliberately,
    extra_pod,
    notifications,
    running_sessions,
    shown_text,
    until,
)


def line_of(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(label))


def pod_of(key: str | None) -> str:
    return (key or "").rsplit("/", 1)[-1]


def row_of(table: LiveTable, pod: str) -> RowKey | None:
    return next((key for key in table.rows if pod_of(key.value) == pod), None)


async def sessions_screen(app: BinderctlApp, pilot: Pilot, world: DemoWorld) -> LiveTable:
    """The Sessions screen once it lists exactly the sessions the member runs."""
    await pilot.press("2")
    table = app.screen.query_one(LiveTable)
    await until(pilot, lambda: {pod_of(k.value) for k in table.rows} == running_sessions(world))
    return table


async def test_sessions_are_listed_and_filtered(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, live_world)
        assert table.row_count >= 2
        repos = [table.get_cell(key, "repo").plain for key in table.rows]
        wanted = repos[0].rsplit("/", 1)[-1]
        expected = sum(1 for r in repos if wanted.lower() in r.lower())
        await pilot.press("slash", *wanted, "enter")
        await until(pilot, lambda: table.row_count == expected)
        assert all(wanted in table.get_cell(k, "repo").plain for k in table.rows)
        assert "filter" in shown_text(app.screen.query_one("#status", Static))
        await pilot.press("escape")
        await until(pilot, lambda: table.row_count == len(repos))
        assert app.screen.query_one("#filter", Input).value == ""
        await pilot.press("s")
        assert table.sort_by == "cpu"
        cpus = [table.get_row_at(i)[5].sort_key for i in range(table.row_count)]
        assert cpus == sorted(cpus)


async def test_a_filter_that_matches_nothing_says_so(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, live_world)
        hint = app.screen.query_one("#empty", Static)
        assert not hint.display
        await pilot.press("slash", *"no-such-repo", "enter")
        await until(pilot, lambda: table.row_count == 0)
        assert hint.display
        assert "no sessions match 'no-such-repo'" in shown_text(hint)


async def test_kill_asks_first_and_cancel_keeps_the_session(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, live_world)
        victim = table.current_key
        pod = pod_of(victim)
        assert pod

        await pilot.press("ctrl+d")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert pod in dialog.question
        assert "unsaved work" in dialog.blast_radius
        assert app.focused is not None and app.focused.id == "no"
        assert shown_text(dialog.query(".dialog-keys").first(Static)).strip() == KEYS
        await pilot.press("tab")  # onto Yes: Enter still answers No
        assert app.focused is not None and app.focused.id == "yes"
        await deliberately(pilot, "enter")
        await until(pilot, lambda: any("not confirmed" in n for n in notifications(app)))
        assert pod in running_sessions(live_world)

        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await deliberately(pilot, "y")
        await until(pilot, lambda: any("killed 1 session" in n for n in notifications(app)))
        await until(pilot, lambda: pod not in running_sessions(live_world))
        await until(pilot, lambda: victim not in table.rows)


async def test_marked_sessions_are_killed_with_one_question(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, live_world)
        await pilot.press("space", "space")
        marked = table.selected_keys()
        assert len(marked) == 2
        pods = {pod_of(key) for key in marked}
        before = len(audit.read(live_member.name))
        await pilot.press("ctrl+d")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "2 sessions" in dialog.question and all(pod in dialog.question for pod in pods)
        await deliberately(pilot, "y")
        await until(pilot, lambda: any("killed 2 session(s)" in n for n in notifications(app)))
        await until(pilot, lambda: not pods & running_sessions(live_world))
        (record,) = audit.read(live_member.name)[before:]
        assert record.action == "kill-session" and record.outcome == "ok"
        assert record.targets == dict.fromkeys(sorted(pods), "deleted")


def build_pods(world: DemoWorld) -> set[str]:
    """The build pods of the world's member that are not being deleted."""
    store = world.cluster().store
    return {
        pod["metadata"]["name"]
        for pod in on_loop(world, store.list, types.PODS)
        if (pod["metadata"].get("labels") or {}).get("component") == "binderhub-build"
        and not pod["metadata"].get("deletionTimestamp")
    }


def hang_builds(world: DemoWorld, count: int) -> set[str]:
    """``count`` builds of different repositories, hung after pushing."""
    member = world.cluster().member
    hung: set[str] = set()
    while len(hung) < count:
        hung.add(on_loop(world, incidents.hang_build, member, 60.0))
    return hung


async def test_ctrl_d_deletes_exactly_the_marked_builds(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    hung = hang_builds(live_world, 4)
    app = BinderctlApp(live_member)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("3")
            table = app.screen.query_one(LiveTable)
            await until(pilot, lambda: hung <= {pod_of(k.value) for k in table.rows})
            await pilot.press("space", "space", "space")
            marked = {pod_of(key) for key in table.selected_keys()}
            assert len(marked) == 3
            before = len(audit.read(live_member.name))
            await pilot.press("ctrl+d")
            dialog = await until(
                pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen
            )
            assert "3 builds" in dialog.question and all(b in dialog.question for b in marked)
            await deliberately(pilot, "y")
            await until(
                pilot, lambda: any("deleted 3 build pod(s)" in n for n in notifications(app))
            )
            assert not marked & build_pods(live_world)
            assert hung - marked <= build_pods(live_world)  # the unmarked one is left
            (record,) = audit.read(live_member.name)[before:]
            assert (record.action, record.outcome) == ("delete-build", "ok")
            assert record.targets == dict.fromkeys(sorted(marked), "deleted")
    finally:
        on_loop(live_world, live_world.cluster().member.builds.release_hung)


async def test_builds_say_why_one_looks_hung_and_take_a_threshold(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    hung = hang_builds(live_world, 1).pop()  # started a minute ago, silent since it pushed
    app = BinderctlApp(live_member)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("3")
            screen = app.screen
            table = screen.query_one(LiveTable)
            key = await until(pilot, lambda: row_of(table, hung))
            await until(pilot, lambda: table.get_cell(key, "quiet").plain != "-")
            assert table.get_cell(key, "phase").plain == "Running"
            assert table.get_cell(key, "stuck").plain == ""
            table.move_cursor(row=table.get_row_index(key))
            last = screen.query_one("#last-log", Static)
            await until(pilot, lambda: "last log line" in shown_text(last))
            assert "digest: sha256:" in shown_text(last, width=300)  # what it said last
            status = screen.query_one("#status", Static)
            assert "0 stuck: running > 30m" in shown_text(status)

            await pilot.press("colon", *"builds --stuck-after 30s", "enter")
            await until(pilot, lambda: table.get_cell(key, "stuck").plain == "STUCK")
            await until(pilot, lambda: "stuck: running > 30s" in shown_text(status))
            await pilot.press("enter")
            detail = await until(pilot, lambda: app.screen.query("#detail"))
            text = shown_text(detail.first(Static))
            assert "Last log line" in text and "STUCK: running for more than 30s" in text
    finally:
        on_loop(live_world, live_world.cluster().member.builds.release_hung)


async def test_after_a_prune_the_gauge_says_what_the_outcome_says(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    on_loop(live_world, incidents.fill_image_filesystem, live_world.cluster().member, 0.3)
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        gauge = await until(pilot, lambda: app.screen.query("#disk .metric-value"))
        value = gauge.first(Static)
        await until(pilot, lambda: " of " in shown_text(value) and "- of" not in shown_text(value))
        await deliberately(pilot, "P")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await deliberately(pilot, "y")
        told = await until(pilot, lambda: [n for n in notifications(app) if "freed" in n])
        used, total = told[0].rsplit("disk ", 1)[1].removesuffix(" used").split("/")
        assert f"{used} of {total}" in shown_text(value)  # at once, not at the next disk read


async def test_drain_then_resume_changes_the_header(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.header_state.rotation is not None)
        assert "● IN ROTATION" in render_header(app.header_state).plain
        await pilot.press("D")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "no new sessions start here" in dialog.blast_radius
        await deliberately(pilot, "y")

        def header() -> str:
            return render_header(app.header_state).plain

        # the redirector's rules drop it; the header keeps what binderctl asked for (drain
        # does not cordon)
        await until(pilot, lambda: "OUT OF ROTATION" in header() and "asked: quota 0" in header())
        assert "cordoned" not in header()

        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await deliberately(pilot, "y")
        # back once the redirector checks again, after failed_period
        await until(pilot, lambda: "asked:" not in header())
        await until(pilot, lambda: "● IN ROTATION" in header() or "failed_period" in header())
        rotation = app.header_state.rotation
        assert rotation is not None and rotation.quota == live_member.launch_quota


async def test_restart_asks_which_and_says_the_blast_radius(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"restart proxy", "enter")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "Every user loses their connection" in dialog.blast_radius
        await pilot.press("n")
        await until(pilot, lambda: any("not confirmed" in n for n in notifications(app)))

        await deliberately(pilot, "r")  # on its own: an action's key
        await until(pilot, lambda: isinstance(app.screen, ChooseScreen))
        await deliberately(pilot, "2")  # hub, then binder
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "binder" in dialog.question and "site blinks" in dialog.blast_radius
        await deliberately(pilot, "y")
        await until(pilot, lambda: any("rollout restart of" in n for n in notifications(app)))

        await pilot.press("colon", *"restart-dind", "enter")  # an alias from the catalogue
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert dialog.question == "restart dind?" and "hung builds" in dialog.blast_radius
        await deliberately(pilot, "y")
        await until(pilot, lambda: any("dind pod(s)" in n for n in notifications(app)))
        record = audit.read(live_member.name)[-1]
        assert (record.action, record.target, record.outcome) == ("restart", "dind", "ok")
        assert record.targets and set(record.targets.values()) == {"deleted"}


async def test_logs_open_on_the_binder_component(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        view = screen.query_one(LogView)
        await until(pilot, lambda: screen.source == Source(DEFAULT_SOURCE) and view.shown > 0)
        status = shown_text(screen.query_one("#log-status", Static))
        assert f"logs {DEFAULT_SOURCE}" in status and "following" in status


async def test_logs_of_a_session_arrive(live_world: DemoWorld, live_member: MemberConfig) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await sessions_screen(app, pilot, live_world)
        pod = pod_of(table.current_key)
        await pilot.press("l")
        screen = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen)
        view = screen.query_one(LogView)
        await until(pilot, lambda: view.shown > 0)
        assert screen.source is not None and screen.source.name.endswith(pod)
        assert pod in shown_text(screen.query_one("#log-status", Static))
        await pilot.press("t")
        assert view.timestamps
        await pilot.press("f")
        assert not view.follow
        await pilot.press("f")
        assert view.follow
        await pilot.press("colon", *"logs hub", "enter")
        await until(pilot, lambda: screen.source == Source("hub") and view.shown > 0)
        await pilot.press("ctrl+s")
        saved = await until(pilot, lambda: [n for n in notifications(app) if "saved" in n])
        path = Path(saved[0].rsplit(" to ", 1)[1])
        assert path.stat().st_mode & 0o777 == 0o600
        assert len(path.read_text().splitlines()) == view.shown


async def test_logs_count_one_source_go_back_and_say_why_they_stopped(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    hung = hang_builds(live_world, 1).pop()
    binder = next(
        p["metadata"]["name"]
        for p in on_loop(live_world, live_world.cluster().store.list, types.PODS)
        if p["metadata"]["name"].startswith("binder-")
    )
    app = BinderctlApp(live_member)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await sessions_screen(app, pilot, live_world)
            await pilot.press("l")
            screen = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen)
            view = screen.query_one(LogView)
            status = screen.query_one("#log-status", Static)
            await until(pilot, lambda: view.shown > 0)
            await pilot.press("colon", *"logs hub", "enter")
            await until(pilot, lambda: screen.source == Source("hub") and view.shown > 0)
            assert {entry.pod.split("-")[0] for entry in view.lines} == {"hub"}
            assert view.received == len(view.lines)  # the session's lines are not counted
            assert f"({view.received:,} received)" in shown_text(status)

            await pilot.press("colon", *f"logs {binder} --previous", "enter")
            refused = f'previous terminated container "binder" in pod "{binder}" not found'
            note = screen.query_one("#log-note", Static)
            await until(pilot, lambda: refused in shown_text(note, width=300))
            assert "following" not in shown_text(status) and view.shown == 0

            await pilot.press("colon", *f"logs {hung}", "enter")
            await until(pilot, lambda: any("Pushed" in entry.text for entry in view.lines))
            assert not any(entry.text.startswith("{") for entry in view.lines)  # messages

            await pilot.press("escape")  # back where the logs were asked for
            await until(pilot, lambda: app.screen.__class__.__name__ == "SessionsScreen")
    finally:
        on_loop(live_world, live_world.cluster().member.builds.release_hung)


BAD_IMAGE = "quay.io/jupyterhub/k8s-hub:9.9.9-nope"


async def test_events_open_whole_name_the_image_and_outlive_their_pod(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    name = "hub-9d9d9d9d9d-nope1"
    pod = {
        "metadata": {"name": name, "namespace": "binderhub", "labels": {"app": "test"}},
        "spec": {"containers": [{"name": "hub", "image": BAD_IMAGE}]},
    }
    app = BinderctlApp(live_member)
    with extra_pod(live_world, pod):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("6")
            table = app.screen.query_one(LiveTable)
            key = f"binderhub/Pod/{name}/Failed"

            def pull_failed() -> bool:
                model = app.model
                events = [] if model is None else [w for w in model.warnings if name in w.object]
                messages = " ".join(w.message for w in events)
                return key in {k.value for k in table.rows} and "ImagePullBackOff" in messages

            await until(pilot, pull_failed)
            row = table.get_row(key)
            assert BAD_IMAGE in row[5].plain  # the grouped row names the image

            table.move_cursor(row=table.get_row_index(key))
            await pilot.press("enter")
            detail = await until(pilot, lambda: app.screen.query("#detail"))
            text = shown_text(detail.first(Static), width=300)
            assert f"Pod/{name} in namespace binderhub" in text
            assert f'Failed to pull image "{BAD_IMAGE}"' in text and "not found" in text
            assert "Error: ImagePullBackOff" in text and "First seen" in text
            assert "Last seen" in text and "Count" in text
            await pilot.press("escape")

            store = live_world.cluster().store
            on_loop(live_world, store.delete, types.PODS, "binderhub", name)
            await until(pilot, lambda: "(gone)" in table.get_row(key)[3].plain)
            await pilot.press("l")
            await until(pilot, lambda: any(f"pod {name} is gone" in n for n in notifications(app)))
            assert isinstance(app.screen, EventsScreen)

            await deliberately(pilot, "1")  # the Dashboard keeps no warning of a gone pod
            warnings = app.screen.query_one("#warnings", Static)
            await until(pilot, lambda: "about pods that are gone" in shown_text(warnings))
            assert name not in shown_text(warnings)


HOSTILE_REPO = (
    "https://github.com/\x1b[2J\x1b]0;owned\x07[bold red]evil[/]/[link=http://x]r[/link]"
    + "x" * 300
)


async def test_hostile_session_data_is_shown_inert(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    name = "jupyter-hostile"
    pod = {
        "metadata": {
            "name": name,
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
    app = BinderctlApp(live_member)
    with extra_pod(live_world, pod):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("2")
            table = app.screen.query_one(LiveTable)
            key = await until(pilot, lambda: row_of(table, name))
            cell = table.get_cell(key, "repo").plain
            assert "[bold red]evil[/]" in cell
            assert "\x1b" not in cell and "\x07" not in cell
            assert len(cell) <= NAME_LIMIT and cell.endswith("x")  # cut in the middle
            table.move_cursor(row=table.get_row_index(key))
            await pilot.press("enter")
            detail = await until(pilot, lambda: app.screen.query("#detail"))
            text = shown_text(detail.first(Static))
            assert "[link=http://x]" in text and "\x1b" not in text


async def test_budget_shows_the_month_against_the_cap(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    now = time.time()
    # Two samples of the live model's session history, four minutes apart.
    record_sample(live_member, now - 240, 12, 100)
    record_sample(live_member, now, 12, 103)
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        screen = app.screen
        assert isinstance(screen, BudgetScreen)
        report = await until(pilot, lambda: screen.report)
        figures = shown_text(screen.query_one("#budget-figures", Static))
        spent = report.month_to_date.total.rounded()
        projected = report.projected_month.total.rounded().net
        per_hour = report.session_costs.per_session_hour
        assert per_hour is not None
        hourly = per_hour.rounded(UNIT_STEP)
        assert line_of(figures, "EUR net").split() == ["EUR", "net", "EUR", "gross"]
        assert line_of(figures, "Month to date").split()[-2:] == [str(spent.net), str(spent.gross)]
        assert line_of(figures, "Projected month").split()[-2] == str(projected)
        assert line_of(figures, "Cap").split()[-2] == "300.00"
        assert line_of(figures, "Per session-hour").split()[-2:] == [
            str(hourly.net),
            str(hourly.gross),
        ]
        chart = shown_text(screen.query_one("#budget-chart", Static))
        assert "cap EUR 300" in chart and "▲ today" in chart
        if not all(spent for _, spent in day_totals(report)):  # days are left to project
            assert any(glyph in chart for glyph in "▁▂▃▄▅▆▇█")
        legend = shown_text(screen.query_one("#budget-legend", Static))
        assert f"projected EUR {projected} at month end" in legend
        what_if = shown_text(screen.query_one("#budget-whatif", Static), width=160)
        assert f"{live_member.server_type}  ◀ now" in what_if
        assert "ccx13" in what_if and "current" in what_if
        await deliberately(pilot, "1", "7")  # again: figures as of now, not of the first visit
        await until(pilot, lambda: screen.report is not report)


async def test_the_header_says_reconnecting_while_the_api_is_down(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    k3s = live_world.cluster()
    assert live_world.runtime is not None
    running = len(running_sessions(live_world))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.header_state.sessions == running)
        assert "RECONNECTING" not in render_header(app.header_state).plain
        live_world.runtime.run(k3s.set_running(False))  # k3s stops: its API server goes
        try:
            await until(pilot, lambda: "RECONNECTING" in render_header(app.header_state).plain)
        finally:
            live_world.runtime.run(k3s.set_running(True))
        await until(pilot, lambda: app.header_state.connection == "connected")
        assert "RECONNECTING" not in render_header(app.header_state).plain
        assert app.header_state.sessions == running


async def test_a_drop_in_sessions_says_why(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    member = live_world.cluster().member
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        activity = await until(pilot, lambda: app.screen.query("#activity"))
        await until(pilot, lambda: "Sessions running" in shown_text(activity.first(Static)))

        def idle_then_cull() -> None:
            for session in sorted(member.hub.sessions.values(), key=lambda s: s.pod)[:3]:
                session.active_until = member.timeline.now - 10 * 3600
            member.hub.cull()

        on_loop(live_world, idle_then_cull)

        def told() -> str:
            text = shown_text(activity.first(Static), 300)
            return text if "culled by the idle culler" in text else ""

        assert "sessions ended in the last 10m" in await until(pilot, told)


# -- typed text is not a command (screens/typing.py) ------------------------------------
# Letters (the actions' keys D U P r and q among them), a path's slash and dash, space.
TYPED = st.text(st.sampled_from(string.ascii_letters + "/- "), min_size=1, max_size=24)
# the search, and every action key (D U P r q, Z roll back, f fix, b ban, k and c
# upgrades) followed by a y
EXAMPLE = ["/binder-examples/requirements", "Dy", "ry", "q", "Py", "Uy", "rD", "qy", "Zy", "fy"]
EXAMPLE += ["by", "ky", "cy"]


def fingerprint(world: DemoWorld) -> tuple[object, ...]:
    """What an action would change: the charts' values, the workloads' templates, the
    node's spec, the core components' pods."""
    store = world.cluster().store

    def read() -> tuple[object, ...]:
        charts = sorted(str(c["spec"]) for c in store.list(types.HELMCHARTS))
        workloads = sorted(
            str(w["spec"]["template"]) for rt in (types.DEPLOYMENTS, types.DAEMONSETS)
            for w in store.list(rt)
        )  # fmt: skip
        nodes = sorted(str(n.get("spec")) for n in store.list(types.NODES))
        core = sorted(
            p["metadata"]["name"]
            for p in store.list(types.PODS)
            if (p["metadata"].get("labels") or {}).get("component")
            in ("hub", "binder", "proxy", "image-builder")
        )
        return charts, workloads, nodes, core

    return on_loop(world, read)


async def type_on_every_screen(member: MemberConfig, words: list[str]) -> None:
    """Type one word, then Enter, on each screen as someone who thinks a search box has
    the focus; nothing may ask to confirm an action or run one."""
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.model is not None and app.model.components)
        for spec, word in zip(keymap.SCREENS, words, strict=True):
            app.action_show(spec.name)
            await pilot.pause(TYPING_GAP + 0.05)  # the word's first key is pressed on its own
            await pilot.press(*word, "enter")
            await pilot.pause(TYPING_GAP + 0.2)  # a key held as a command would act by now
            assert app.return_code is None, (spec.name, word)
            assert not isinstance(app.screen, ConfirmScreen), (spec.name, word)
            chooser = app.screen
            assert not (isinstance(chooser, ChooseScreen) and chooser.deliberate), word
            assert not [w for w in app.workers if w.group == "actions"], (spec.name, word)
            while isinstance(app.screen, ModalScreen):  # the Logs screen's source picker
                await app.pop_screen()


@budget(ci=1, full=50)
@given(words=st.lists(TYPED, min_size=len(keymap.SCREENS), max_size=len(keymap.SCREENS)))
@example(words=[*EXAMPLE, *["D"] * len(keymap.SCREENS)][: len(keymap.SCREENS)])
def test_typed_text_changes_nothing(live_world: DemoWorld, words: list[str]) -> None:
    member = load_config(live_world.config_path).member(None)
    records = len(audit.read(member.name))
    before = fingerprint(live_world)
    asyncio.run(type_on_every_screen(member, words))
    assert len(audit.read(member.name)) == records  # no action reached the runner
    assert fingerprint(live_world) == before
