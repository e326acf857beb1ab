"""`binderctl upgrade plan`: what runs, what is current, what the prime runs. Read-only.

For k3s, the BinderHub chart and its ``build_image``, cert-manager, traefik and the
in-cluster registry: what the member runs now (read from the cluster: the node's
``kubeletVersion``, the HelmCharts' versions, ``/versions``), what is current (k3s's
release channel; the prime's versions; binderctl's pins), and what the prime runs (its
public ``/versions``: BinderHub and ``build_image`` only), each with where it was read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.federation_config import FederationConfig
from binderctl.formatting import age
from binderctl.services import charts, k3s_releases, prime_versions
from binderctl.services.binderhub import fetch_health
from binderctl.services.kube import HELMCHARTS, Kube, KubeError, node_address
from binderctl.services.upgrade_charts import build_image_of
from binderctl.services.upgrade_k3s import node_version
from binderctl.services.upgrade_schedule import Schedule, schedule
from binderctl.upgrades_config import UpgradesConfig

Status = Literal["current", "behind", "out of support", "differs from the prime", "ahead", "?"]


@dataclass(frozen=True)
class Version:
    value: str  # "" when unknown
    source: str  # where it was read, or why it could not be


@dataclass(frozen=True)
class Component:
    name: str
    running: Version
    current: Version
    prime: Version | None  # None: the prime does not publish it
    status: Status
    note: str = ""
    action: str = ""  # the catalogue action that moves it, "" when none

    def to_json(self) -> dict[str, Any]:
        def shown(version: Version | None) -> dict[str, str] | None:
            return None if version is None else {"version": version.value, "source": version.source}

        return {
            "component": self.name,
            "running": shown(self.running),
            "current": shown(self.current),
            "prime": shown(self.prime),
            "status": self.status,
            "note": self.note,
            "action": self.action,
        }


@dataclass(frozen=True)
class UpgradePlan:
    member: str
    components: list[Component]
    channels: k3s_releases.Channels | None
    channels_error: str | None
    schedule: Schedule | None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "components": [c.to_json() for c in self.components],
            "k3s_channels": self.channels.to_json() if self.channels else None,
            "k3s_channels_error": self.channels_error,
            "schedule": self.schedule.to_json() if self.schedule else None,
            "warnings": self.warnings,
        }


def _compare(running: str, current: str, key: Any = None) -> Status:
    if not running or not current:
        return "?"
    if running == current:
        return "current"
    if key is not None:
        try:
            return "behind" if key(running) < key(current) else "ahead"
        except ValueError:
            return "?"
    return "behind"


K3sPart = tuple[Component, k3s_releases.Channels | None, str | None]


def _k3s(kube: Kube, upgrades: UpgradesConfig) -> K3sPart:
    node = node_version(kube)
    running = Version(node.version, f"node {node.name} status.nodeInfo.kubeletVersion")
    try:
        channels = k3s_releases.channels(upgrades.channel_url)
    except BinderctlError as exc:
        current = Version("", exc.message)
        return Component("k3s", running, current, None, "?"), None, exc.message
    goal = channels.channel(upgrades.channel) or ""
    read = age(max(0.0, time.time() - channels.fetched))
    cached = f"; cached, the server did not answer: {channels.error}" if channels.error else ""
    where = f"{upgrades.channel_url}/{upgrades.channel}"
    current = Version(goal, f"{where} (read {read} ago{cached})")
    status = _compare(node.version, goal, k3s_releases.release)
    notes = []
    supported = [k3s_releases.minor_text(m) for m in channels.supported()]
    if node.version and supported and not channels.is_supported(node.version):
        status = "out of support"
        minor = k3s_releases.minor_text(k3s_releases.minor_of(node.version))
        notes.append(
            f"{minor} is older than the three minors upstream maintains ({', '.join(supported)})"
        )
    step = channels.next_step(node.version, goal) if goal and node.version else None
    if step is not None:
        notes.append(f"next: {step} (one minor at a time)")
    action = "upgrade-k3s" if status in ("behind", "out of support") else ""
    component = Component("k3s", running, current, None, status, "; ".join(notes), action)
    return component, channels, channels.error


def _chart(present: dict[str, Any], name: str, source: charts.ChartSource, why: str) -> Component:
    chart = present.get(source.name)
    running = Version(
        str(((chart or {}).get("spec") or {}).get("version") or ""),
        f"HelmChart kube-system/{source.name} spec.version" if chart else "no HelmChart",
    )
    status = _compare(running.value, source.version, _semver)
    action = "upgrade-charts" if status == "behind" else ""
    return Component(name, running, Version(source.version, why), None, status, action=action)


def _semver(version: str) -> tuple[int, ...]:
    core = version.lstrip("v").split("-", 1)[0].split("+", 1)[0]
    return tuple(int(part) for part in core.split("."))


def _against_prime(name: str, running: Version, current: Version, prime: Version) -> Component:
    status: Status = "current" if running.value == current.value else "differs from the prime"
    action = "upgrade-charts" if status != "current" else ""
    return Component(name, running, current, prime, status, action=action)


def _binderhub(
    member: MemberConfig, federation: FederationConfig, chart: Any
) -> tuple[list[Component], list[str]]:
    """The BinderHub chart and build_image: running, current (= the prime's, unless the
    config pins them), the prime's."""
    pins = prime_versions.resolve(member, federation)
    versions = fetch_health(member, node_address(member)).versions
    prime_doc = pins.prime_versions or {}
    prime_source = (
        federation.prime_versions_url if pins.prime_versions else "the prime cannot be read"
    )
    serving = str(versions.get("binderhub") or "")
    running_chart = Version(
        str(((chart or {}).get("spec") or {}).get("version") or ""),
        "HelmChart kube-system/binderhub spec.version"
        + (f"; /versions binderhub {serving}" if serving else ""),
    )
    prime_chart = prime_versions.chart_version_for(str(prime_doc.get("binderhub") or ""))
    info = versions.get("builder_info")
    image = str(info.get("build_image") or "") if isinstance(info, dict) else ""
    running_image = (
        Version(image, "/versions builder_info.build_image")
        if image
        else Version(build_image_of(chart), "HelmChart kube-system/binderhub values")
    )
    prime_info = prime_doc.get("builder_info")
    prime_image = str(prime_info.get("build_image") or "") if isinstance(prime_info, dict) else ""
    components = [
        _against_prime(
            "binderhub chart",
            running_chart,
            Version(pins.chart_version, pins.chart_source),
            Version(prime_chart or "", prime_source),
        ),
        _against_prime(
            "build_image",
            running_image,
            Version(pins.build_image, pins.build_image_source),
            Version(prime_image, prime_source),
        ),
    ]
    return components, list(pins.warnings)


