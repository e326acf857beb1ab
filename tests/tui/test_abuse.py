"""The Abuse view on a busy demo member: a miner and a scanner among 500 sessions rank
first within two of the live model's reads of the kubelet. On the live demo member,
`:ban REPO --kill` from the console keeps a miner's repository out (its sessions gone,
a new launch refused by BinderHub, `bans` lists it, one audit record); the header says
when Hetzner has locked the server or blocked its IPv4.

(500 sessions fill the node's memory with their requests: nothing new schedules there,
not a new binder pod either, so the ban runs on the smaller member.)"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig, load_config
from binderctl.demo.member import incidents
from binderctl.demo.member.usage import MINER, SCANNER
from binderctl.demo.world import DemoWorld
from binderctl.screens.abuse import AbuseScreen
from binderctl.screens.confirm import ConfirmScreen
from binderctl.services import audit
from binderctl.services.kube import node_address
from binderctl.widgets.header import render_header
from binderctl.widgets.live_table import LiveTable
from tests.kit.cli import run_cli
from tests.kit.launches import launch_events
from tests.kit.worlds import on_loop
from tests.tui.tuikit import (
    SIZE,
    deliberately,
    provisioned_world,
    running_sessions,
    shown_text,
    until,
)

SESSIONS = 498  # and a miner and a scanner: 500


@pytest.fixture(scope="module")
def busy_world() -> Iterator[DemoWorld]:
    with provisioned_world(SESSIONS, seed=17) as world:
        yield world


@pytest.fixture
def busy_member(busy_world: DemoWorld) -> MemberConfig:
    return load_config(busy_world.config_path).member(None)


def launch(member: MemberConfig, spec: str) -> list[dict]:
    return launch_events(member, node_address(member), spec)


def top(table: LiveTable, count: int) -> list[str]:
    return [str(row.key.value).rsplit("/", 1)[-1] for row in table.ordered_rows[:count]]


async def test_the_abuse_view_ranks_the_miner_and_the_scanner_first(
    busy_world: DemoWorld, busy_member: MemberConfig
) -> None:
    member = busy_world.cluster().member
    start = functools.partial(incidents.misbehave, member, count=1, running=True)
    _, (miner,) = on_loop(busy_world, start, MINER)
    _, (scanner,) = on_loop(busy_world, start, SCANNER)
    app = BinderctlApp(busy_member, start="abuse")
    async with app.run_test(size=SIZE) as pilot:
        reads = on_loop(busy_world, lambda: member.kubelet_stats.summaries)
        screen = await until(pilot, lambda: isinstance(app.screen, AbuseScreen) and app.screen)
        table = screen.query_one(LiveTable)
        await until(pilot, lambda: set(top(table, 2)) == {miner, scanner}, seconds=60)
        polls = on_loop(busy_world, lambda: member.kubelet_stats.summaries) - reads
        assert polls <= 2, f"ranked first only after {polls} reads of the kubelet"
        assert table.row_count == SESSIONS + 2
        panel = shown_text(screen.query_one("#suspect", Static))
        assert "Why" in panel and "Same repository" in panel


async def test_ban_kill_from_the_console_keeps_the_miner_out(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    member = live_world.cluster().member
    miner_repo, miners = on_loop(live_world, incidents.misbehave, member, MINER, 2)
    spec = miner_repo.removeprefix("https://github.com/") + "/HEAD"
    before = len(audit.read(live_member.name))
    app = BinderctlApp(live_member, start="abuse")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: set(miners) <= running_sessions(live_world))
        await pilot.press("colon", *f"ban {miner_repo} --kill --reason mining", "enter")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "kill 2 session(s)" in dialog.details
        await deliberately(pilot, "y")
        records = await until(pilot, lambda: audit.read(live_member.name)[before:], seconds=60)
    assert not set(miners) & running_sessions(live_world)
    (record,) = records
    assert (record.action, record.outcome) == ("ban", "ok")
    assert record.targets == {miner_repo: "banned", **dict.fromkeys(miners, "deleted")}
    assert launch(live_member, spec) == [
        {
            "phase": "failed",
            "message": f"Sorry, {spec} is not allowed to launch. Please contact admins for "
            "more info!",
        }
    ]
    listed = json.loads(run_cli(live_world, "bans", "-o", "json").stdout)["bans"]
    assert [(b["repo"], b["reason"]) for b in listed] == [(miner_repo, "mining")]
    assert run_cli(live_world, "unban", miner_repo, "--yes").returncode == 0  # as found


async def test_the_header_says_hetzner_locked_the_server(
    live_world: DemoWorld, live_member: MemberConfig
) -> None:
    project = live_world.hetzner.project
    (server,) = project.servers.values()
    block = functools.partial(project.abuse_block, server.id)
    on_loop(live_world, functools.partial(block, lock=True))
    try:
        status = run_cli(live_world, "status", "-o", "json")
        assert status.returncode == 1  # error-level items
        kinds = {item["kind"] for item in json.loads(status.stdout)["attention"]}
        assert {"server-locked", "ipv4-blocked"} <= kinds
        app = BinderctlApp(live_member)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "SERVER LOCKED" in render_header(app.header_state).plain)
            assert "IPv4 BLOCKED" in render_header(app.header_state).plain
    finally:
        on_loop(live_world, functools.partial(block, blocked=False))
