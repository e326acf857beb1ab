"""Container logs: one bounded buffer per container, implementing ``LogSource``.

Lines that stand for something happening (a launch, a cull, a route) are written when
it happens. Background chatter (a session's Jupyter server talking to its browser) is
produced lazily: a container's chatter is generated up to "now" only when someone reads
or follows that container, from its own seeded random stream, so 1,000 idle sessions
cost nothing and the lines are the same whenever they are read.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from binderctl.demo.kube.sources import LogLine
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.timeline import Timeline, Timer

BUFFER_LINES = 5000
FLOOD_TICK = 0.05  # real seconds between flood batches
CEILING_BATCH = 1000  # lines made at once by a flood without a rate, when a reader waits

Key = tuple[str, str, str]  # namespace, pod, container
# Makes one chatter line: (random stream, wall time) -> text.
LineMaker = Callable[[random.Random, float], str]


@dataclass
class Chatter:
    rate: float  # mean lines per simulated second
    make: LineMaker
    rng: random.Random
    next_t: float = 0.0
    regular: bool = False  # evenly spaced lines (a flood) instead of random gaps


@dataclass
class ContainerLog:
    lines: deque[LogLine] = field(default_factory=lambda: deque(maxlen=BUFFER_LINES))
    previous: deque[LogLine] | None = None
    followers: set[asyncio.Queue[LogLine | None]] = field(default_factory=set)
    chatter: Chatter | None = None
    timer: Timer | None = None
    running: bool = True
    # A flood without a rate: makes a batch of lines whenever a follower has read all.
    ceiling: Callable[[], None] | None = None


class _Follower:
    def __init__(self, log: ContainerLog) -> None:
        self._log = log
        self.queue: asyncio.Queue[LogLine | None] = asyncio.Queue()

    def __aiter__(self) -> _Follower:
        return self

    async def __anext__(self) -> LogLine:
        if self.queue.empty() and self._log.ceiling is not None:
            self._log.ceiling()
        line = await self.queue.get()
        if line is None:
            self._log.followers.discard(self.queue)
            raise StopAsyncIteration
        return line

    async def aclose(self) -> None:
        self._log.followers.discard(self.queue)


class LogBook:
    """Every container's log; ``lines`` and ``follow`` are the ``LogSource`` protocol."""

    def __init__(self, timeline: Timeline, clock: SimClock, seed: int) -> None:
        self._timeline = timeline
        self._clock = clock
        self._seed = seed
        self._logs: dict[Key, ContainerLog] = {}

    def _wall(self, t: float | None = None) -> float:
        return self._clock.wall(self._timeline.now if t is None else t)

    # -- writing ---------------------------------------------------------------------
    def start(self, namespace: str, pod: str, container: str) -> None:
        """A container (re)starts: a restart keeps the last run's lines as ``previous``."""
        key = (namespace, pod, container)
        log = self._logs.get(key)
        if log is None:
            self._logs[key] = ContainerLog()
            return
        self._catch_up(log)
        log.previous, log.lines = log.lines, deque(maxlen=BUFFER_LINES)
        log.running = True
        log.chatter = None
        log.ceiling = None

    def chatter(
        self, namespace: str, pod: str, container: str, rate: float, make: LineMaker
    ) -> None:
        """Give a running container background lines, ``rate`` a simulated second."""
        key = (namespace, pod, container)
        log = self._logs.get(key)
        if log is None or rate <= 0:
            return
        seed = zlib.crc32(f"{self._seed}/{namespace}/{pod}/{container}".encode())
        rng = random.Random(seed)
        log.chatter = Chatter(rate, make, rng, self._timeline.now + rng.expovariate(rate))
        if log.followers:
            self._schedule(key, log)

    def write(self, namespace: str, pod: str, container: str, text: str) -> None:
        log = self._logs.get((namespace, pod, container))
        if log is None or not log.running:
            return
        self._catch_up(log)
        self._append(log, LogLine(self._wall(), text))

    def write_many(self, namespace: str, pod: str, container: str, texts: Sequence[str]) -> None:
        for text in texts:
            self.write(namespace, pod, container, text)

    def stop(self, namespace: str, pod: str, container: str) -> None:
        """The container exited: followers reach the end of the stream."""
        log = self._logs.get((namespace, pod, container))
        if log is None or not log.running:
            return
        self._catch_up(log)
        log.running = False
        log.chatter = None
        log.ceiling = None
        self._end_followers(log)

    def forget_pod(self, namespace: str, pod: str) -> None:
        for key in [k for k in self._logs if k[0] == namespace and k[1] == pod]:
            log = self._logs.pop(key)
            self._end_followers(log)

    def flood(
        self, namespace: str, pod: str, container: str, lines_per_second: float | None
    ) -> None:
        """Make one container log ``lines_per_second`` (real time) for benchmarks; None:
        as fast as its followers read (a batch whenever one has read every line)."""
        log = self._logs[(namespace, pod, container)]
        counter = iter(range(1, 1 << 62))

        def make(rng: random.Random, ts: float) -> str:
            return f"flood line {next(counter)} {rng.getrandbits(64):016x}"

        rng = random.Random(zlib.crc32(f"{self._seed}/flood/{pod}/{container}".encode()))
        if lines_per_second is None:

            def batch() -> None:
                ts = self._wall()
                for _ in range(CEILING_BATCH):
                    self._append(log, LogLine(ts, make(rng, ts)))

            log.ceiling = batch
            return
        speed = self._clock.speed
        log.chatter = Chatter(lines_per_second / speed, make, rng, self._timeline.now, True)
        self._flood_tick((namespace, pod, container), log, FLOOD_TICK * speed)

    def _flood_tick(self, key: Key, log: ContainerLog, period: float) -> None:
        if self._logs.get(key) is not log or log.chatter is None:
            return
        self._catch_up(log)
        log.timer = self._timeline.after(period, lambda: self._flood_tick(key, log, period))

    # -- reading (LogSource) -----------------------------------------------------------
    def lines(self, namespace: str, pod: str, container: str, previous: bool) -> Sequence[LogLine]:
        log = self._logs[(namespace, pod, container)]
        if previous:
            if log.previous is None:
                raise KeyError(container)
            return list(log.previous)
        self._catch_up(log)
        return list(log.lines)

    def follow(self, namespace: str, pod: str, container: str) -> _Follower:
        """New lines from now on; subscribed at the call, so nothing written between a
        ``lines`` read and this call is missed."""
        key = (namespace, pod, container)
        log = self._logs[key]
        follower = _Follower(log)
        if log.running:
            log.followers.add(follower.queue)
            if log.chatter is not None and log.timer is None:
                self._schedule(key, log)
        else:
            follower.queue.put_nowait(None)
        return follower

    # -- internals -------------------------------------------------------------------
    def _append(self, log: ContainerLog, line: LogLine) -> None:
        log.lines.append(line)
        for queue in log.followers:
            queue.put_nowait(line)

    def _end_followers(self, log: ContainerLog) -> None:
        for queue in log.followers:
            queue.put_nowait(None)
        log.followers.clear()
        if log.timer is not None:
            log.timer.cancel()
            log.timer = None

    def _catch_up(self, log: ContainerLog) -> None:
        chatter = log.chatter
        if chatter is None:
            return
        now = self._timeline.now
        while chatter.next_t <= now:
            ts = self._wall(chatter.next_t)
            self._append(log, LogLine(ts, chatter.make(chatter.rng, ts)))
            gap = 1 / chatter.rate if chatter.regular else chatter.rng.expovariate(chatter.rate)
            chatter.next_t += gap

    def _schedule(self, key: Key, log: ContainerLog) -> None:
        """While a container with chatter is followed, produce its lines on time."""
        chatter = log.chatter
        if chatter is None or not log.followers:
            log.timer = None
            return

        def due() -> None:
            if self._logs.get(key) is log:
                self._catch_up(log)
                self._schedule(key, log)

        log.timer = self._timeline.at(chatter.next_t, due)
