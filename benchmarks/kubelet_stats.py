"""10. The live model's reads of the kubelet's stats at 1,000 sessions, against
``kubectl get --raw`` of the same summary; and key presses while the reads run.

The figure is one ``ClusterModel.poll_traffic()`` against the busy member: the stats
summary and cAdvisor's packet counters fetched through the API server's node proxy,
decoded, parsed and added to every session's window. The baseline fetches and decodes
the summary alone: ``kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary`` (a
process from spawn to exit) and ``json.loads`` of what it printed. Both run one after
the other in every repeat.

Key presses (cursor down/up) go in from another thread, each at a random moment of a
read of the kubelet or of the redraw of every session's figures that follows it (the
live model reads every 10 s; here every press meets one); the baseline is the same
presses with no reads. As in the sessions-table benchmark, the live model's watches
and its other polls are stopped once the screen is full, so that only these reads
reach the screen. On the Sessions screen (the figure) and on the Abuse screen,
which ranks every session on each read (in the notes).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import threading
import time

from benchmarks.keys import press_and_time
from benchmarks.measure import Row, Target
from benchmarks.suite import Suite
from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.screens.table import TableScreen
from binderctl.services.cluster import ClusterModel
from binderctl.services.kube import NODES, Kube
from binderctl.widgets.live_table import LiveTable

NAME = "kubelet-stats"
SIZE = (140, 44)
PRESSES = 20
READ_SECONDS = 0.15  # a press lands this long into a read at most
SETTLE_SECONDS = 0.5
FILL_TIMEOUT = 120.0


def kubectl_fetch_and_decode(path: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        ["kubectl", "get", "--raw", path], env=env, capture_output=True, timeout=300, check=True
    )
    json.loads(done.stdout)
    return time.perf_counter() - started


def model_poll(model: ClusterModel) -> float:
    started = time.perf_counter()
    model.poll_traffic()
    return time.perf_counter() - started


def in_process_fetch(kube: Kube, node: str) -> float:
    """The summary alone through binderctl's client, for the notes."""
    from binderctl.services.kube import decode

    started = time.perf_counter()
    response = kube.open("GET", NODES, name=node, sub="proxy/stats/summary")
    decode(response.data)
    response.release_conn()
    return time.perf_counter() - started


def _press_during_reads(app: BinderctlApp, table: LiveTable, reading: bool, presses: int) -> float:
    """The slowest of ``presses`` key presses, each pressed at a random moment of a read
    of the kubelet (or of the redraw it causes) when ``reading``; from a thread."""
    model = app.cluster
    assert model is not None
    rng = random.Random(0)
    slowest = 0.0
    for index in range(presses):
        reader = threading.Thread(target=lambda: (model.poll_traffic(), model.flush()))
        if reading:
            reader.start()
        time.sleep(rng.uniform(0.0, READ_SECONDS))
        key = ("down", "up")[index % 2]
        (latency,) = press_and_time(app, (key,), lambda: table.cursor_row, 1, 0.0)
        slowest = max(slowest, latency)
        if reading:
            reader.join()
        time.sleep(SETTLE_SECONDS)  # the redraw after the read is over
    return slowest


async def _measure_keys(
    config: MemberConfig, sessions: int, start: str, repeats: int, presses: int
) -> list[tuple[float, float]]:
    """(slowest press with reads, slowest press without) on screen ``start``, in ms."""
    app = BinderctlApp(config, start=start)
    found = []
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.monotonic() + FILL_TIMEOUT
        while time.monotonic() < deadline:
            screen = app.screen
            if isinstance(screen, TableScreen) and screen.table.row_count >= 0.9 * sessions:
                break
            await pilot.pause(0.1)
        else:
            raise RuntimeError(f"the {start} screen never showed the sessions")
        table = app.screen.query_one(LiveTable)
        assert app.cluster is not None
        # its watches and other polls stop: only the reads made here reach the screen
        app.cluster.stop()
        for _ in range(repeats):
            reading = await asyncio.to_thread(_press_during_reads, app, table, True, presses)
            calm = await asyncio.to_thread(_press_during_reads, app, table, False, presses)
            found.append((reading * 1000, calm * 1000))
    return found


def _measure(
    suite: Suite, config: MemberConfig, env: dict[str, str], poll_row: Row, key_row: Row
) -> None:
    with Kube(config) as kube:
        (node,) = [o["metadata"]["name"] for o in kube.list(NODES)]
        path = f"/api/v1/nodes/{node}/proxy/stats/summary"
        model = ClusterModel(
            config, kube, stats_interval=None, disk_interval=None, record_history=False
        )
        with model:
            model.wait_synced()
            sessions = len(model.state().sessions)
            raw = []
            for _ in range(suite.repeats(7, 3)):
                baseline = kubectl_fetch_and_decode(path, env)
                figure = model_poll(model)
                poll_row.add(figure, baseline)
                raw.append(in_process_fetch(kube, node))
            traffic = len(model.state().traffic)
    poll_row.notes.append(
        f"{sessions:,} sessions, {traffic:,} with figures; the summary alone through "
        f"binderctl's client (fetch + orjson): {sorted(raw)[len(raw) // 2]:.3f} s"
    )
    repeats, presses = suite.repeats(3, 1), suite.scaled(PRESSES, 6)
    measured = asyncio.run(_measure_keys(config, sessions, "sessions", repeats, presses))
    for figure, baseline in measured:
        key_row.add(figure, baseline)
    if suite.options.quick:
        return
    abuse = asyncio.run(_measure_keys(config, sessions, "abuse", repeats, presses))
    worst = sorted(figure for figure, _ in abuse)[len(abuse) // 2]
    calm = sorted(baseline for _, baseline in abuse)[len(abuse) // 2]
    key_row.notes.append(
        f"the Abuse screen: slowest key press {worst:.0f} ms with reads, {calm:.0f} ms without"
    )


def run(suite: Suite) -> list[Row]:
    poll_row = Row(
        NAME,
        "stats-poll",
        "live model's read of the kubelet",
        "kubectl get --raw of the summary + decode",
        "s",
        Target(1.5),
    )
    key_row = Row(
        NAME,
        "stats-keys",
        "slowest key press, Sessions screen, reads",
        "slowest key press, no reads",
        "ms",
        Target(0.0, 50.0),
    )
    # a member of its own whose sessions have just started (the busy one's thin out)
    with suite.member_with(suite.options.sessions) as (member, config):
        _measure(suite, config, member.env, poll_row, key_row)
    return [poll_row, key_row]