def upgrade_plan(
    member: MemberConfig, federation: FederationConfig, upgrades: UpgradesConfig
) -> UpgradePlan:
    """Every component's versions; reads the cluster, the channels and the prime."""
    with Kube(member) as kube:
        try:
            listed = kube.list(HELMCHARTS, charts.CHART_NAMESPACE)
        except KubeError as exc:
            raise BinderctlError(f"cannot read the member's HelmCharts: {exc.message}") from None
        k3s, channels, channels_error = _k3s(kube, upgrades)
        scheduled = schedule(kube)
    present = {c["metadata"]["name"]: c for c in listed}
    binderhub, warnings = _binderhub(member, federation, present.get(charts.RELEASE))
    mybinder = "binderctl's pin: mybinder.org-deploy {} at 95860dbc"
    components = [
        k3s,
        *binderhub,
        _chart(present, "cert-manager", charts.CERT_MANAGER, mybinder.format("cert-manager.env")),
        _chart(present, "traefik", charts.INGRESS, mybinder.format("mybinder/Chart.yaml")),
    ]
    if charts.uses_in_cluster_registry(member):
        components.append(_chart(present, "registry", charts.REGISTRY, "binderctl's pin"))
    else:
        external = Version(member.registry_url, "config registry_url (not managed here)")
        components.append(Component("registry", external, external, None, "current"))
    return UpgradePlan(member.name, components, channels, channels_error, scheduled, warnings)
