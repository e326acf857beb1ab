"""What the simulated node's kubelet serves about usage: ``/stats/summary`` and
``/metrics/cadvisor``, reached through the API server's node proxy.

The summary has the shape of kubernetes ``staging/src/k8s.io/kubelet/pkg/apis/stats/
v1alpha1/types.go`` (``Summary``: the node's stats and one ``PodStats`` per running
pod, with its containers' CPU and memory and the pod's network). It has no packet
counts: those are in cAdvisor's Prometheus families (``container_network_*_total``,
google/cadvisor ``metrics/prometheus.go``), labelled by the kubelet with ``container``,
``id``, ``image``, ``name``, ``namespace`` and ``pod`` (kubernetes
``pkg/kubelet/server/server.go``, ``containerPrometheusLabelsFunc``): one line per pod
for its sandbox's ``eth0``. Only the network families are served here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import orjson

from binderctl.demo.kube.events import rfc3339
from binderctl.demo.member.kubelet import Kubelet
from binderctl.demo.member.usage import PodSample, Usage

SUMMARY_PATH = "stats/summary"
CADVISOR_PATH = "metrics/cadvisor"
INTERFACE = "eth0"
NETWORK_FAMILIES = (
    ("container_network_receive_bytes_total", "Cumulative count of bytes received", "rx_bytes"),
    ("container_network_receive_packets_total", "Cumulative count of packets received",
     "rx_packets"),
    ("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted",
     "tx_bytes"),
    ("container_network_transmit_packets_total", "Cumulative count of packets transmitted",
     "tx_packets"),
)  # fmt: skip
NOT_FOUND = (404, "text/plain; charset=utf-8", b"404 page not found\n")


def _cpu(time: str, cores: float, core_seconds: float) -> dict[str, Any]:
    return {
        "time": time,
        "usageNanoCores": max(0, round(cores * 1e9)),
        "usageCoreNanoSeconds": max(0, round(core_seconds * 1e9)),
    }


def _memory(time: str, used: int) -> dict[str, Any]:
    return {
        "time": time,
        "usageBytes": used,
        "workingSetBytes": used,
        "rssBytes": int(used * 0.8),
        "pageFaults": 0,
        "majorPageFaults": 0,
    }


def _interface(rx: int, tx: int) -> dict[str, Any]:
    return {"name": INTERFACE, "rxBytes": rx, "rxErrors": 0, "txBytes": tx, "txErrors": 0}


def _network(time: str, rx: int, tx: int) -> dict[str, Any]:
    return {"time": time, **_interface(rx, tx), "interfaces": [_interface(rx, tx)]}


def pod_stats(sample: PodSample) -> dict[str, Any]:
    time = rfc3339(sample.time)
    run = sample.run
    containers = []
    cores = core_seconds = 0.0
    memory = 0
    for usage, seconds, started in sample.containers:
        containers.append(
            {
                "name": usage.name,
                "startTime": rfc3339(started),
                "cpu": _cpu(time, usage.cpu, seconds),
                "memory": _memory(time, usage.memory),
            }
        )
        cores += usage.cpu
        core_seconds += seconds
        memory += usage.memory
    return {
        "podRef": {"name": run.name, "namespace": run.namespace, "uid": run.uid},
        "startTime": rfc3339(sample.start),
        "containers": containers,
        "cpu": _cpu(time, cores, core_seconds),
        "memory": _memory(time, memory),
        "network": _network(time, sample.rx_bytes, sample.tx_bytes),
        "process_stats": {"process_count": len(containers)},
    }


class KubeletStats:
    """The node's kubelet, answering the paths the API server's node proxy forwards."""

    def __init__(self, kubelet: Kubelet, usage: Usage) -> None:
        self.kubelet = kubelet
        self.usage = usage
        self.boot = usage.wall_now()  # the node's stats started with the simulation
        # pod uid -> every (rx, tx, rx packets, tx packets) it served: tests compare
        # what binderctl reports with what was served
        self.served: dict[str, list[tuple[int, int, int, int]]] = {}
        self.summaries = 0  # summaries served

    def get(self, node: str, path: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) for ``path`` below the kubelet's root; None for a
        node that is not this one."""
        if node != self.kubelet.node_name:
            return None
        if path == SUMMARY_PATH:
            return 200, "application/json", orjson.dumps(self.summary())
        if path == CADVISOR_PATH:
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.cadvisor().encode()
        return NOT_FOUND

    def _samples(self) -> list[PodSample]:
        samples = list(self.usage.samples())
        for sample in samples:
            counters = (sample.rx_bytes, sample.tx_bytes, sample.rx_packets, sample.tx_packets)
            self.served.setdefault(sample.run.uid, []).append(counters)
        return samples

    def summary(self) -> dict[str, Any]:
        self.summaries += 1
        samples = self._samples()
        time = rfc3339(self.usage.wall_now())
        pods = [pod_stats(sample) for sample in samples]
        cores = sum(u.cpu for s in samples for u, _, _ in s.containers)
        core_seconds = sum(seconds for s in samples for _, seconds, _ in s.containers)
        used = sum(u.memory for s in samples for u, _, _ in s.containers)
        disk = self.kubelet.disk
        fs = {
            "time": time,
            "availableBytes": disk.available,
            "capacityBytes": disk.capacity,
            "usedBytes": disk.used,
        }
        return {
            "node": {
                "nodeName": self.kubelet.node_name,
                "systemContainers": [
                    {
                        "name": "pods",
                        "startTime": rfc3339(self.boot),
                        "cpu": _cpu(time, cores, core_seconds),
                        "memory": _memory(time, used),
                    }
                ],
                "startTime": rfc3339(self.boot),
                "cpu": _cpu(time, cores, core_seconds),
                "memory": _memory(time, used),
                "network": _network(
                    time, sum(s.rx_bytes for s in samples), sum(s.tx_bytes for s in samples)
                ),
                "fs": fs,
                "runtime": {"imageFs": fs},
            },
            "pods": pods,
        }

    def cadvisor(self) -> str:
        samples = self._samples()
        stamp = math.floor(self.usage.wall_now()) * 1000
        lines: list[str] = []
        for name, help_text, field in NETWORK_FAMILIES:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            lines += [
                f"{name}{{{_labels(sample)}}} {getattr(sample, field)} {stamp}"
                for sample in samples
            ]
        return "\n".join(lines) + "\n"


def _labels(sample: PodSample) -> str:
    run = sample.run
    qos = run.qos.lower()
    cgroup = "/kubepods" + ("" if qos == "guaranteed" else f"/{qos}") + f"/pod{run.uid}"
    pairs: Iterable[tuple[str, str]] = (
        ("container", ""),
        ("id", cgroup),
        ("image", ""),
        ("interface", INTERFACE),
        ("name", ""),
        ("namespace", run.namespace),
        ("pod", run.name),
    )
    return ",".join(f'{key}="{value}"' for key, value in pairs)
