"""Simulated time: seconds since the member started, running ``speed`` times real time.

Durations of the simulation (launch gaps, idle timeouts, build times, the event TTL) are
simulated seconds; timestamps written into objects and log lines are wall-clock times,
``epoch + t / speed``, so ages seen by kubectl stay consistent with the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    def __init__(
        self,
        speed: float = 1.0,
        *,
        epoch: float | None = None,
        source: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.epoch = time.time() if epoch is None else epoch
        self._source = source
        self._start = source()

    def elapsed(self) -> float:
        """Simulated seconds since the start."""
        return (self._source() - self._start) * self.speed

    def wall(self, t: float) -> float:
        """The wall-clock time (POSIX seconds) of simulated time ``t``."""
        return self.epoch + t / self.speed

    def real_seconds(self, sim_seconds: float) -> float:
        return sim_seconds / self.speed
