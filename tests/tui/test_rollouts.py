"""The console under a rollout that cannot finish, and details on Enter, on a demo member
provisioned through the real pipeline. The situations are made as an operator meets
them: a bad image set with the real kubectl, the node cordoned through the API, builds
hung in the simulated member. Each test leaves the world as it found it."""

from __future__ import annotations

import os
import subprocess

from textual.pilot import Pilot
from textual.widgets import Static

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.demo.member import incidents
from binderctl.demo.world import DemoWorld
from binderctl.models import Component
from binderctl.screens.build_detail import BuildDetailScreen
from binderctl.screens.component_detail import ComponentDetailScreen
from binderctl.screens.confirm import ConfirmScreen
from binderctl.screens.event_detail import EventDetailScreen
from binderctl.screens.logs import LogsScreen, Source
from binderctl.services.kube import EVENTS, NODES, Kube, kubeconfig_path
from binderctl.widgets.live_table import LiveTable
from tests.kit.worlds import on_loop
from tests.kube.kube_kubectl import needs_kubectl
from tests.tui.tuikit import SIZE, deliberately, notifications, shown_text, until

NOPE = "9.9.9-nope"


def kubectl(member: MemberConfig, *args: str) -> str:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig_path(member.name))}
    done = subprocess.run(
        ["kubectl", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def component(app: BinderctlApp, name: str) -> Component | None:
    return None if app.model is None else app.model.components.get(name)


async def dashboard_components(app: BinderctlApp, pilot: Pilot) -> LiveTable:
    table = await until(pilot, lambda: app.screen.query("#components").first(LiveTable))
    await until(pilot, lambda: table.row_count == 4)
    table.focus()
    return table


async def cursor_on(pilot: Pilot, table: LiveTable, key: str) -> None:
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()


async def confirm_dialog(app: BinderctlApp, pilot: Pilot) -> ConfirmScreen:
    return await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)


async def open_component(app: BinderctlApp, pilot: Pilot, name: str) -> ComponentDetailScreen:
    """Back to the Dashboard, the cursor on ``name``'s row, Enter."""
    await deliberately(pilot, "1")
    table = await dashboard_components(app, pilot)
    await cursor_on(pilot, table, name)
    await deliberately(pilot, "enter")
    return await until(pilot, lambda: isinstance(app.screen, ComponentDetailScreen) and app.screen)


def warnings_of(dialog: ConfirmScreen) -> str:
    return " ".join(dialog.warnings)


async def test_enter_and_l_open_a_component(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await dashboard_components(app, pilot)
        await cursor_on(pilot, table, "binder")
        await deliberately(pilot, "l")
        logs = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen)
        assert logs.source == Source("binder")

        detail = await open_component(app, pilot, "binder")
        assert detail.component == "binder"
        pods = detail.query_one(LiveTable)
        await until(pilot, lambda: pods.row_count >= 1)
        more = detail.query_one("#component-more", Static)
        await until(pilot, lambda: "MinimumReplicasAvailable" in shown_text(more))
        text = shown_text(more)
        assert "deployment binderhub/binder" in text and "Revision" in text
        assert "done" in shown_text(detail.query_one("#component-summary", Static))
        pod = pods.current_key
        await deliberately(pilot, "l")
        logs = await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen)
        assert logs.source == Source(f"binderhub/{pod}")


@needs_kubectl
async def test_a_bad_image_is_a_stuck_rollout_and_rollback_fixes_it(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        table = await dashboard_components(app, pilot)
        running = await until(pilot, lambda: (c := component(app, "binder")) and c.image)
        bad = f"{running.rsplit(':', 1)[0]}:{NOPE}"
        kubectl(
            live_member, "set", "image", "deployment/binder", f"binder={bad}", "-n", "binderhub"
        )

        stuck = await until(pilot, lambda: (c := component(app, "binder")) and c.problem and c)
        await until(pilot, lambda: table.get_cell("binder", "rollout").plain != "")
        assert table.get_cell("binder", "rollout").plain == stuck.problem.reason
        # what runs, then what the template asks for (the workload poll brings it)
        image = await until(
            pilot, lambda: "→" in (t := table.get_cell("binder", "image").plain) and t
        )
        assert image == f"k8s-binderhub:{running.rsplit(':', 1)[1]} → k8s-binderhub:{NOPE}"
        panel = shown_text(app.screen.query_one("#attention", Static))
        assert "binder's rollout is stuck" in panel and "Z binder" in panel

        await pilot.press("colon", *"logs binder", "enter")  # two binder pods now
        await until(pilot, lambda: any("2 binder pods: showing" in n for n in notifications(app)))
        note = next(n for n in notifications(app) if "2 binder pods" in n)
        assert "the newest Ready one" in note and stuck.problem.pod not in note

        detail = await open_component(app, pilot, "binder")
        summary = detail.query_one("#component-summary", Static)
        await until(pilot, lambda: f"cannot pull {bad}" in shown_text(summary))
        await deliberately(pilot, "r")  # restart this component: it warns that it cannot help
        dialog = await confirm_dialog(app, pilot)
        assert dialog.question == "restart binder?"
        assert "restarting cannot help while the template names this image" in warnings_of(dialog)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ComponentDetailScreen))

        await deliberately(pilot, "Z")  # roll back this component
        dialog = await confirm_dialog(app, pilot)
        assert dialog.question == "rollback binder?"
        assert f"(k8s-binderhub:{NOPE}) -> the template of revision" in dialog.details
        await deliberately(pilot, "y")
        await until(pilot, lambda: any("rolled back binder" in n for n in notifications(app)))
        await until(pilot, lambda: (c := component(app, "binder")) and c.image == running)
        await until(pilot, lambda: (c := component(app, "binder")) and not c.problem)


