"""4. Log view: lines a second the console's Logs screen ingests from a flooding pod,
against ``kubectl logs -f`` writing the same stream to /dev/null; the memory the console
holds after 1,000,000 lines against after 10,000; key presses during the flood.

The member's hub container floods its log (``Member.flood_logs`` without a rate) for
this whole benchmark: lines are made as fast as the reader takes them (the API server
holds at most a batch for a slower client), so each figure is that reader's ceiling.
In each repeat:

- the console (this process, ``App.run_test``) follows a quiet pod (the binder) and
  key presses (``t``, timestamps on and off) are timed: the key baseline;
- ``kubectl logs -f --timestamps --tail=1000`` follows the flood with its output on
  /dev/null; its lines are the bytes it wrote (``/proc/PID/io``) over the mean length of
  the stream's lines (``kubectl logs --tail`` once it is done): the ingest baseline;
- the console follows the flood: lines received by its ``LogView`` a second between the
  10,000th and the 1,000,000th line, the process's resident memory at both, and key
  presses in between.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable

from textual.pilot import Pilot

from benchmarks.keys import press_and_time
from benchmarks.measure import Row, Target, rss_mb
from benchmarks.suite import Suite
from binderctl.app import BinderctlApp
from binderctl.screens.logs import LogsScreen, Source
from binderctl.services.kube import PODS, Kube
from binderctl.widgets.log_view import LogView

NAME = "log-view"
SIZE = (140, 44)
NAMESPACE = "binderhub"
FLOOD = ("hub", "hub")  # component, container
QUIET = "binder"
PRESSES = 20
PRESS_SPACING = 0.15
KUBECTL_SECONDS = 5.0
WAIT_SECONDS = 300.0


def _pod(kube: Kube, component: str) -> str:
    pods = kube.list(PODS, NAMESPACE, labelSelector=f"component={component}")
    return str(pods[0]["metadata"]["name"])


def _written(pid: int) -> int:
    with open(f"/proc/{pid}/io", encoding="ascii") as io:
        for line in io:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/PID/io")


def kubectl_lines_per_second(env: dict[str, str], pod: str, container: str) -> float:
    where = ["-n", NAMESPACE, pod, "-c", container, "--timestamps"]
    follow = subprocess.Popen(
        ["kubectl", "logs", "-f", *where, "--tail=1000"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)  # started and through the backlog
        before, started = _written(follow.pid), time.perf_counter()
        time.sleep(KUBECTL_SECONDS)
        written, elapsed = _written(follow.pid) - before, time.perf_counter() - started
    finally:
        follow.kill()
        follow.wait()
    sample = subprocess.run(
        ["kubectl", "logs", *where, "--tail=5000"], env=env, capture_output=True, check=True
    ).stdout  # the last lines kubectl was sent
    line_bytes = len(sample) / sample.count(b"\n")
    return written / line_bytes / elapsed


async def _until(pilot: Pilot, count: Callable[[], int], lines: int) -> float:
    """When the view had received ``lines`` lines (``count``) of what it follows."""
    deadline = time.perf_counter() + WAIT_SECONDS
    while count() < lines:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the Logs screen never got to line {lines:,}")
        await pilot.pause(0.02)
    return time.perf_counter()


def _follow(screen: LogsScreen, view: LogView, pod: str) -> Callable[[], int]:
    """Follow ``pod`` from now on; what tells how many of its lines the view received
    (the view counts the source it shows only)."""
    screen.follow_source(Source(f"{NAMESPACE}/{pod}"))
    return lambda: view.received


async def _keys(app: BinderctlApp, view: LogView) -> float:
    latencies = await asyncio.to_thread(
        press_and_time, app, ("t",), lambda: view.timestamps, PRESSES, PRESS_SPACING
    )
    return max(latencies)


async def _measure(suite: Suite, flood_pod: str, quiet_pod: str, rows: list[Row]) -> None:
    ingest, memory, keys = rows
    first, last = suite.scaled(10_000, 1_000), suite.scaled(1_000_000, 50_000)
    app = BinderctlApp(suite.member_config, start="logs")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        view = screen.log_view
        for _ in range(suite.repeats(3, 2)):
            quiet = _follow(screen, view, quiet_pod)
            await _until(pilot, quiet, 1)
            quiet_keys = await _keys(app, view)
            baseline = kubectl_lines_per_second(suite.env, flood_pod, FLOOD[1])
            flood = _follow(screen, view, flood_pod)
            started = await _until(pilot, flood, first)
            received, memory_first = flood(), rss_mb()
            flood_keys = asyncio.create_task(_keys(app, view))
            ended = await _until(pilot, flood, last)
            rate = (flood() - received) / (ended - started)
            memory.add(rss_mb(), memory_first)
            ingest.add(rate, baseline)
            keys.add(await flood_keys * 1000, quiet_keys * 1000)
    memory.notes.append(f"resident memory after {first:,} and after {last:,} lines")
    ingest.notes.append("the hub container floods as fast as its reader reads")


def run(suite: Suite) -> list[Row]:
    member = suite.busy_member()
    with Kube(suite.member_config) as kube:
        flood_pod, quiet_pod = _pod(kube, FLOOD[0]), _pod(kube, QUIET)
    rows = [
        Row(NAME, "log-ingest", "Logs screen", "kubectl logs -f > /dev/null", "lines/s",
            Target(0.8, at_least=True)),
        Row(NAME, "log-memory", "memory after many lines", "memory after few lines", "MB",
            Target(1.0, 50.0)),
        Row(NAME, "log-keys", "slowest key press, flooding", "slowest key press, quiet pod",
            "ms", Target(0.0, 100.0)),
    ]  # fmt: skip
    member.command(
        "flood",
        namespace=NAMESPACE,
        pod=flood_pod,
        container=FLOOD[1],
        per_second=None,
    )
    try:
        asyncio.run(_measure(suite, flood_pod, quiet_pod, rows))
    finally:
        member.command("stop_log", namespace=NAMESPACE, pod=flood_pod, container=FLOOD[1])
    return rows
