"""Drain to out: from ``binderctl drain --yes`` starting to the emulated federation
redirector dropping the member, against the waits the demo imposes on that path.

The figure is read from the redirector's own view (its ``/_emulator/hosts``), polled
every 20 ms while the drain runs. The baseline is what the demo makes the change wait
for, at the member's speed: helm-controller's install Job (``helm.INSTALL_SECONDS``), the
new binder pod's readiness (``charts.BINDER_READINESS_PERIOD``) and one redirector check
period (the config's ``[federation.check] period``). Each repeat resumes the member and
waits until the redirector has it back (after failed_period) before the next drain.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from benchmarks.measure import Row, Target
from benchmarks.suite import BINDERCTL, Suite
from binderctl.config import load_config
from binderctl.demo import DEMO_SPEED
from binderctl.demo.member.charts import BINDER_READINESS_PERIOD
from binderctl.demo.member.helm import INSTALL_SECONDS
from binderctl.demo.world import MEMBER

NAME = "drain-to-out"
POLL = 0.02
BACK_WITHIN = 120.0  # seconds for the member to be back in rotation between repeats


def _in_rotation(url: str) -> bool:
    document = httpx.get(url, timeout=5).json()
    return bool(document["hosts"][MEMBER]["in_rotation"])


def _until(url: str, wanted: bool, limit: float) -> float:
    deadline = time.monotonic() + limit
    while _in_rotation(url) != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the redirector did not see the member in_rotation={wanted}")
        time.sleep(POLL)
    return time.monotonic()


def run(suite: Suite) -> list[Row]:
    member = suite.busy_member()
    url = member.endpoints["federation redirector"] + "/_emulator/hosts"
    check = load_config(Path(member.env["BINDERCTL_CONFIG"])).federation.check
    imposed = (INSTALL_SECONDS + BINDER_READINESS_PERIOD) / DEMO_SPEED + check.period
    row = Row(
        NAME,
        "drain-to-out",
        "binderctl drain to the redirector dropping the member",
        "the demo's waits: install Job, binder readiness, one check period",
        "s",
        Target(1.2, 2.0),
    )
    for _ in range(suite.repeats(3, 1)):
        _until(url, True, BACK_WITHIN)
        started = time.monotonic()
        drain = subprocess.Popen(
            [BINDERCTL, "drain", "--yes"],
            env=member.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        out = _until(url, False, BACK_WITHIN)
        if drain.wait(timeout=BACK_WITHIN) != 0:
            raise RuntimeError("binderctl drain failed")
        row.add(out - started, imposed)
        subprocess.run(
            [BINDERCTL, "resume", "--yes"], env=member.env, capture_output=True, check=True
        )
    row.notes.append(
        f"imposed at speed {DEMO_SPEED:g}: install Job {INSTALL_SECONDS / DEMO_SPEED:.2f} s, "
        f"binder readiness {BINDER_READINESS_PERIOD / DEMO_SPEED:.2f} s, "
        f"check period {check.period:.2f} s"
    )
    return [row]
