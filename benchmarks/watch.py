"""`binderctl watch`: how soon a fault reaches a webhook, and whether memory stays flat.

Alert latency: a real ``binderctl watch`` process follows the busy demo member, with a
real HTTP receiver as its target. A disk-pressure drill starts; the figure is the time
from the drill's start to the receiver taking the firing notice; the baseline is what
the watcher is told to wait: the rule's "for" plus one evaluation interval. The drill is
then resolved (prune-images) and the resolved notice awaited before the next repeat.

Memory: the watcher's evaluation cycle (live model state, attention policy, tracker)
run in this process against the same member; the process's resident memory after
10,000 cycles against after 100, both after a garbage collection.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.measure import Row, Target
from benchmarks.suite import BINDERCTL, Suite
from binderctl.config import load_config

NAME = "watch"
FOR_SECONDS = 2.0
INTERVAL_SECONDS = 1.0
WITHIN = 120.0  # seconds: a bound on a hung run, not a measurement
HOOK_ENV = "BINDERCTL_WATCH_BENCH"
WATCH_TABLE = f"""
[watch]
interval = "{INTERVAL_SECONDS:g}s"
[watch.targets.bench]
kind = "webhook"
[watch.rules.disk-pressure]
for = "{FOR_SECONDS:g}s"
"""


class _Receiver:
    """Records when each notice arrived (monotonic clock) and its JSON."""

    def __init__(self) -> None:
        self.arrived: list[tuple[float, dict[str, Any]]] = []
        lock = threading.Lock()
        arrived = self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    arrived.append((time.monotonic(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, state: str, count: int) -> float:
        deadline = time.monotonic() + WITHIN
        while True:
            found = [at for at, n in self.arrived if n["state"] == state]
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {state} notice reached the receiver")
            time.sleep(0.01)


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([BINDERCTL, *args], env=env, capture_output=True, check=True)


def _latency(suite: Suite, env: dict[str, str], config: Path) -> Row:
    row = Row(
        NAME,
        "watch-alert",
        "disk-pressure drill to the webhook receiving it",
        'the rule\'s "for" + one evaluation interval',
        "s",
        Target(1.2, 1.0),
    )
    receiver = _Receiver()
    watch_env = env | {"BINDERCTL_CONFIG": str(config), HOOK_ENV: receiver.url}
    watcher = subprocess.Popen(
        [BINDERCTL, "watch"],
        env=watch_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3 * INTERVAL_SECONDS)  # its live model has listed the member
        for repeat in range(1, suite.repeats(3, 1) + 1):
            started = time.monotonic()
            _cli(env, "demo", "drill", "start", "disk-pressure")
            row.add(receiver.wait("firing", repeat) - started, FOR_SECONDS + INTERVAL_SECONDS)
            _cli(env, "prune-images", "--yes")
            receiver.wait("resolved", repeat)
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
        receiver.server.shutdown()
    return row


def _rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _memory(config_path: Path, state: Path, cycles: int) -> Row:
    from binderctl.services.watch_findings import MemberJudge
    from binderctl.services.watcher import Watcher

    row = Row(
        NAME,
        "watch-memory",
        f"resident memory after {cycles:,} evaluation cycles",
        "after 100 cycles",
        "MB",
        Target(1.0, 20.0),
    )
    config = load_config(config_path)
    with MemberJudge(config) as judge:
        watcher = Watcher(
            config,
            config.members.values(),
            judge=judge,
            senders={},
            root=state,
            log=lambda event, fields: None,
        )
        judge.settle(watcher.members, timeout=WITHIN)
        for _ in range(100):
            watcher.evaluate()
        after_100 = _rss()
        for _ in range(cycles - 100):
            watcher.evaluate()
        row.add(_rss() / 1e6, after_100 / 1e6)
    return row


def run(suite: Suite) -> list[Row]:
    member = suite.busy_member()
    env = dict(member.env)
    folder = Path(tempfile.mkdtemp(prefix="binderctl-watch-bench-"))
    try:
        config = folder / "config.toml"
        config.write_text(Path(env["BINDERCTL_CONFIG"]).read_text() + WATCH_TABLE)
        shutil.rmtree(Path(env["BINDERCTL_HOME"]) / "state" / "watch", ignore_errors=True)
        latency = _latency(suite, env, config)
        memory = _memory(config, folder / "state", suite.scaled(10_000, 1_000))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    latency.notes.append(
        f'rule "for" {FOR_SECONDS:g} s, evaluation every {INTERVAL_SECONDS:g} s; the node '
        "condition reaches the watcher's live model through its watch"
    )
    return [latency, memory]
