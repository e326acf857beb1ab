"""2. Console start: ``binderctl`` from process start until the dashboard shows live
figures, against a bare Textual app from process start to its first paint.

Both run in a pseudo-terminal of the same size and are timed until the text appears in
what they write: for the console, the dashboard's "Sessions running" figure with the
member's sessions counted (at least 95 % of them: a few may end meanwhile), which is
drawn only once the live model has listed the pods.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from benchmarks import bare_app
from benchmarks.measure import Row, Target
from benchmarks.suite import BINDERCTL, Suite
from benchmarks.terminal import time_to_screen

NAME = "console-start"
RUNNING = re.compile(r"Sessions running\s+(\d+)")
SHOWN_SHARE = 0.95


def live_sessions_shown(sessions: int) -> Callable[[str], bool]:
    def shown(text: str) -> bool:
        return any(int(n) >= SHOWN_SHARE * sessions for n in RUNNING.findall(text))

    return shown


def run(suite: Suite) -> list[Row]:
    env = suite.busy_member().env
    row = Row(
        NAME,
        "console-start",
        "binderctl to live dashboard",
        "bare Textual app to first paint",
        "s",
        Target(2.0),
    )
    shown = live_sessions_shown(suite.options.sessions)
    for _ in range(suite.repeats(5, 3)):
        baseline = time_to_screen(
            [sys.executable, bare_app.__file__], env, lambda text: bare_app.MARKER in text
        )
        figure = time_to_screen([BINDERCTL], env, shown)
        row.add(figure, baseline)
    return [row]
