"""What running pods use over time, as the cumulative counters the kubelet reports.

CPU comes from ``Metrics`` (the figures metrics.k8s.io serves too); the network from what
the pod does: a session (its kernel's websocket, a package download now and then), a
build (pulling base images, pushing layers), the core programs (a trickle), and the
misbehaving sessions a drill starts (``Behaviour``): a miner keeps its CPU at its limit
and holds a thin connection to its pool; a scanner sends many small packets (a port
scan: each probe a SYN of 64 bytes, a few answers back).

Counters integrate the rates over wall-clock seconds (the simulation stamps wall-clock
times, ``SimClock.wall``), so a client that divides a counter's change by the change of
its sample time gets the rate the pod had. A pod annotated
``kubernetes.io/egress-bandwidth`` (read by the bandwidth CNI plugin in k3s's flannel
chain) sends no faster than that many bits a second: its sending slows to the shaper's
rate, as a TCP sender's does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from binderctl.demo.kube import types
from binderctl.demo.kube.events import parse_time
from binderctl.demo.kube.quantity import parse_quantity
from binderctl.demo.kube.sources import ContainerUsage
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member.kubelet import Kubelet, Run
from binderctl.demo.member.metrics import WINDOW, Metrics, unit

EGRESS_BANDWIDTH = "kubernetes.io/egress-bandwidth"
MINER = "miner"
SCANNER = "scanner"
SCAN_PACKETS = 3000.0  # probes a second
SCANNER_CPU = 0.15
SYN_BYTES = 64
ANSWERED = 0.15  # share of probes that get an answer (SYN-ACK or RST)


@dataclass(frozen=True)
class Behaviour:
    """A session that misbehaves: ``kind`` miner or scanner, ``cpu`` cores it keeps busy."""

    kind: str
    cpu: float


@dataclass(frozen=True)
class Flow:
    """Bytes a second each way and the mean packet size each way."""

    rx: float
    tx: float
    rx_packet: float = 1200.0
    tx_packet: float = 400.0


@dataclass
class Counters:
    """One pod's counters, integrated up to ``at`` (wall-clock seconds)."""

    start: float  # the pod's network (its sandbox) started
    at: float
    role: str  # session, build or program
    cap: float | None  # bytes a second it may send (None: no limit)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # container -> core-seconds
    cpu_started: dict[str, float] = field(default_factory=dict)  # container -> its start
    rx_bytes: float = 0.0
    tx_bytes: float = 0.0
    rx_packets: float = 0.0
    tx_packets: float = 0.0


@dataclass(frozen=True)
class PodSample:
    """A running pod's usage now and its counters, as the kubelet reports them."""

    run: Run
    time: float  # wall-clock seconds
    start: float
    containers: tuple[tuple[ContainerUsage, float, float], ...]  # usage, core-seconds, start
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int


def egress_cap(pod: Obj) -> float | None:
    """Bytes a second a pod may send: its ``kubernetes.io/egress-bandwidth`` (bits a
    second, a quantity such as ``1M``), or None."""
    text = ((pod["metadata"].get("annotations") or {}).get(EGRESS_BANDWIDTH) or "").strip()
    if not text:
        return None
    try:
        bits = parse_quantity(text)
    except ValueError:
        return None
    return bits / 8 if bits > 0 else None


def _role(pod: Obj) -> str:
    component = (pod["metadata"].get("labels") or {}).get("component")
    if component == "singleuser-server":
        return "session"
    if component == "binderhub-build":
        return "build"
    return "program"


class Usage:
    """Counters for every running pod of the node; ``behaviours`` (by pod uid) are the
    sessions that misbehave."""

    def __init__(
        self, store: Store, kubelet: Kubelet, metrics: Metrics, sim_now: Callable[[], float],
        wall: Callable[[float], float],
    ) -> None:  # fmt: skip
        self.store = store
        self.kubelet = kubelet
        self.metrics = metrics
        self._sim_now = sim_now
        self._wall = wall
        self.behaviours: dict[str, Behaviour] = metrics.behaviours
        self._counters: dict[str, Counters] = {}

    def wall_now(self) -> float:
        return self._wall(self._sim_now())

    def _flow(self, run: Run, role: str) -> Flow:
        window = int(self._sim_now() // WINDOW)
        noise = unit(run.uid, "net", window)
        behaviour = self.behaviours.get(run.uid)
        if behaviour is not None and behaviour.kind == SCANNER:
            return Flow(SCAN_PACKETS * ANSWERED * 60, SCAN_PACKETS * SYN_BYTES, 60, SYN_BYTES)
        if behaviour is not None and behaviour.kind == MINER:
            return Flow(600 + 200 * noise, 400 + 200 * noise, 150, 150)
        if role == "session":
            download = 2_000_000.0 if noise > 0.97 else 0.0  # a package install
            return Flow(800 + 4000 * noise + download, 300 + 1500 * noise, 1200, 200)
        if role == "build":
            return Flow(3_000_000 * (0.5 + noise), 1_000_000 * (0.5 + noise), 1400, 1400)
        return Flow(200 + 300 * noise, 200 + 300 * noise, 400, 400)

    def _counters_of(self, run: Run, now: float) -> Counters:
        counters = self._counters.get(run.uid)
        if counters is None:
            pod = self.store.find(types.PODS, run.namespace, run.name) or {"metadata": {}}
            start = parse_time(run.start_time) or now
            counters = Counters(start, min(start, now), _role(pod), egress_cap(pod))
            self._counters[run.uid] = counters
        return counters

    def _integrate(self, run: Run, counters: Counters, now: float) -> list[ContainerUsage]:
        """Bring the counters to ``now`` at the rates the pod has now."""
        seconds = max(0.0, now - counters.at)
        usage = [
            self.metrics.container_usage(run, name)
            for name, _ in run.containers
            if "running" in run.states.get(name, {})
        ]
        for item in usage:
            if item.name not in counters.cpu_started:
                state = run.states.get(item.name, {}).get("running") or {}
                started = parse_time(state.get("startedAt")) or counters.at
                counters.cpu_started[item.name] = started
                seconds_running = max(0.0, now - started)
            else:
                seconds_running = seconds
            counters.cpu_seconds[item.name] = (
                counters.cpu_seconds.get(item.name, 0.0) + item.cpu * seconds_running
            )
        flow = self._flow(run, counters.role)
        tx = flow.tx if counters.cap is None else min(flow.tx, counters.cap)
        counters.rx_bytes += flow.rx * seconds
        counters.tx_bytes += tx * seconds
        counters.rx_packets += flow.rx / flow.rx_packet * seconds
        counters.tx_packets += tx / flow.tx_packet * seconds
        counters.at = now
        return usage

    def samples(self) -> Iterator[PodSample]:
        """Every running pod of the node, its counters brought to the last whole second
        (the stats' ``time`` is stamped in whole seconds: counted up to it, a client's
        rates come out exact)."""
        now = float(math.floor(self.wall_now()))
        live = set()
        for run in list(self.kubelet.runs.values()):
            if run.phase != "Running":
                continue
            live.add(run.uid)
            counters = self._counters_of(run, now)
            usage = self._integrate(run, counters, now)
            yield PodSample(
                run,
                now,
                counters.start,
                tuple(
                    (u, counters.cpu_seconds[u.name], counters.cpu_started[u.name]) for u in usage
                ),
                int(counters.rx_bytes),
                int(counters.tx_bytes),
                int(counters.rx_packets),
                int(counters.tx_packets),
            )
        for uid in set(self._counters) - live:
            del self._counters[uid]
