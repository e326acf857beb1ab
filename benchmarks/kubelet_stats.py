"""10. The live model's reads of the kubelet's stats at 1,000 sessions, against
``kubectl get --raw`` of the same summary; and key presses while the reads run.

The figure is one ``ClusterModel.poll_traffic()`` against the busy member: the stats
summary and cAdvisor's packet counters fetched through the API server's node proxy,
decoded, parsed and added to every session's window. The baseline fetches and decodes
the summary alone: ``kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary`` (a
process from spawn to exit) and ``json.loads`` of what it printed. Both run one after
the other in every repeat.

Key presses (cursor down/up on the Abuse screen, which ranks every session on each
change) go in from another thread while a thread reads the kubelet back to back (a
poll interval of zero, the worst case) and the screen redraws for each read; the
baseline is the same presses with no reads.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time

from benchmarks.keys import press_and_time
from benchmarks.measure import Row, Target
from benchmarks.suite import Suite
from binderctl.app import BinderctlApp
from binderctl.screens.abuse import AbuseScreen
from binderctl.services.cluster import ClusterModel
from binderctl.services.kube import NODES, Kube
from binderctl.widgets.live_table import LiveTable

NAME = "kubelet-stats"
SIZE = (140, 44)
PRESSES = 20
PRESS_SPACING = 0.15
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


async def _keys(app: BinderctlApp, table: LiveTable, polling: bool) -> float:
    """The slowest of PRESSES key presses, with the kubelet read back to back when
    ``polling``."""
    model = app.cluster
    assert model is not None
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            model.poll_traffic()
            model.flush()

    reader = threading.Thread(target=poll, name="bench-stats", daemon=True)
    if polling:
        reader.start()
    try:
        latencies = await asyncio.to_thread(
            press_and_time, app, ("down", "up"), lambda: table.cursor_row, PRESSES, PRESS_SPACING
        )
    finally:
        done.set()
        if polling:
            reader.join()
    return max(latencies)


async def _measure_keys(suite: Suite, row: Row) -> None:
    app = BinderctlApp(suite.member_config, start="abuse")
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.monotonic() + FILL_TIMEOUT
        while time.monotonic() < deadline:
            screen = app.screen
            if isinstance(screen, AbuseScreen) and screen.table.row_count >= 0.9 * (
                suite.options.sessions
            ):
                break
            await pilot.pause(0.1)
        else:
            raise RuntimeError("the Abuse screen never ranked the sessions")
        table = app.screen.query_one(LiveTable)
        for _ in range(suite.repeats(3, 2)):
            row.add(await _keys(app, table, True) * 1000, await _keys(app, table, False) * 1000)


def run(suite: Suite) -> list[Row]:
    member = suite.busy_member()
    env = member.env
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
        "slowest key press, reads back to back",
        "slowest key press, no reads",
        "ms",
        Target(0.0, 50.0),
    )
    with Kube(suite.member_config) as kube:
        (node,) = [o["metadata"]["name"] for o in kube.list(NODES)]
        path = f"/api/v1/nodes/{node}/proxy/stats/summary"
        model = ClusterModel(
            suite.member_config, kube, stats_interval=None, disk_interval=None,
            record_history=False,
        )  # fmt: skip
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
    asyncio.run(_measure_keys(suite, key_row))
    return [poll_row, key_row]
