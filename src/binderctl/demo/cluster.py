"""The k3s cluster behind a demo node: the Kubernetes API emulator, its control plane,
the simulated member on the node, and BinderHub's ingress on the node's address.

``ClusterFactory`` is the node's ``K3sStarter``: the simulated node calls it when
cloud-init's k3s install starts the service, with what cloud-init configured.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from binderctl.config import SERVER_TYPE_MEMORY_GB
from binderctl.demo.kube import tls
from binderctl.demo.kube.controllers.plane import ControlPlane
from binderctl.demo.kube.kubeconfig import kubeconfig_yaml
from binderctl.demo.kube.server import KubeAPIServer
from binderctl.demo.kube.store import Store
from binderctl.demo.member.binderhub_http import BinderHubApp
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.simulation import Member, MemberOptions
from binderctl.demo.node.k3s import K3sParams

API_PORT = 6443


@dataclass(frozen=True)
class ClusterSettings:
    """What the world decides about every cluster it starts."""

    binder_host: str
    hub_host: str
    https_port: int
    ingress: tls.ClusterCredentials  # serves the binder and hub hosts, signed by the demo CA
    server_type: str = "ccx63"
    seed: int = 0
    speed: float = 1.0
    launches_per_minute: float = 6.0


class EmulatedK3s:
    """One node's k3s: implements the node's ``K3sCluster`` protocol."""

    def __init__(self, params: K3sParams, settings: ClusterSettings) -> None:
        self.params = params
        self.settings = settings
        self.store = Store()
        self.credentials = tls.generate(ips=[params.public_ip, *params.tls_sans])
        self.plane = ControlPlane(self.store, speed=settings.speed, host=params.node_name)
        self.member = Member(
            self.store,
            MemberOptions(
                node_name=params.node_name,
                node_ip=params.public_ip,
                server_type=settings.server_type,
                max_pods=params.max_pods,
                node_cidr_mask=params.node_cidr_mask,
                k3s_version=params.version,
                binder_host=settings.binder_host,
                hub_host=settings.hub_host,
                launches_per_minute=settings.launches_per_minute,
                up=False,
                image_gc_high_percent=params.image_gc_high_percent,
                image_gc_low_percent=params.image_gc_low_percent,
                disabled=params.disabled,
                plain_http_registries=params.plain_http_registries,
            ),
            seed=settings.seed,
            clock=SimClock(settings.speed),
        )
        self.server = KubeAPIServer(
            self.store, self.member.logs, self.member.metrics, credentials=self.credentials
        )
        self.ingress = BinderHubApp(self.member)
        self.running = False

    @property
    def kubeconfig_yaml(self) -> str:
        return kubeconfig_yaml(self.credentials)

    async def start(self) -> EmulatedK3s:
        await self.plane.start()
        self.member.start()
        await self.ingress.start(
            self.params.public_ip, self.settings.https_port, self._ingress_context()
        )
        await self.set_running(True)
        return self

    def _ingress_context(self) -> ssl.SSLContext:
        context = self.settings.ingress.server_context()
        context.verify_mode = ssl.CERT_NONE
        return context

    async def set_running(self, running: bool) -> None:
        if running and not self.running:
            await self.server.start(self.params.public_ip, API_PORT)
        elif not running and self.running:
            await self.server.stop()
        self.running = running

    async def rotate_certificates(self) -> None:
        self.credentials = self.credentials.rotate_client()
        self.server.credentials = self.credentials

    async def prune_images(self) -> int:
        return self.member.prune_images()

    async def disk_usage(self) -> tuple[int, int]:
        return self.member.disk_usage()

    async def stop(self) -> None:
        await self.set_running(False)
        await self.ingress.stop()
        await self.member.stop()
        await self.plane.stop()


class ClusterFactory:
    """The world's ``K3sStarter``: starts a cluster per node and keeps it by node name."""

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.clusters: dict[str, EmulatedK3s] = {}

    async def __call__(self, params: K3sParams) -> EmulatedK3s:
        old = self.clusters.pop(params.node_name, None)
        if old is not None:
            await old.stop()
        cluster = await EmulatedK3s(params, self.settings).start()
        self.clusters[params.node_name] = cluster
        return cluster

    async def stop(self, node_name: str | None = None) -> None:
        names = [node_name] if node_name else list(self.clusters)
        for name in names:
            cluster = self.clusters.pop(name, None)
            if cluster is not None:
                await cluster.stop()


def memory_gib(server_type: str) -> int:
    return SERVER_TYPE_MEMORY_GB.get(server_type, 16)
