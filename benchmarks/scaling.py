"""7. Scaling: how the cost grows with the member, at 250, 1,000 and 4,000 sessions
(25, 100 and 400 with ``--quick``), each size a demo member of its own.

At each size, per repeat:

- status: ``binderctl status -o json``, spawn to exit;
- model list: a ``ClusterModel`` started in this process until it holds its first whole
  picture (every watch listed, the first poll done);
- sessions tick: the Sessions screen (``App.run_test``, the model stopped once the
  table is full) applying a tick that changes 5 % of the sessions, main-thread seconds
  (as the sessions-table benchmark measures it);
- kubectl: ``kubectl get pods -A -o json``, spawn to exit, beside them.

Each row's figure is the cost per session (seconds over sessions) at the largest size,
its baseline that at the middle one; the target is linear or better (at most 1.2x).
The notes give every size, with kubectl's figures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.measure import Row, Target, timed_run
from benchmarks.sessions_table import SIZE, Ticker, filled, main_thread_seconds
from benchmarks.suite import BINDERCTL, Suite
from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.screens.sessions import SessionsScreen
from binderctl.services.cluster import ClusterModel
from binderctl.services.kube import Kube

NAME = "scaling"
TICK_SHARE = 0.05
FILLED_SHARE = 0.8  # of the sessions shown before the ticks (a few end meanwhile)
SYNC_TIMEOUT = 300.0
KUBECTL = ["kubectl", "get", "pods", "-A", "-o", "json"]


@dataclass
class Size:
    sessions: int
    status: list[float] = field(default_factory=list)
    model: list[float] = field(default_factory=list)
    tick: list[float] = field(default_factory=list)
    kubectl: list[float] = field(default_factory=list)


def model_seconds(member: MemberConfig) -> float:
    kube = Kube(member)
    model = ClusterModel(member, kube, disk_interval=None, record_history=False)
    started = time.perf_counter()
    model.start()
    try:
        if not model.wait_synced(SYNC_TIMEOUT):
            raise RuntimeError("the live model never listed the member")
        return time.perf_counter() - started
    finally:
        model.stop()
        kube.close()


async def tick_seconds(member: MemberConfig, sessions: int, repeats: int) -> list[float]:
    app = BinderctlApp(member, start="sessions")
    async with app.run_test(size=SIZE) as pilot:
        base = await filled(app, pilot, round(FILLED_SHARE * sessions))
        assert app.cluster is not None
        app.cluster.stop()  # from now on only the ticks made here reach the screen
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        ticker = Ticker(base, TICK_SHARE)
        ticks = []
        for _ in range(repeats):
            app.model = ticker.tick()
            ticks.append(await main_thread_seconds(pilot, screen))
        return ticks


def measure(suite: Suite, sessions: int) -> Size:
    size = Size(sessions)
    with suite.member_with(sessions) as (member, config):
        for _ in range(suite.repeats(3, 1)):
            size.kubectl.append(timed_run(KUBECTL, member.env))
            size.status.append(timed_run([BINDERCTL, "status", "-o", "json"], member.env))
            size.model.append(model_seconds(config))
        size.tick = asyncio.run(tick_seconds(config, sessions, suite.repeats(5, 3)))
    return size


def per_session(samples: list[float], sessions: int) -> float:
    return statistics.median(samples) / sessions


def row(name: str, label: str, sizes: list[Size], samples: Callable[[Size], list[float]]) -> Row:
    middle, largest = sizes[1], sizes[-1]
    scaled = Row(
        NAME,
        name,
        f"{label}, {largest.sessions:,} sessions",
        f"{label}, {middle.sessions:,} sessions",
        "ms/session",
        Target(1.2),
    )
    scaled.add(
        1000 * per_session(samples(largest), largest.sessions),
        1000 * per_session(samples(middle), middle.sessions),
    )
    scaled.notes.append(
        "; ".join(
            f"{size.sessions:,}: {statistics.median(samples(size)):.3g} s = "
            f"{1000 * per_session(samples(size), size.sessions):.3g} ms/session "
            f"(kubectl get pods -A -o json {statistics.median(size.kubectl):.3g} s = "
            f"{1000 * per_session(size.kubectl, size.sessions):.3g} ms/session)"
            for size in sizes
        )
    )
    return scaled


def run(suite: Suite) -> list[Row]:
    sizes = [measure(suite, n) for n in suite.scaled((250, 1000, 4000), (25, 100, 400))]
    return [
        row("scale-status", "binderctl status -o json", sizes, lambda s: s.status),
        row("scale-model", "live model's first list", sizes, lambda s: s.model),
        row("scale-tick", "sessions table 5 % tick", sizes, lambda s: s.tick),
    ]
