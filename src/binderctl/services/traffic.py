"""Sessions' network and CPU rates over a sliding window of the kubelet's counters.

Each read of the kubelet (``kubelet_stats``) adds one sample per session; a session's
rates are its counters' change from the oldest sample within ``window`` seconds to the
newest, divided by the change of the stats' own ``time`` (the kubelet's, not ours:
its stats may be some seconds old when read). A session with one sample so far gets
its averages since it started, so a first read already tells a miner from an idle
session. A counter that went down (the pod's sandbox restarted) starts the window
again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from binderctl.models import ChangeKind, SessionTraffic
from binderctl.services.kubelet_stats import PodCounters

WINDOW_SECONDS = 60.0
STATS_INTERVAL = 10.0  # the live model's reads of the kubelet (cheap at 1,000 sessions)

Emit = Callable[[ChangeKind, str, object, object], None]


def _rate(new: float | None, old: float | None, seconds: float) -> float | None:
    if new is None or old is None or seconds <= 0 or new < old:
        return None
    return (new - old) / seconds


def _since(count: float | None, now: float | None, start: float | None) -> float | None:
    if count is None or now is None or start is None or now <= start:
        return None
    return count / (now - start)


@dataclass(frozen=True)
class Rates:
    tx: float | None
    rx: float | None
    tx_packets: float | None
    cpu: float | None
    window: float


def rates(first: PodCounters, last: PodCounters) -> Rates:
    """From two samples of one pod, or (``first is last``) since the pod started."""
    if first is last:
        return Rates(
            _since(last.tx_bytes, last.time, last.start),
            _since(last.rx_bytes, last.time, last.start),
            _since(last.tx_packets, last.time, last.start),
            _since(last.cpu_seconds, last.cpu_time, last.cpu_start),
            0.0,
        )
    seconds = (last.time or 0.0) - (first.time or 0.0)
    cpu_seconds = (last.cpu_time or 0.0) - (first.cpu_time or 0.0)
    return Rates(
        _rate(last.tx_bytes, first.tx_bytes, seconds),
        _rate(last.rx_bytes, first.rx_bytes, seconds),
        _rate(last.tx_packets, first.tx_packets, seconds),
        _rate(last.cpu_seconds, first.cpu_seconds, cpu_seconds),
        max(seconds, 0.0),
    )


def _restarted(old: PodCounters, new: PodCounters) -> bool:
    """A counter went backwards, or the pod is another one of the same name."""
    if old.uid != new.uid:
        return True
    pairs = (
        (old.tx_bytes, new.tx_bytes),
        (old.rx_bytes, new.rx_bytes),
        (old.cpu_seconds, new.cpu_seconds),
    )
    return any(a is not None and b is not None and b < a for a, b in pairs)


def traffic_row(
    pod: str, samples: deque[PodCounters], cpu_limit: float | None, peak: float | None
) -> SessionTraffic:
    first, last = samples[0], samples[-1]
    found = rates(first, last)
    return SessionTraffic(
        pod=pod,
        tx_rate=found.tx,
        rx_rate=found.rx,
        tx_packet_rate=found.tx_packets,
        cpu=found.cpu,
        cpu_limit=cpu_limit,
        cpu_peak=peak,
        tx_bytes=last.tx_bytes,
        rx_bytes=last.rx_bytes,
        tx_packets=last.tx_packets,
        window=found.window,
        samples=len(samples),
    )


class TrafficIndex:
    """The sessions' samples within the window and their ``SessionTraffic`` rows."""

    def __init__(self, emit: Emit, window: float = WINDOW_SECONDS) -> None:
        self._emit = emit
        self.window = window
        self.samples: dict[str, deque[PodCounters]] = {}
        self.peaks: dict[str, float] = {}
        self.rows: dict[str, SessionTraffic] = {}

    def apply(
        self, counters: Mapping[str, PodCounters], limits: Mapping[str, float | None]
    ) -> None:
        """One read of the kubelet; ``limits`` are the sessions (key -> CPU limit)."""
        for key in [k for k in self.samples if k not in limits or k not in counters]:
            self._drop(key)
        for key, limit in limits.items():
            sample = counters.get(key)
            if sample is None:
                continue
            window = self.samples.get(key)
            if window is None or _restarted(window[-1], sample):
                window = self.samples[key] = deque()
                self.peaks.pop(key, None)
            elif window[-1].time == sample.time:
                window.pop()  # the same reading again (the kubelet's stats are cached)
            window.append(sample)
            newest = sample.time or 0.0
            while len(window) > 2 and (window[1].time or 0.0) <= newest - self.window:
                window.popleft()
            if sample.cpu_cores is not None:
                self.peaks[key] = max(self.peaks.get(key, 0.0), sample.cpu_cores)
            row = traffic_row(sample.pod, window, limit, self.peaks.get(key))
            old = self.rows.get(key)
            if row != old:
                self.rows[key] = row
                self._emit("traffic", key, old, row)

    def _drop(self, key: str) -> None:
        self.samples.pop(key, None)
        self.peaks.pop(key, None)
        old = self.rows.pop(key, None)
        if old is not None:
            self._emit("traffic", key, old, None)
