"""Emulated k3s, put together one way for the demo world and for the tests.

``KubeStack`` is what serves the Kubernetes API: the object store, the control plane
(controllers and scheduler) and the API server. ``MemberStack`` adds the simulated member
behind it (kubelet, helm-controller, BinderHub) and BinderHub's ingress in front of it.
``EmulatedK3s`` is the k3s of a demo node: a MemberStack on the node's address that
implements the node's ``K3sCluster`` protocol; ``ClusterFactory`` is the node's
``K3sStarter``, which the simulated node calls when cloud-init's k3s install starts the
service, with what cloud-init configured.

Everything runs on one asyncio loop: build, ``start()``, then ``serve`` the API (and the
ingress) where it should listen; ``stop()`` ends it all.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from binderctl.config import SERVER_TYPE_MEMORY_GB
from binderctl.demo.kube import tls
from binderctl.demo.kube.controllers.plane import ControlPlane
from binderctl.demo.kube.discovery import VersionInfo
from binderctl.demo.kube.kubeconfig import kubeconfig_yaml
from binderctl.demo.kube.server import KubeAPIServer
from binderctl.demo.kube.sources import KubeletSource, LogSource, MetricsSource
from binderctl.demo.kube.store import Store
from binderctl.demo.member.binderhub_http import BinderHubApp
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.simulation import Member, MemberOptions
from binderctl.demo.node.k3s import K3sParams

API_PORT = 6443


class KubeStack:
    """The store, the control plane (none when ``speed`` is None: nothing reconciles) and
    the API server, which reads container logs and usage from ``logs`` and ``metrics``.
    ``seed`` fixes the names and uids the API server and the controllers make up."""

    def __init__(
        self,
        logs: LogSource | None = None,
        metrics: MetricsSource | None = None,
        *,
        store: Store | None = None,
        speed: float | None = 1.0,
        seed: int | None = None,
        credentials: tls.ClusterCredentials | None = None,
        host: str = "k3s-server",
        bookmark_interval: float = 60.0,
        event_time: Callable[[], float] = time.time,
        kubelets: KubeletSource | None = None,
    ) -> None:
        self.store = store or Store()
        self.plane = None
        if speed is not None:
            rng = None if seed is None else random.Random(seed)
            self.plane = ControlPlane(self.store, speed=speed, rng=rng, host=host, now=event_time)
        self.server = KubeAPIServer(
            self.store,
            logs,
            metrics,
            credentials=credentials,
            rng=None if seed is None else random.Random(seed),
            bookmark_interval=bookmark_interval,
            kubelets=kubelets,
        )

    @property
    def credentials(self) -> tls.ClusterCredentials:
        return self.server.credentials

    async def start(self) -> None:
        if self.plane is not None:
            await self.plane.start()

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the API on ``host:port`` (0: a free port); returns its URL."""
        return await self.server.start(host, port)

    async def stop(self) -> None:
        await self.server.stop()
        if self.plane is not None:
            await self.plane.stop()


class MemberStack(KubeStack):
    """A KubeStack with the simulated member behind it and BinderHub's ingress in front.
    The member's clock runs at ``speed`` unless ``clock`` is given. ``fixed_ids``: names
    and uids come from ``seed``, and the control plane's events carry the member's time
    (as the kubelet's do), so that what is shown of them is the same on every run."""

    def __init__(
        self,
        options: MemberOptions,
        *,
        speed: float = 1.0,
        seed: int = 0,
        clock: SimClock | None = None,
        fixed_ids: bool = False,
        credentials: tls.ClusterCredentials | None = None,
        host: str = "k3s-server",
    ) -> None:
        store = Store()
        self.member = Member(store, options, seed=seed, clock=clock or SimClock(speed))
        super().__init__(
            self.member.logs,
            self.member.metrics,
            store=store,
            speed=speed,
            seed=seed if fixed_ids else None,
            credentials=credentials,
            host=host,
            event_time=self.member.wall_now if fixed_ids else time.time,
            kubelets=self.member.kubelet_stats,
        )
        self.ingress = BinderHubApp(self.member)

    async def start(self) -> None:
        await super().start()
        self.member.start()

    async def serve_ingress(self, host: str, port: int, ingress: tls.ClusterCredentials) -> int:
        """BinderHub's ingress on ``host:port`` with ``ingress``'s serving certificate
        (for the binder and hub hosts); returns the port."""
        context = ingress.server_context()
        context.verify_mode = ssl.CERT_NONE  # a web server: no client certificates
        return await self.ingress.start(host, port, context)

    async def stop(self) -> None:
        await self.ingress.stop()
        await self.member.stop()
        await super().stop()


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
    # what a k3s channel URL resolves to (the world's channel server), for Plans
    resolve_channel: Callable[[str], str] | None = None


class EmulatedK3s(MemberStack):
    """One node's k3s: implements the node's ``K3sCluster`` protocol."""

    def __init__(self, params: K3sParams, settings: ClusterSettings) -> None:
        self.params = params
        self.settings = settings
        options = MemberOptions(
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
        )
        super().__init__(
            options,
            speed=settings.speed,
            seed=settings.seed,
            credentials=tls.generate(ips=[params.public_ip, *params.tls_sans]),
            host=params.node_name,
        )
        self.server.version = VersionInfo(git_version=params.version)
        self.member.host = params.host
        self.member.channel_resolver = settings.resolve_channel
        self.running = False

    @property
    def kubeconfig_yaml(self) -> str:
        return kubeconfig_yaml(self.credentials)

    async def start(self) -> None:
        await super().start()
        await self.serve_ingress(
            self.params.public_ip, self.settings.https_port, self.settings.ingress
        )
        await self.set_running(True)

    async def set_running(self, running: bool) -> None:
        if running and not self.running:
            await self.serve(self.params.public_ip, API_PORT)
        elif not running and self.running:
            await self.server.stop()
        self.running = running

    async def rotate_certificates(self) -> None:
        self.server.credentials = self.credentials.rotate_client()

    async def upgraded(self, version: str) -> None:
        if version != self.params.version:
            self.params = replace(self.params, version=version)
            self.server.version = VersionInfo(git_version=version)
            self.member.k3s_upgraded(version)

    async def prune_images(self) -> int:
        return self.member.prune_images()

    async def disk_usage(self) -> tuple[int, int]:
        return self.member.disk_usage()

    async def stop(self) -> None:
        await self.set_running(False)
        await super().stop()


class ClusterFactory:
    """The world's ``K3sStarter``: starts a cluster per node and keeps it by node name."""

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.clusters: dict[str, EmulatedK3s] = {}

    async def __call__(self, params: K3sParams) -> EmulatedK3s:
        old = self.clusters.pop(params.node_name, None)
        if old is not None:
            await old.stop()
        cluster = EmulatedK3s(params, self.settings)
        await cluster.start()
        self.clusters[params.node_name] = cluster
        return cluster

    async def stop(self, node_name: str | None = None) -> None:
        names = [node_name] if node_name else list(self.clusters)
        for name in names:
            cluster = self.clusters.pop(name, None)
            if cluster is not None:
                await cluster.stop()


def memory_gib(server_type: str) -> int:
    """The memory of a Hetzner server type (16 for one this table does not know)."""
    return SERVER_TYPE_MEMORY_GB.get(server_type, 16)
