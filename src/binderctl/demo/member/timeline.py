"""One heap of due callbacks in simulated time: the whole simulation's scheduler.

Nothing in the simulation has its own task; everything that happens later is a timer
here, run in time order (ties in the order they were set), which keeps a run
deterministic for a seed whatever the wall clock does.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable


class Timer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timeline:
    def __init__(self) -> None:
        self._now = 0.0
        self._running = False  # inside run_until: the time is the due timer's
        # Where the clock the simulation follows stands (set while it follows one).
        self.present: Callable[[], float] | None = None
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = 0
        self.on_schedule: Callable[[], None] | None = None

    @property
    def now(self) -> float:
        """Simulated time: the due timer's while timers run; otherwise, when following a
        clock, where it stands, so that what reacts to the outside (an API write) is
        scheduled from the present and not from whenever timers last ran."""
        if self.present is not None and not self._running:
            return max(self._now, self.present())
        return self._now

    def at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(max(when, self.now), callback)
        self._seq += 1
        heapq.heappush(self._heap, (timer.when, self._seq, timer))
        if self.on_schedule is not None:
            self.on_schedule()
        return timer

    def after(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.at(self.now + delay, callback)

    def soon(self, callback: Callable[[], None]) -> Timer:
        return self.at(self.now, callback)

    def every(self, period: float, callback: Callable[[], None], first: float) -> None:
        """Run ``callback`` at ``first`` and then every ``period`` seconds."""

        def tick() -> None:
            callback()
            self.after(period, tick)

        self.at(first, tick)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def run_until(self, t: float) -> int:
        """Run every timer due at or before ``t``; returns how many ran."""
        ran = 0
        self._running = True
        try:
            while self._heap and self._heap[0][0] <= t:
                when, _, timer = heapq.heappop(self._heap)
                if timer.cancelled:
                    continue
                self._now = when
                timer.callback()
                ran += 1
        finally:
            self._running = False
        self._now = max(self._now, t)
        return ran
