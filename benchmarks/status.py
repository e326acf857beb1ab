"""1. Headless status: ``binderctl status -o json`` against ``kubectl get pods -A -o json``.

Both are whole processes started from nothing against the same busy member, run one
after the other in every repeat; the figure is the wall time from spawn to exit.
"""

from __future__ import annotations

from benchmarks.measure import Row, Target, timed_run
from benchmarks.suite import BINDERCTL, Suite

NAME = "status"


def run(suite: Suite) -> list[Row]:
    env = suite.busy_member().env
    row = Row(
        NAME,
        "status",
        "binderctl status -o json",
        "kubectl get pods -A -o json",
        "s",
        Target(2.0),
    )
    for _ in range(suite.repeats(5, 3)):
        baseline = timed_run(["kubectl", "get", "pods", "-A", "-o", "json"], env)
        figure = timed_run([BINDERCTL, "status", "-o", "json"], env)
        row.add(figure, baseline)
    return [row]
