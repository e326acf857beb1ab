"""Key-press latency of a running Textual app, as a terminal's input thread sees it.

From a thread of its own (as the terminal driver's reader is), a key event is posted to
the app; the time until the app has acted on it (``acted`` changes its answer) is one
latency. Presses are spaced out so that each lands at a different moment of whatever
the app is busy with.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from textual import events
from textual.app import App

POLL_SECONDS = 0.0005
GIVE_UP_SECONDS = 10.0


def press_and_time(
    app: App[object],
    keys: tuple[str, ...],
    acted: Callable[[], object],
    presses: int,
    spacing: float,
    seed: int = 0,
) -> list[float]:
    """Seconds each press took to be acted on (call from a thread, not the app's)."""
    rng = random.Random(seed)
    latencies = []
    for index in range(presses):
        key = keys[index % len(keys)]
        before = acted()
        started = time.perf_counter()
        app.post_message(events.Key(key, key if len(key) == 1 else None))
        while acted() == before:
            if time.perf_counter() - started > GIVE_UP_SECONDS:
                raise RuntimeError(f"the app never acted on the key {key!r}")
            time.sleep(POLL_SECONDS)
        latencies.append(time.perf_counter() - started)
        time.sleep(spacing * rng.uniform(0.5, 1.5))
    return latencies
