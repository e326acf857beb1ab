"""Resource usage for ``metrics.k8s.io``, following what runs on the node.

A session uses a few hundred MiB and a little CPU (its own steady level, with noise per
15-second window), a build one core and one to two GiB, BinderHub's components and the
k3s add-ons small fixed amounts; the node is the sum plus the system's own use.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from binderctl.demo.kube.sources import ContainerUsage
from binderctl.demo.member.kubelet import Kubelet, Run

if TYPE_CHECKING:
    from binderctl.demo.member.usage import Behaviour

MI = 1024**2
WINDOW = 15.0
SYSTEM_CPU = 0.35  # k3s server, containerd, flannel
SYSTEM_MEMORY = 1800 * MI
# container name -> (cores, bytes) for the long-running programs
STEADY: dict[str, tuple[float, int]] = {
    "binder": (0.02, 260 * MI),
    "hub": (0.04, 300 * MI),
    "chp": (0.01, 90 * MI),
    "dind": (0.03, 220 * MI),
    "coredns": (0.004, 24 * MI),
    "metrics-server": (0.006, 30 * MI),
    "local-path-provisioner": (0.001, 12 * MI),
    "traefik": (0.005, 60 * MI),
    "lb-tcp-80": (0.0, 1 * MI),
    "lb-tcp-443": (0.0, 1 * MI),
    "helm": (0.05, 60 * MI),
    "docker-registry": (0.002, 20 * MI),
}


def unit(*parts: object) -> float:
    """A deterministic number in [0, 1) for the given parts."""
    return zlib.crc32("/".join(map(str, parts)).encode()) / 2**32


class Metrics:
    """The ``MetricsSource`` of the Kubernetes emulator. ``behaviours`` (by pod uid) are
    the sessions that misbehave (``usage.Behaviour``): their notebook uses what the
    behaviour says."""

    def __init__(self, kubelet: Kubelet, now: Callable[[], float]) -> None:
        self._kubelet = kubelet
        self._now = now
        self.behaviours: dict[str, Behaviour] = {}

    def container_usage(self, run: Run, name: str) -> ContainerUsage:
        window = int(self._now() // WINDOW)
        noise = unit(run.uid, name, window)
        steady = STEADY.get(name)
        behaviour = self.behaviours.get(run.uid) if name == "notebook" else None
        if behaviour is not None:
            cpu = behaviour.cpu * (0.995 + 0.005 * noise)
            memory = int((300 + 100 * unit(run.uid, "memory")) * MI)
        elif name == "notebook":
            base = unit(run.uid, "memory")
            cpu = 0.002 + 0.03 * noise + (0.6 if noise > 0.97 else 0.0)
            memory = int((150 + 750 * base + 40 * noise) * MI)
        elif name == "builder":
            cpu = 0.7 + 0.3 * noise
            memory = int((1000 + 800 * unit(run.uid, "memory") + 100 * noise) * MI)
        elif steady is not None:
            cpu = steady[0] * (0.7 + 0.6 * noise)
            memory = int(steady[1] * (0.95 + 0.1 * noise))
        else:
            cpu, memory = 0.005 * (0.5 + noise), int((20 + 20 * noise) * MI)
        return ContainerUsage(name, round(cpu, 6), memory)

    def pod_usage(self, namespace: str, pod: str) -> Sequence[ContainerUsage] | None:
        run = self._kubelet.run_of(namespace, pod)
        if run is None or run.phase != "Running":
            return None
        return [
            self.container_usage(run, name)
            for name, _ in run.containers
            if "running" in run.states.get(name, {})
        ]

    def node_usage(self, node: str) -> tuple[float, int] | None:
        if node != self._kubelet.node_name:
            return None
        cpu, memory = SYSTEM_CPU, SYSTEM_MEMORY
        for run in self._kubelet.runs.values():
            if run.phase != "Running":
                continue
            for name, _ in run.containers:
                if "running" in run.states.get(name, {}):
                    usage = self.container_usage(run, name)
                    cpu += usage.cpu
                    memory += usage.memory
        return round(cpu, 6), memory
