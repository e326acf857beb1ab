"""Hetzner's request budget: 3600 per hour per project, refilled gradually (1 per second).

Every answer carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(the UNIX time at which the budget is full again). Tests set ``remaining`` to drain it.
"""

from __future__ import annotations

import time


class RateLimiter:
    def __init__(self, limit: int = 3600, period: float = 3600.0) -> None:
        self.limit = limit
        self.period = period
        self.remaining = float(limit)
        self._updated = time.time()

    def _refill(self) -> float:
        now = time.time()
        self.remaining = min(
            self.limit, self.remaining + (now - self._updated) * self.limit / self.period
        )
        self._updated = now
        return now

    def take(self) -> bool:
        self._refill()
        if self.remaining < 1:
            return False
        self.remaining -= 1
        return True

    def headers(self, *, exhausted: bool = False) -> dict[str, str]:
        now = self._refill()
        remaining = 0.0 if exhausted else self.remaining
        full_in = (self.limit - remaining) * self.period / self.limit
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(int(remaining)),
            "RateLimit-Reset": str(int(now + full_in + 0.999)),
        }
