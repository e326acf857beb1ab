"""``Member``: one k3s node running BinderHub, simulated on the emulator's asyncio loop.

Everything it does is a timer on one ``Timeline`` in simulated time; ``run`` keeps the
timeline in step with a ``SimClock`` (``speed`` times real time), ``advance`` moves it
by hand (tests). Given the same seed and the same API writes at the same simulated
times, two members do exactly the same things.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import yaml

from binderctl.config import DEFAULT_K3S_VERSION, default_max_pods, reads_values_secrets
from binderctl.demo import k3s_channels
from binderctl.demo.kube import types
from binderctl.demo.kube.events import EventRecorder, rfc3339
from binderctl.demo.kube.quantity import parse_quantity
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member import build_requests, charts, prestart, programs, system
from binderctl.demo.member import logformats as fmt
from binderctl.demo.member.builds import BUILD_LABEL, Builds
from binderctl.demo.member.charts import Release, get
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.hardware import Hardware
from binderctl.demo.member.helm import CHART_LABEL, HelmController
from binderctl.demo.member.hub_config import authenticator_error
from binderctl.demo.member.image_cleaner import ImageCleaner
from binderctl.demo.member.kubelet import Kubelet, Plan, Workload
from binderctl.demo.member.kubelet_stats import KubeletStats
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.metrics import Metrics
from binderctl.demo.member.objects import Writer
from binderctl.demo.member.repos import RepoCatalog
from binderctl.demo.member.sessions import SESSION_LABELS, Hub, Settings
from binderctl.demo.member.timeline import Timeline
from binderctl.demo.member.upgrade_controller import ChannelResolver, UpgradeController
from binderctl.demo.member.usage import MINER, SCANNER_CPU, Behaviour, Usage
from binderctl.demo.node.k3s import K3sHost
from binderctl.services.cloudinit import node_cidr_mask
from binderctl.services.prime_versions import PINNED_BUILD_IMAGE, binderhub_version_for
from binderctl.services.system_upgrade import upgrade_image

RELEASE = "binderhub"
HUB_FAILS_AFTER = 3.0  # simulated seconds from start to a bad config's exit
RELEASE_NAMESPACE = "binderhub"
BINDERHUB_VERSION = "1.0.0-0.dev.git.3983.h383374de"
REGISTRY_NODE_PORT = 30500
# What a pod or dind means by these hosts is itself, not the node.
POD_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_STEP = 1.0  # longest real-time sleep of the run loop


@dataclass(frozen=True)
class MemberOptions:
    node_name: str = "demo"
    node_ip: str = "127.0.0.1"
    server_type: str = "ccx63"
    max_pods: int | None = None  # default: 1.75 x the server type's RAM in GB
    # the node's pod range (--node-cidr-mask-size); None: what binderctl's cloud-init
    # asks k3s for max_pods (a /24 unless more pods need a bigger one)
    node_cidr_mask: int | None = None
    k3s_version: str = DEFAULT_K3S_VERSION
    binder_host: str = "binder.example.org"
    hub_host: str = "hub.binder.example.org"
    launches_per_minute: float = 6.0
    sessions: int = 0  # sessions already running at the start (needs ``up``)
    up: bool = True  # BinderHub installed before the start
    quota: int | None = 100  # the launch quota of the default chart
    charts: tuple[Obj, ...] = ()  # HelmChart objects installed before the start
    cull_timeout: float = 600.0
    cull_every: float = 660.0
    cull_max_age: float = 21600.0
    image_gc_high_percent: int = 85
    image_gc_low_percent: int = 80
    extra_images: frozenset[str] = field(default_factory=frozenset)
    disabled: tuple[str, ...] = ()  # k3s --disable: packaged components not deployed
    # containerd's registries.yaml http mirrors; None: the in-cluster registry's, as
    # binderctl's cloud-init writes it
    plain_http_registries: tuple[str, ...] | None = None

    @property
    def in_cluster_registry(self) -> str:
        return f"{self.node_ip}:{REGISTRY_NODE_PORT}"


def binderhub_chart(quota: int | None, image_prefix: str, **values: Any) -> Obj:
    """A ``binderhub`` HelmChart like the one binderctl applies (give ``registry`` and
    ``dind`` values to match the prefix)."""
    content = {
        "config": {
            "BinderHub": {
                "use_registry": True,
                "image_prefix": image_prefix,
                "hub_url_local": "http://proxy-public",
            },
            "LaunchQuota": {"total_quota": quota},
        },
        "imageBuilderType": "dind",
        "imageCleaner": {"enabled": False},
        "service": {"type": "ClusterIP"},
        "jupyterhub": {"proxy": {"service": {"type": "ClusterIP"}}},
        **values,
    }
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": RELEASE, "namespace": "kube-system"},
        "spec": {
            "repo": "https://jupyterhub.github.io/helm-chart/",
            "chart": "binderhub",
            "version": BINDERHUB_VERSION,
            "targetNamespace": RELEASE_NAMESPACE,
            "createNamespace": True,
            "valuesContent": yaml.safe_dump(content, sort_keys=True),
        },
    }


def in_cluster_binderhub_chart(quota: int | None, node_ip: str, **values: Any) -> Obj:
    """The ``binderhub`` HelmChart binderctl applies with the in-cluster registry."""
    registry = f"{node_ip}:{REGISTRY_NODE_PORT}"
    return binderhub_chart(
        quota,
        f"{registry}/binder-",
        registry={"url": f"http://{registry}"},
        dind={"daemonset": {"extraArgs": [f"--insecure-registry={registry}"]}},
        **values,
    )


def registry_chart() -> Obj:
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "registry", "namespace": "kube-system"},
        "spec": {
            "repo": "https://helm.twun.io",
            "chart": "docker-registry",
            "version": "2.2.3",
            "targetNamespace": "registry",
            "createNamespace": True,
            "valuesContent": yaml.safe_dump({"service": {"type": "NodePort", "nodePort": 30500}}),
        },
    }


def quota_of(values: dict[str, Any]) -> int | None:
    """``LaunchQuota.total_quota``, or the deprecated ``BinderHub.pod_quota``."""
    for path in ("config.LaunchQuota.total_quota", "config.BinderHub.pod_quota"):
        quota = get(values, path, "missing")
        if quota != "missing":
            return None if quota is None else int(quota)
    return None


def banned_of(values: dict[str, Any]) -> dict[str, list[str]]:
    """Each repo provider's ``banned_specs`` in BinderHub's config
    (``config.<provider class>.banned_specs``, e.g. ``GitHubRepoProvider``)."""
    config = values.get("config") or {}
    return {
        name: [str(pattern) for pattern in section["banned_specs"]]
        for name, section in config.items()
        if isinstance(section, dict) and isinstance(section.get("banned_specs"), list)
    }


class _Program:
    """Workload of a long-running program (add-ons, BinderHub's components)."""

    def __init__(self, member: Member) -> None:
        self.member = member

    def plan(self, pod: Obj) -> Plan:
        if _component(pod) == "hub" and self.member.hub_error() is not None:
            return Plan(ready_after=None, exit_after=HUB_FAILS_AFTER, exit_code=1)
        return Plan(ready_after=ready_after(pod, self.member.rng.uniform(1.0, 5.0)))

    def started(self, pod: Obj, container: str) -> None:
        meta = pod["metadata"]
        if _component(pod) == "binder":
            self._read_binder_config(pod)
        program = programs.program(container)
        logs = self.member.logs
        if program.chatter is not None:
            logs.chatter(meta["namespace"], meta["name"], container, program.rate, program.chatter)
        now = self.member.clock.wall(self.member.timeline.now)
        logs.write_many(meta["namespace"], meta["name"], container, program.startup(now))
        error = self.member.hub_error() if _component(pod) == "hub" else None
        if error is not None:
            logs.write_many(meta["namespace"], meta["name"], container, [
                fmt.jupyterhub("C", now, "application:1118", "Bad config encountered during "
                            "initialization: " + error.split(": ", 1)[1]),
                "Traceback (most recent call last):",
                '  File "/usr/local/bin/jupyterhub", line 8, in <module>',
                error,
            ])  # fmt: skip
        if _component(pod) == "proxy":
            self.member.hub.proxy_started(meta["name"])

    def _read_binder_config(self, pod: Obj) -> None:
        meta = pod["metadata"]
        secret = self.member.store.find(types.SECRETS, meta["namespace"], charts.BINDER_SECRET)
        config = charts.binder_config_of(secret)
        if config is not None:
            self.member.hub.binder_started(meta["name"], quota_of(config), banned_of(config))

    def ready(self, pod: Obj) -> None:
        name, hub = pod["metadata"]["name"], self.member.hub
        component = _component(pod)
        if component == "hub":
            # the hub reads its config (z2jh's singleuser settings) when it starts
            annotations = get(self.member.values, "jupyterhub.singleuser.extraAnnotations")
            hub.session_annotations = dict(annotations or {})
            hub.hub_ready(name)
        elif component == "binder":
            if name not in hub.binder_quotas:  # a pod that ran before the simulation began
                self._read_binder_config(pod)
            hub.binder_ready(name)
        elif component == "image-builder":
            self.member.builds.dind_pods.add(name)

    def exited(self, pod: Obj, container: str, code: int) -> None:
        return None

    def rejected(self, pod: Obj, reason: str) -> None:
        return None

    def removed(self, pod: Obj) -> None:
        name, hub = pod["metadata"]["name"], self.member.hub
        component = _component(pod)
        if component == "hub":
            hub.hub_gone(name)
        elif component == "binder":
            hub.binder_gone(name)
        elif component == "proxy":
            hub.proxy_gone(name)
        elif component == "image-builder":
            self.member.builds.dind_gone(name)


def ready_after(pod: Obj, startup: float) -> float:
    """When a program that is up after ``startup`` seconds is Ready: at once without a
    readiness probe that states its period, else at the first probe after that
    (``initialDelaySeconds``, then every ``periodSeconds``)."""
    probes = [
        c["readinessProbe"] for c in pod["spec"]["containers"]
        if "periodSeconds" in (c.get("readinessProbe") or {})
    ]  # fmt: skip
    if not probes:
        return startup
    delay = float(probes[0].get("initialDelaySeconds", 0))
    period = float(probes[0]["periodSeconds"])
    return delay + max(0, math.ceil((startup - delay) / period)) * period


def _component(pod: Obj) -> str | None:
    labels = pod["metadata"].get("labels") or {}
    if labels.get("release") != RELEASE and labels.get("app.kubernetes.io/instance") != RELEASE:
        return None
    return labels.get("component")


class Member:
    def __init__(
        self,
        store: Store,
        options: MemberOptions | None = None,
        *,
        seed: int = 0,
        clock: SimClock | None = None,
    ) -> None:
        self.options = options = options or MemberOptions()
        for rt in types.ALL:
            if store.type_for(rt.group, rt.plural) is None:
                store.register(rt)
        self.store = store
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = clock or SimClock()
        self.timeline = Timeline()
        self.logs = LogBook(self.timeline, self.clock, seed)
        self.events = EventRecorder(store, self.wall_now, self.timeline.after)
        self.writer = Writer(store, self._fork(), self.wall_now)
        self.max_pods = options.max_pods or default_max_pods(options.server_type) or 110
        self.known_images: set[str] = set(system.IMAGES) | set(options.extra_images) | {
            charts.HUB_IMAGE, charts.CHP_IMAGE, charts.DIND_IMAGE, charts.REPO2DOCKER_IMAGE,
            charts.TRAEFIK_IMAGE, charts.KLIPPER_LB_IMAGE, charts.KLIPPER_HELM_IMAGE,
            charts.REGISTRY_IMAGE, PINNED_BUILD_IMAGE,
            *(upgrade_image(release) for release in k3s_channels.RELEASES),
        }  # fmt: skip
        self.kubelet = Kubelet(
            store,
            self.timeline,
            self.clock,
            self.events,
            self.logs,
            self._fork(),
            node_name=options.node_name,
            node_ip=options.node_ip,
            hardware=Hardware.of(options.server_type),
            max_pods=self.max_pods,
            node_cidr_mask=options.node_cidr_mask or node_cidr_mask(self.max_pods),
            k3s_version=options.k3s_version,
            image_size=self._image_size,
            workload_for=self._workload_for,
            image_gc_high_percent=options.image_gc_high_percent,
            image_gc_low_percent=options.image_gc_low_percent,
        )
        self.settings = Settings(
            namespace=RELEASE_NAMESPACE,
            release=RELEASE,
            binder_host=options.binder_host,
            hub_host=options.hub_host,
            image_prefix=f"{options.in_cluster_registry}/binder-",
            quota=options.quota,
            cull_timeout=options.cull_timeout,
            cull_every=options.cull_every,
            cull_max_age=options.cull_max_age,
        )
        self.hub = Hub(
            store, self.writer, self.timeline, self.logs, self.kubelet, self._fork(),
            RepoCatalog(self._fork()), self.settings, self.clock.wall,
        )  # fmt: skip
        self.builds = Builds(
            self.writer, self.timeline, self.logs, self.kubelet, self.hub, self._fork(),
            RELEASE_NAMESPACE,
        )  # fmt: skip
        self.hub.build = self.builds.request
        self.helm = HelmController(
            store, self.writer, self.timeline, self.events, self.logs,
            self._installed, options.node_ip,
            reads_values_secrets(options.k3s_version),
        )  # fmt: skip
        self.image_cleaner = ImageCleaner(
            store, self.timeline, self.logs, self.kubelet.disk, self.wall_now
        )
        # The node's k3s as a privileged pod sees it, and how a channel URL resolves:
        # the world gives both (a member without a node has neither).
        self.host: K3sHost | None = None
        self.channel_resolver: ChannelResolver | None = None
        self.upgrades = UpgradeController(
            store, self.writer, self.timeline, self.events, self.logs,
            host=lambda: self.host,
            resolve_channel=lambda url: self._resolve_channel(url),
        )  # fmt: skip
        self.metrics = Metrics(self.kubelet, lambda: self.timeline.now)
        self.usage = Usage(
            store, self.kubelet, self.metrics, lambda: self.timeline.now, self.clock.wall
        )
        self.kubelet_stats = KubeletStats(self.kubelet, self.usage)
        self.hub.misbehave = self._misbehave
        self._program = _Program(self)
        self.values: dict[str, Any] = {}
        # what /versions reports: the installed chart's BinderHub build
        self.binderhub_version = binderhub_version_for(BINDERHUB_VERSION) or BINDERHUB_VERSION
        self.faults = Faults()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._boot()

    def _fork(self) -> random.Random:
        return random.Random(self.rng.getrandbits(64))

    def wall_now(self) -> float:
        return self.clock.wall(self.timeline.now)

    def stamp(self) -> str:
        return rfc3339(self.wall_now())

    # -- start -------------------------------------------------------------------------
    def _boot(self) -> None:
        options = self.options
        self.kubelet.register()
        self.helm.attach()
        for ns in system.namespaces():
            if self.store.find(types.NAMESPACES, None, ns["metadata"]["name"]) is None:
                self.writer.create(types.NAMESPACES, ns)
        add_ons = system.add_ons()
        for rt, obj in add_ons:
            self.writer.apply(rt, obj)
        rendered = list(add_ons)
        charts_now = list(system.bundled_charts(options.disabled))
        if options.up:
            charts_now += options.charts or (
                registry_chart(),
                in_cluster_binderhub_chart(options.quota, options.node_ip),
            )
        for chart in charts_now:
            release = self.helm.install_now(chart)
            if release is not None:
                rendered += charts.render(release)
        if options.up:
            self._prestart(rendered)
            for pod in self.hub.existing(options.sessions, options.node_name):
                self.writer.create(types.PODS, pod)
        self.hub.start_arrivals(options.launches_per_minute)
        self.hub.start_culler()
        self.builds.start_cleaner()

    def _prestart(self, rendered: charts.Rendered) -> None:
        rng, node = self._fork(), self.options.node_name
        for rt, obj in rendered:
            meta = obj["metadata"]
            stored = self.store.find(rt, meta.get("namespace"), meta["name"])
            if rt is types.DEPLOYMENTS and stored is not None:
                prestart.deployment_pods(self.writer, stored, node, rng)
            elif rt is types.DAEMONSETS and stored is not None:
                prestart.daemonset_pod(self.writer, stored, node, rng)

    def _installed(self, release: Release) -> None:
        self.known_images |= charts.images(replace(release, values={}))
        if release.chart == "binderhub":
            self.binderhub_version = binderhub_version_for(release.version) or release.version
            self._apply_values(release.values)

    def _apply_values(self, values: dict[str, Any]) -> None:
        """A release installed or upgraded (the launch quota reaches BinderHub only through
        its pods' config: ``Hub.launch_quota``)."""
        self.values = values
        prefix = get(values, "config.BinderHub.image_prefix")
        if prefix:
            self.settings.image_prefix = prefix
        self.builds.dind = get(values, "imageBuilderType", "host") == "dind"
        image = get(values, "config.KubernetesBuildExecutor.build_image")
        self.builds.build_image = image or charts.REPO2DOCKER_IMAGE
        self.builds.push_error = push_error(values, self.options.node_ip)

    def _misbehave(self, pod: Obj, kind: str) -> None:
        """A session of a misbehaving repository has started: a miner keeps its CPU
        limit busy, a scanner a sixth of a core."""
        limits = pod["spec"]["containers"][0].get("resources", {}).get("limits", {})
        cpu = parse_quantity(limits.get("cpu", 1)) if kind == MINER else SCANNER_CPU
        self.metrics.behaviours[pod["metadata"]["uid"]] = Behaviour(kind, cpu)

    # -- pods and what they do ---------------------------------------------------------
    def _workload_for(self, pod: Obj) -> Workload:
        labels = pod["metadata"].get("labels") or {}
        if labels.get("component") == "singleuser-server":
            return self.hub
        if labels.get("component") == BUILD_LABEL:
            return self.builds
        if CHART_LABEL in labels:
            return self.helm
        if labels.get("component") == "image-cleaner":
            return self.image_cleaner
        if UpgradeController.handles(pod):
            return self.upgrades
        return self._program

    def _image_size(self, image: str) -> int | None:
        if image in self.faults.unpullable_images:
            return None
        plain_http = self.options.plain_http_registries
        if plain_http is None:
            plain_http = (self.options.in_cluster_registry,)
        if image.startswith(self.options.in_cluster_registry + "/") and (
            self.options.in_cluster_registry not in plain_http
        ):
            return None  # containerd speaks HTTPS to it: "server gave HTTP response"
        if image in self.hub.registry:
            return self.hub.registry[image]
        if image in self.known_images:
            return 50_000_000 + sum(map(ord, image)) * 100_000
        return None

    # -- running -----------------------------------------------------------------------
    def advance(self, seconds: float) -> int:
        """Run everything due in the next ``seconds`` of simulated time (tests)."""
        return self.timeline.run_until(self.timeline.now + seconds)

    def start(self) -> None:
        """Follow the clock on the running loop (call from the loop)."""
        if self._task is None:
            self.timeline.on_schedule = self._wake.set
            self.timeline.present = self.clock.elapsed
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.timeline.run_until(max(self.timeline.now, self.clock.elapsed()))
            due = self.timeline.next_due()
            delay = MAX_STEP
            if due is not None:
                delay = min(MAX_STEP, max(0.0, self.clock.real_seconds(due - self.clock.elapsed())))
            self._wake.clear()
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for loses a cancellation
            # that arrives as the event is set, and stop() would wait forever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self.timeline.on_schedule = None
            self.timeline.present = None

    def _resolve_channel(self, url: str) -> str:
        if self.channel_resolver is None:
            raise ValueError(f'Get "{url}": dial tcp: lookup: no such host')
        return self.channel_resolver(url)

    def k3s_upgraded(self, version: str) -> None:
        """k3s started from another release: the node reports it, and the bundled
        helm-controller is that release's."""
        self.kubelet.k3s_version = version
        self.helm.reads_values_secrets = reads_values_secrets(version)

        def report(node: Obj) -> None:
            info = node["status"]["nodeInfo"]
            info["kubeletVersion"] = info["kubeProxyVersion"] = version

        self.store.mutate(types.NODES, None, self.options.node_name, report)

    # -- what other parts of the demo world ask --------------------------------------
    def hub_error(self) -> str | None:
        """Why JupyterHub would exit at start with the installed release's values."""
        release = self.helm.installed.get((RELEASE_NAMESPACE, RELEASE))
        return authenticator_error(release.values) if release is not None else None

    def prune_images(self) -> int:
        """``k3s crictl rmi --prune`` on the node: bytes freed."""
        return self.kubelet.prune_images()

    def disk_usage(self) -> tuple[int, int]:
        """(used, total) bytes of the node's root filesystem."""
        return self.kubelet.disk.used, self.kubelet.disk.capacity

    def add_sessions(self, count: int) -> None:
        """Sessions that were already running: a busy member, as the operator finds it."""
        for pod in self.hub.existing(count, self.options.node_name):
            self.writer.create(types.PODS, pod)

    def flood_logs(
        self, namespace: str, pod: str, container: str, per_second: float | None
    ) -> None:
        self.logs.flood(namespace, pod, container, per_second)

    # -- BinderHubState (for binderhub_http) -------------------------------------------
    @property
    def binder_host(self) -> str:
        return self.options.binder_host

    @property
    def hub_host(self) -> str:
        return self.options.hub_host

    def binder_up(self) -> bool:
        return self.hub.binder_up

    def hub_api_up(self) -> bool:
        return self.hub.hub_up and self.hub.proxy_up

    def hub_api_from_binder(self) -> bool:
        """Only an in-cluster ``hub_url_local`` (the proxy's Service) works: without it
        BinderHub calls ``hub_url``, the public https URL, which needs DNS and a Let's
        Encrypt certificate the demo never issues (stricter than a member whose
        certificate exists)."""
        release = self.helm.installed.get((RELEASE_NAMESPACE, RELEASE))
        values = release.values if release is not None else {}
        local = urlsplit(str(get(values, "config.BinderHub.hub_url_local") or ""))
        in_cluster = (local.hostname or "").split(".")
        if (
            local.scheme != "http"
            or in_cluster[0] != "proxy-public"
            or (len(in_cluster) > 1 and in_cluster[1] != RELEASE_NAMESPACE)
        ):
            return False
        return self.hub_api_up()

    def registry_up(self) -> bool:
        """BinderHub asks the registry its running release names: an external one
        answers (not 401) only with the password the chart put into its docker config."""
        if self.faults.registry_down:
            return False
        release = self.helm.installed.get((RELEASE_NAMESPACE, RELEASE))
        values = release.values if release is not None else {}
        url = urlsplit(str(get(values, "registry.url") or ""))
        if url.hostname is None or (
            url.hostname in POD_LOOPBACK and url.hostname != self.options.node_ip
        ):
            return False  # the binder pod's own loopback: connection refused
        if url.netloc != self.options.in_cluster_registry:
            return bool(get(values, "registry.password"))
        return any(
            run.phase == "Running" and run.ready and run.namespace == "registry"
            for run in self.kubelet.runs.values()
        )

    def pod_counts(self) -> tuple[int, int]:
        return self.hub.count_pods(SESSION_LABELS), self.hub.count_pods({"component": BUILD_LABEL})

    def quota(self) -> int | None:
        return self.hub.launch_quota()

    def versions(self) -> dict[str, Any]:
        """``VersionHandler``: the installed chart's BinderHub and the configured
        ``KubernetesBuildExecutor.build_image`` (the class default when unset)."""
        image = self.builds.build_image
        return {"builder_info": {"build_image": image}, "binderhub": self.binderhub_version,
                "builder": image}  # fmt: skip

    def websocket_lifetime(self) -> float | None:
        ingress = [r for r in self.helm.installed.values() if r.chart == "traefik"]
        if not ingress:
            return None
        return self.clock.real_seconds(charts.read_timeout(ingress[0]))

    def build_events(self, prefix: str, spec: str, accept: str) -> AsyncIterator[dict[str, Any]]:
        return build_requests.build_events(self.hub, prefix, spec, accept)

    def health_checked(self, results: list[dict[str, Any]], ok: bool) -> None:
        hub = self.hub
        hub.binder_log("I", "health:152", "Checking registry status")
        if not next(r["ok"] for r in results if r["service"] == "Docker registry"):
            hub.binder_log("E", "health:54", "Error checking check_docker_registry")
        hub.binder_log("I", "health:222", f"Getting pod statistics for {RELEASE_NAMESPACE}")
        if not ok:
            unhealthy = [r for r in results if not r["ok"]]
            hub.binder_log("W", "health:196", f"Unhealthy services: {unhealthy}")


def push_error(values: dict[str, Any], node_ip: str) -> str | None:
    """Why dind cannot push to the registry of ``image_prefix`` (None: it can). dind
    runs in a pod without the host network, and dockerd speaks HTTPS to a registry
    not named in ``--insecure-registry``."""
    prefix = str(get(values, "config.BinderHub.image_prefix") or "")
    registry = prefix.split("/", 1)[0]
    host = registry.rsplit(":", 1)[0].strip("[]")
    if host in POD_LOOPBACK and host != node_ip:
        return (
            f'Get "https://{registry}/v2/": dial tcp {"[::1]" if host == "::1" else "127.0.0.1"}'
            f":{registry.rsplit(':', 1)[-1]}: connect: connection refused"
        )
    args = get(values, "dind.daemonset.extraArgs") or []
    if (
        registry == f"{node_ip}:{REGISTRY_NODE_PORT}"
        and f"--insecure-registry={registry}" not in args
    ):
        return f'Get "https://{registry}/v2/": http: server gave HTTP response to HTTPS client'
    return None


@dataclass
class Faults:
    """Knobs tests turn: ``registry_down`` fails BinderHub's "Docker registry" check;
    pulls of ``unpullable_images`` fail (``ErrImagePull``, then ``ImagePullBackOff``)
    until the image is taken out of the set."""

    registry_down: bool = False
    unpullable_images: set[str] = field(default_factory=set)
