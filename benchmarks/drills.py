"""Fire drills through the real console: time to detect, key presses, time to mitigate.

For each drill the console (this process, ``App.run_test``, 160x48) follows the busy demo
member. The drill is started through the demo's control endpoint; then:

- detect: from the start until the console's attention items (what its Needs-attention
  panel shows) name it, against the interval of the source that carries it plus 1 s;
- keys: the presses from the Dashboard to a confirmed mitigation, taken as the screen
  shows them: ``f`` (fix the worst item that has a fix) and ``y`` in the dialog, after
  checking that the worst fixable item is the drill's;
- mitigate: from the first press until the demo world says the drill is resolved, against
  the same fix run headless (``binderctl FIX --yes``) on the same drill started again:
  what the demo's waits impose, measured side by side.

A drill whose fix is not a console key (it resolves by itself, or needs `--provision`)
is measured for detection only; the notes say so.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot

from benchmarks.measure import Row, Target
from benchmarks.suite import BINDERCTL, Suite
from binderctl.app import CERTIFICATE_SECONDS, BinderctlApp
from binderctl.demo import DEMO_SPEED
from binderctl.demo.drills.catalogue import DRILLS
from binderctl.demo.drills.client import DrillClient
from binderctl.models import Attention
from binderctl.screens.confirm import ConfirmScreen
from binderctl.screens.typing import READ_SECONDS
from binderctl.services.cluster import ClusterModel
from binderctl.widgets.attention import first_fix

NAME = "drills"
SIZE = (160, 48)
WITHIN = 180.0  # seconds: a bound on a hung drill, not a measurement
POLL = 0.05
POLL_INTERVAL = ClusterModel.__init__.__kwdefaults__["poll_interval"]
HEALTH_INTERVAL = ClusterModel.__init__.__kwdefaults__["health_interval"]


@dataclass(frozen=True)
class Plan:
    name: str
    detect_interval: float  # the source that carries it: the model's poll, /health, ...
    fix: tuple[str, ...] = ()  # the headless fix; () = none by key
    duration: float | None = None  # simulated seconds, for drills that end by themselves


PLANS = (
    Plan("hung-build", POLL_INTERVAL, ("restart", "dind")),
    Plan("disk-pressure", POLL_INTERVAL, ("prune-images",)),
    Plan("cert-expiring", CERTIFICATE_SECONDS, ("renew-certs",)),
    Plan("registry-down", HEALTH_INTERVAL, duration=300.0),  # longer than a /health poll
    Plan("launch-storm", POLL_INTERVAL),
)
QUICK = ("hung-build", "disk-pressure")


def _resolved(client: DrillClient) -> bool:
    run = client.status().get("current") or {}
    return bool(run.get("state") == "resolved")


def _stop(client: DrillClient) -> None:
    run = client.status().get("current") or {}
    if run.get("state") == "running":
        client.stop()


async def _until(check: Callable[[], bool], what: str) -> float:
    """Until ``check()`` (run in a thread: it may block) is true; the moment it was."""
    deadline = time.monotonic() + WITHIN
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise RuntimeError(f"drills: timed out waiting for {what}")
        await asyncio.sleep(POLL)
    return time.monotonic()


@dataclass
class Seen:
    detect: float
    presses: int | None = None  # None: no console key fixes it
    mitigate: float | None = None
    note: str = ""


def _fix(item: Attention) -> str:
    return " ".join(word for word in (item.action, item.target) if word)


def _named(app: BinderctlApp, kinds: tuple[str, ...]) -> bool:
    return any(item.kind in kinds for item in app.header_state.attention)


async def _drill(app: BinderctlApp, pilot: Pilot[int], client: DrillClient, plan: Plan) -> Seen:
    kinds = DRILLS[plan.name].kinds
    await _until(lambda: not _named(app, kinds), f"{plan.name}: a clean start")
    started = time.monotonic()
    await asyncio.to_thread(client.start, plan.name, plan.duration)
    detected = await _until(
        lambda: _named(app, kinds),
        f"{plan.name} named (the console shows "
        f"{[i.kind for i in app.header_state.attention]}; the drill: {client.status()})",
    )
    result = Seen(detected - started)
    worst = first_fix(app.header_state.attention)
    if not plan.fix:
        result.note = "no console key fixes it"
    elif worst is None or _fix(worst) not in DRILLS[plan.name].fixes:
        shown = f"{worst.kind} ({_fix(worst)})" if worst else None
        result.note = f"the worst fixable item is {shown}, not one of the drill's fixes"
    else:
        pressed = time.monotonic()
        await pilot.press("f")
        await _until(lambda: isinstance(app.screen, ConfirmScreen), "the dialog")
        await pilot.pause(READ_SECONDS)  # y counts once the dialog could be read
        await pilot.press("y")
        result.presses = 2
        result.mitigate = await _until(lambda: _resolved(client), "resolved") - pressed
    await asyncio.to_thread(_stop, client)
    return result


async def _console(suite: Suite, plans: tuple[Plan, ...]) -> dict[str, Seen]:
    client = DrillClient()
    app = BinderctlApp(suite.member_config, config_path=Path(suite.env["BINDERCTL_CONFIG"]))
    seen: dict[str, Seen] = {}
    async with app.run_test(size=SIZE) as pilot:
        await _until(lambda: app.model is not None, "the console's first picture")
        for plan in plans:
            seen[plan.name] = await _drill(app, pilot, client, plan)
    return seen


def _status_names(env: dict[str, str], kinds: tuple[str, ...]) -> bool:
    done = subprocess.run(
        [BINDERCTL, "status", "-o", "json"], env=env, capture_output=True, text=True, check=False
    )
    return any(
        item["kind"] in kinds for item in json.loads(done.stdout or "{}").get("attention", [])
    )


def _headless(env: dict[str, str], plan: Plan) -> float:
    """The same drill fixed by the CLI as soon as `status` names it: the waits the demo
    imposes on the fix, without the console."""
    client = DrillClient()
    kinds = DRILLS[plan.name].kinds
    client.start(plan.name, plan.duration)
    deadline = time.monotonic() + WITHIN
    while not _status_names(env, kinds):
        if time.monotonic() > deadline:
            raise RuntimeError(f"drills: status never named {plan.name}")
    fixed = time.monotonic()
    subprocess.run([BINDERCTL, *plan.fix, "--yes"], env=env, capture_output=True, check=True)
    while not _resolved(client):
        if time.monotonic() > deadline:
            raise RuntimeError(f"drills: {plan.name} not resolved by its headless fix")
        time.sleep(POLL)
    return time.monotonic() - fixed


def run(suite: Suite) -> list[Row]:
    suite.busy_member()
    plans = tuple(p for p in PLANS if not suite.options.quick or p.name in QUICK)
    seen = asyncio.run(_console(suite, plans))
    rows = []
    for plan in plans:
        result = seen[plan.name]
        detect = Row(
            NAME, f"drill-{plan.name}-detect", "drill start to the console naming it",
            "its source's polling interval", "s", Target(1.0, 1.0),
        )  # fmt: skip
        detect.add(result.detect, plan.detect_interval)
        rows.append(detect)
        if result.note:
            detect.notes.append(f"{plan.name}: {result.note}")
        if result.presses is None or result.mitigate is None:
            continue
        keys = Row(
            NAME, f"drill-{plan.name}-keys", "key presses, Dashboard to confirmed fix",
            "the target's 4 presses", "keys", Target(1.0),
        )  # fmt: skip
        keys.add(float(result.presses), 4.0)
        mitigate = Row(
            NAME, f"drill-{plan.name}-mitigate", "first key press to resolved",
            f"`binderctl {' '.join(plan.fix)} --yes` to resolved", "s", Target(1.2, 2.0),
        )  # fmt: skip
        mitigate.add(result.mitigate, _headless(dict(suite.env), plan))
        rows += [keys, mitigate]
    rows[0].notes.append(
        f"the demo at speed {DEMO_SPEED:g}; the console polls every {POLL_INTERVAL:g} s, "
        f"/health every {HEALTH_INTERVAL:g} s, the client certificate every "
        f"{CERTIFICATE_SECONDS:g} s"
    )
    return rows
