"""A k3s cluster with credentials but no API server, for node tests and a node on its own.

It issues what k3s issues (CAs, a one-year ``system:admin`` client certificate, the
k3s.yaml that names them, with the Kubernetes emulator's own helpers), models the disk
(images that a prune frees), and counts restarts. The world's starter, backed by the
Kubernetes emulator, replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from binderctl.demo.kube import tls
from binderctl.demo.kube.kubeconfig import kubeconfig_yaml
from binderctl.demo.node.k3s import K3sParams

GIB = 2**30


@dataclass
class LocalK3s:
    params: K3sParams
    disk_total: int = 160 * 10**9
    used_by_system: int = 6 * GIB
    unused_image_bytes: int = 3 * 800 * 2**20
    running: bool = True
    restarts: int = 0
    rotations: int = 0
    versions: list[str] = field(default_factory=list)  # releases it was started from
    credentials: tls.ClusterCredentials = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.credentials = tls.generate(ips=[self.params.public_ip, *self.params.tls_sans])

    @property
    def kubeconfig_yaml(self) -> str:
        return kubeconfig_yaml(self.credentials)

    async def set_running(self, running: bool) -> None:
        if running and not self.running:
            self.restarts += 1
        self.running = running

    async def upgraded(self, version: str) -> None:
        self.versions.append(version)

    async def rotate_certificates(self) -> None:
        self.rotations += 1
        self.credentials = self.credentials.rotate_client()

    async def prune_images(self) -> int:
        freed, self.unused_image_bytes = self.unused_image_bytes, 0
        return freed

    async def disk_usage(self) -> tuple[int, int]:
        return self.used_by_system + self.unused_image_bytes, self.disk_total


class LocalK3sStarter:
    """A ``K3sStarter`` that keeps the clusters it started, for tests to inspect."""

    def __init__(self) -> None:
        self.clusters: list[LocalK3s] = []

    async def __call__(self, params: K3sParams) -> LocalK3s:
        cluster = LocalK3s(params)
        self.clusters.append(cluster)
        return cluster