async def test_a_restart_on_a_cordoned_node_warns_then_fails_with_the_reason(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    app = BinderctlApp(live_member)
    with Kube(live_member) as kube:
        (node,) = kube.list(NODES)
        name = node["metadata"]["name"]
        kube.patch(NODES, name, {"spec": {"unschedulable": True}})
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("colon", *"restart proxy", "enter")
                dialog = await confirm_dialog(app, pilot)
                assert f"node {name} is cordoned: the new proxy pod will stay Pending" in (
                    warnings_of(dialog)
                )
                await deliberately(pilot, "y")
                failed = await until(
                    pilot,
                    lambda: next((n for n in notifications(app) if "the restart of" in n), None),
                )
                assert "the restart of proxy cannot finish: the new proxy pod proxy-" in failed
                assert "is Pending: the node is cordoned" in failed
                assert "`binderctl resume` uncordons it" in failed
        finally:
            kube.patch(NODES, name, {"spec": {"unschedulable": False}})


async def test_restarting_dind_says_how_many_builds_it_fails_and_builds_open(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    member = live_world.cluster().member
    hung = on_loop(live_world, incidents.hang_build, member, 2400.0)
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        table = app.screen.query_one(LiveTable)
        key = await until(
            pilot, lambda: next((k.value for k in table.rows if k.value.endswith(hung)), None)
        )
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        detail = await until(
            pilot, lambda: isinstance(app.screen, BuildDetailScreen) and app.screen
        )
        await until(pilot, lambda: "reading" not in shown_text(detail.query_one("#detail")))
        text = shown_text(detail.query_one("#detail", Static))
        build = app.model.builds[key] if app.model else None
        assert build is not None and build.repo.rsplit("/", 1)[-1] in text
        assert build.ref in text and "Running" in text and "STUCK: running for more than" in text
        assert "ago): " in text  # the last log line, with its age

        await pilot.press("escape", "colon", *"restart dind", "enter")
        dialog = await confirm_dialog(app, pilot)
        assert f"1 build(s) in progress fail: {hung}" in dialog.details
        await deliberately(pilot, "y")  # recycling dind frees the hung build
        await until(pilot, lambda: any("deleted 1 dind pod(s)" in n for n in notifications(app)))
        done = next(n for n in notifications(app) if "deleted 1 dind pod(s)" in n)
        assert "daemon set" in done and "rolled out" in done


async def test_enter_on_an_event_shows_it_whole(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    long = "x" * 300 + " the end of a long message"
    with Kube(live_member) as kube:  # as a probe or a controller would record it
        kube.post(
            EVENTS,
            {
                "metadata": {"generateName": "probe-", "namespace": "binderhub"},
                "involvedObject": {
                    "kind": "Pod",
                    "name": "jupyter-probe",
                    "namespace": "binderhub",
                },
                "type": "Warning",
                "reason": "ProbeFailed",
                "message": long,
                "count": 7,
                "firstTimestamp": "2026-01-01T00:00:00Z",
                "lastTimestamp": "2026-01-01T00:05:00Z",
            },
            namespace="binderhub",
        )
    app = BinderctlApp(live_member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        table = app.screen.query_one(LiveTable)
        key = await until(
            pilot, lambda: next((k.value for k in table.rows if "ProbeFailed" in k.value), None)
        )
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        detail = await until(
            pilot, lambda: isinstance(app.screen, EventDetailScreen) and app.screen
        )
        await pilot.pause(0.3)
        text = " ".join(shown_text(detail.query_one("#detail", Static)).split())
        assert "the end of a long message" in text  # whole, not cut
        assert "Pod/jupyter-probe" in text and "Count 7" in text
        assert "First seen 2026-01-01 00:00:00 UTC" in text
        assert "Last seen 2026-01-01 00:05:00 UTC" in text
