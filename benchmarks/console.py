"""2. Console start, in a pseudo-terminal of the same size for every program, timed until
text appears in what it writes:

- first paint: ``binderctl`` (a live member configured) from process start until the
  dashboard's frame is drawn (its panels' titles), against a bare
  Textual app from process start to its first paint;
- live dashboard: the same ``binderctl`` run until the dashboard shows live figures (the
  "Sessions running" figure with at least 95 % of the member's sessions counted: a few
  may end meanwhile, drawn once the live model has listed the pods), against what a
  person would otherwise wait for: the bare app's first paint plus
  ``kubectl get pods -A -o json`` (spawn to exit), both measured in the same repeat.
"""

from __future__ import annotations

import re
import statistics
import sys
from collections.abc import Callable

from benchmarks import bare_app
from benchmarks.measure import Row, Target, timed_run
from benchmarks.suite import BINDERCTL, Suite
from benchmarks.terminal import time_to_screen, times_to_screen

NAME = "console-start"
RUNNING = re.compile(r"Sessions running\s+(\d+)")
SHOWN_SHARE = 0.95
FRAME = ("Node", "Activity", "Components", "Health checks", "Latest warnings")


def frame_shown(text: str) -> bool:
    return all(title in text for title in FRAME)


def live_sessions_shown(sessions: int) -> Callable[[str], bool]:
    def shown(text: str) -> bool:
        return any(int(n) >= SHOWN_SHARE * sessions for n in RUNNING.findall(text))

    return shown


def run(suite: Suite) -> list[Row]:
    env = suite.busy_member().env
    first = Row(
        NAME,
        "first-paint",
        "binderctl to the dashboard's frame",
        "bare Textual app to first paint",
        "s",
        Target(1.5),
    )
    live = Row(
        NAME,
        "live-dashboard",
        "binderctl to live dashboard",
        "bare first paint + kubectl get pods -A",
        "s",
        Target(1.0),
    )
    stages = (frame_shown, live_sessions_shown(suite.options.sessions))
    kubectl_seconds = []
    for _ in range(suite.repeats(5, 3)):
        bare = time_to_screen(
            [sys.executable, bare_app.__file__], env, lambda text: bare_app.MARKER in text
        )
        painted, shown = times_to_screen([BINDERCTL], env, stages)
        kubectl = timed_run(["kubectl", "get", "pods", "-A", "-o", "json"], env)
        first.add(painted, bare)
        live.add(shown, bare + kubectl)
        kubectl_seconds.append(kubectl)
    live.notes.append(
        f"kubectl get pods -A -o json alone: {statistics.median(kubectl_seconds):.3g} s "
        f"({suite.options.sessions:,} sessions)"
    )
    return [first, live]
