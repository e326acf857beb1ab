"""Waiting for something to hold, without timing it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T],
    timeout: float = 30.0,
    what: str | Callable[[], object] = "the condition",
    step: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that; after
    ``timeout`` seconds fail, saying ``what`` (or what it returns then) was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            awaited = what() if callable(what) else what
            raise AssertionError(f"not within {timeout:g}s: {awaited}")
        time.sleep(step)
