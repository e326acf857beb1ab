"""Each pod's CPU and network counters, from the node's kubelet through the API server.

``GET /api/v1/nodes/{node}/proxy/stats/summary`` is the kubelet's stats summary
(kubernetes ``staging/src/k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go``): per pod
its ``network`` (cumulative ``rxBytes``/``txBytes`` of its default interface, at
``time``) and its containers' ``cpu`` (``usageNanoCores``, the kubelet's latest
sample, and the cumulative ``usageCoreNanoSeconds``). Packets are not in it; they are
in cAdvisor's Prometheus families at ``.../proxy/metrics/cadvisor``
(``container_network_{receive,transmit}_packets_total``, labelled ``namespace``,
``pod``, ``interface``), read when ``packets`` is asked for.

Both are read as bytes and decoded once; only what the rates need is kept.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from binderctl.errors import BinderctlError
from binderctl.services.kube import NODES, Kube, decode, parse_time

SUMMARY = "proxy/stats/summary"
CADVISOR = "proxy/metrics/cadvisor"
PACKET_FAMILIES = {
    "container_network_transmit_packets_total": "tx_packets",
    "container_network_receive_packets_total": "rx_packets",
}
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True, slots=True)
class PodCounters:
    """One pod's counters as the kubelet served them (times are POSIX seconds)."""

    namespace: str
    pod: str
    uid: str
    start: float  # the pod's startTime (its network counters count from there)
    time: float | None  # when the network stats were taken
    rx_bytes: int | None
    tx_bytes: int | None
    cpu_time: float | None  # when the CPU stats were taken
    cpu_cores: float | None  # usageNanoCores: the kubelet's latest sample
    cpu_seconds: float | None  # usageCoreNanoSeconds, added over the containers
    cpu_start: float | None  # the earliest container start (the CPU counts from there)
    tx_packets: int | None = None
    rx_packets: int | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.pod}"


def _raw(kube: Kube, node: str, path: str) -> bytes:
    response = kube.open("GET", NODES, name=node, sub=path)
    try:
        data: bytes = response.data
        return data
    finally:
        response.release_conn()


class _Times:
    """RFC 3339 stamps as POSIX seconds; a summary repeats the same few stamps."""

    def __init__(self) -> None:
        self._seen: dict[str, float | None] = {}

    def __call__(self, text: Any) -> float | None:
        if not isinstance(text, str):
            return None
        value = self._seen.get(text, -1.0)
        if value == -1.0:
            try:
                value = parse_time(text)
            except ValueError:
                value = None
            self._seen[text] = value
        return value


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _pod(item: Any, times: _Times) -> PodCounters | None:
    if not isinstance(item, dict):
        return None
    ref = item.get("podRef")
    if not isinstance(ref, dict) or not ref.get("name"):
        return None
    network = item.get("network")
    if not isinstance(network, dict):
        network = {}
    cores = seconds = 0.0
    cpu_time = cpu_start = None
    measured = False
    for container in item.get("containers") or ():
        cpu = container.get("cpu") if isinstance(container, dict) else None
        if not isinstance(cpu, dict):
            continue
        nano, total = _count(cpu.get("usageNanoCores")), _count(cpu.get("usageCoreNanoSeconds"))
        if nano is None or total is None:
            continue
        measured = True
        cores += nano / 1e9
        seconds += total / 1e9
        cpu_time = times(cpu.get("time")) or cpu_time
        started = times(container.get("startTime"))
        if started is not None and (cpu_start is None or started < cpu_start):
            cpu_start = started
    start = times(item.get("startTime")) or 0.0
    return PodCounters(
        namespace=str(ref.get("namespace") or ""),
        pod=str(ref["name"]),
        uid=str(ref.get("uid") or ""),
        start=start,
        time=times(network.get("time")),
        rx_bytes=_count(network.get("rxBytes")),
        tx_bytes=_count(network.get("txBytes")),
        cpu_time=cpu_time if measured else None,
        cpu_cores=cores if measured else None,
        cpu_seconds=seconds if measured else None,
        cpu_start=cpu_start if measured else None,
    )


def parse_summary(document: Any) -> dict[str, PodCounters]:
    """Each pod of a stats summary by ``namespace/name``."""
    pods = document.get("pods") if isinstance(document, dict) else None
    times = _Times()
    found = {}
    for item in pods if isinstance(pods, list) else ():
        counters = _pod(item, times)
        if counters is not None:
            found[counters.key] = counters
    return found


def parse_packets(text: str) -> dict[str, dict[str, int]]:
    """``namespace/pod`` -> {"tx_packets": n, "rx_packets": n} from cAdvisor's families
    (the highest of a pod's lines for one interface: its sandbox's and its cgroup's
    count the same packets)."""
    found: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        if not line.startswith("container_network_"):
            continue
        name, brace, rest = line.partition("{")
        field = PACKET_FAMILIES.get(name)
        if field is None or not brace:
            continue
        labels_text, _, values = rest.rpartition("}")
        labels = dict(_LABEL.findall(labels_text))
        pod, namespace = labels.get("pod"), labels.get("namespace")
        if not pod or not namespace:
            continue
        try:
            value = int(float(values.split()[0]))
        except (IndexError, ValueError):
            continue
        counts = found.setdefault(f"{namespace}/{pod}", {})
        counts[field] = max(counts.get(field, 0), value)
    return found


def read_counters(
    kube: Kube, nodes: Iterable[str], *, packets: bool = True
) -> dict[str, PodCounters]:
    """Every pod's counters on ``nodes`` (with packet counts unless ``packets`` is
    False); a BinderctlError if a node's kubelet cannot be read."""
    found: dict[str, PodCounters] = {}
    for node in nodes:
        raw = _raw(kube, node, SUMMARY)
        with _collector_paused():
            # the decoded summary (300,000 objects at 1,000 pods) is freed by reference
            # counting before the collector runs again: it never scans them
            summary = parse_summary(decode(raw))
        if packets:
            counted = parse_packets(_raw(kube, node, CADVISOR).decode("utf-8", "replace"))
            for key, counts in counted.items():
                pod = summary.get(key)
                if pod is not None:
                    summary[key] = _with_packets(pod, counts)
        found.update(summary)
    return found


def _with_packets(pod: PodCounters, counts: Mapping[str, int]) -> PodCounters:
    return replace(pod, tx_packets=counts.get("tx_packets"), rx_packets=counts.get("rx_packets"))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def node_names(kube: Kube) -> list[str]:
    names = [o["metadata"]["name"] for o in kube.list(NODES)]
    if not names:
        raise BinderctlError("the cluster has no node to read usage from")
    return names
