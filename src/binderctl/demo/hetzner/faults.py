"""Knobs tests turn on the Hetzner emulator: plain attributes, set in-process.

``faults.action_seconds = 5`` makes every action run five seconds;
``faults.fail("POST", "/servers", reset=True, after=True)`` creates the next server and
then drops the connection before the client hears about it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScriptedFailure:
    """Fails matching calls number ``nth`` to ``nth + times - 1`` (counted from 1)."""

    method: str  # "POST", or "*" for any
    path: str  # regular expression, full match on the path below /v1, e.g. "/servers/\d+"
    nth: int = 1
    times: int = 1
    status: int | None = 503  # None: answer normally (after any delay)
    code: str | None = None  # default: the code Hetzner uses for ``status``
    message: str = "injected failure"
    reset: bool = False  # drop the connection without an answer
    delay: float = 0.0  # hold the answer this many seconds
    after: bool = False  # let the request take effect first, then fail
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method) or not re.fullmatch(self.path, path):
            return False
        self.seen += 1
        return self.nth <= self.seen < self.nth + self.times


@dataclass
class Faults:
    action_seconds: float = 1.0  # how long every action runs
    latency: float = 0.0  # added to every answer, seconds
    error_rate: float = 0.0  # share of calls answered with one of error_statuses
    error_statuses: tuple[int, ...] = (500, 502, 503, 504, 429)
    reset_rate: float = 0.0  # share of calls whose connection is dropped
    failing_actions: set[str] = field(default_factory=set)  # commands that end in "error"
    server_limit: int | None = None  # resource_limit_exceeded beyond this many servers
    scripted: list[ScriptedFailure] = field(default_factory=list)

    def fail(self, method: str, path: str, **options: Any) -> ScriptedFailure:
        failure = ScriptedFailure(method, path, **options)
        self.scripted.append(failure)
        return failure

    def scripted_for(self, method: str, path: str) -> ScriptedFailure | None:
        hits = [f for f in self.scripted if f.matches(method, path)]
        return hits[0] if hits else None

    def random_status(self) -> int | None:
        if self.error_rate and random.random() < self.error_rate:
            return random.choice(self.error_statuses)
        return None

    def random_reset(self) -> bool:
        return bool(self.reset_rate) and random.random() < self.reset_rate
