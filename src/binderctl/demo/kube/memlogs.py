"""A LogSource kept in memory: per-container line buffers, fed with ``write``.

Followers subscribe when ``follow`` is called (not when first iterated), so reading
``lines`` and then calling ``follow`` without awaiting in between misses nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence

from binderctl.demo.kube.sources import LogLine

Key = tuple[str, str, str]


class _Follower:
    def __init__(self, logs: MemoryLogs, key: Key) -> None:
        self._logs = logs
        self._key = key
        self.queue: asyncio.Queue[LogLine | None] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[LogLine]:
        return self

    async def __anext__(self) -> LogLine:
        line = await self.queue.get()
        if line is None:
            self._logs.unfollow(self._key, self)
            raise StopAsyncIteration
        return line

    async def aclose(self) -> None:
        self._logs.unfollow(self._key, self)


class MemoryLogs:
    """Container logs in memory (``LogSource``): the current and previous instance."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._current: dict[Key, deque[LogLine]] = {}
        self._previous: dict[Key, list[LogLine]] = {}
        self._followers: dict[Key, set[_Follower]] = {}

    def write(
        self, namespace: str, pod: str, container: str, text: str, at: float | None = None
    ) -> None:
        key = (namespace, pod, container)
        buffer = self._current.setdefault(key, deque(maxlen=self._limit))
        for part in text.splitlines() or [""]:
            line = LogLine(time.time() if at is None else at, part)
            buffer.append(line)
            for follower in self._followers.get(key, ()):
                follower.queue.put_nowait(line)

    def restart(self, namespace: str, pod: str, container: str) -> None:
        """The container restarted: its lines so far become the ``previous`` log."""
        key = (namespace, pod, container)
        self._previous[key] = list(self._current.pop(key, ()))
        self._current[key] = deque(maxlen=self._limit)

    def close(self, namespace: str, pod: str, container: str | None = None) -> None:
        """The container (or every container of the pod) stopped: end its followers."""
        for key, followers in list(self._followers.items()):
            if key[:2] == (namespace, pod) and container in (None, key[2]):
                for follower in followers:
                    follower.queue.put_nowait(None)

    def unfollow(self, key: Key, follower: _Follower) -> None:
        followers = self._followers.get(key)
        if followers is not None:
            followers.discard(follower)

    # -- LogSource -------------------------------------------------------------------
    def lines(self, namespace: str, pod: str, container: str, previous: bool) -> Sequence[LogLine]:
        key = (namespace, pod, container)
        if previous:
            return list(self._previous[key])
        return list(self._current[key])

    def follow(self, namespace: str, pod: str, container: str) -> _Follower:
        key = (namespace, pod, container)
        follower = _Follower(self, key)
        self._followers.setdefault(key, set()).add(follower)
        return follower
