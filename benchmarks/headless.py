"""8. Headless start: ``binderctl --version`` against ``python -c pass`` (the same
interpreter), both spawn to exit, one after the other in every repeat: what a command
that does not touch the member costs before it does anything.
"""

from __future__ import annotations

import sys

from benchmarks.measure import Row, Target, timed_run
from benchmarks.suite import BINDERCTL, Suite

NAME = "headless-start"


def run(suite: Suite) -> list[Row]:
    row = Row(NAME, "headless-start", "binderctl --version", "python -c pass", "s", Target(3.0))
    env = suite.base_env
    for _ in range(suite.repeats(20, 5)):
        baseline = timed_run([sys.executable, "-c", "pass"], env)
        figure = timed_run([BINDERCTL, "--version"], env)
        row.add(figure, baseline)
    return [row]
