"""The member's charts as k3s helm-controller ``HelmChart`` objects, and applying them.

No helm binary is needed: helm-controller (bundled with k3s) installs each chart from
inside the cluster with a ``helm-install-<name>`` Job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import yaml

from binderctl.config import MemberConfig

if TYPE_CHECKING:
    from binderctl.services.kube import Kube

GROUP = "helm.cattle.io"
VERSION = "v1"
PLURAL = "helmcharts"
CHART_NAMESPACE = "kube-system"
RELEASE = "binderhub"
RELEASE_NAMESPACE = "binderhub"
CLUSTER_ISSUER = "letsencrypt-prod"
REGISTRY_NODE_PORT = 30500


@dataclass(frozen=True)
class ChartSource:
    name: str
    repo: str
    chart: str
    version: str
    target_namespace: str


CERT_MANAGER = ChartSource(
    "cert-manager", "https://charts.jetstack.io", "cert-manager", "v1.16.2", "cert-manager"
)
REGISTRY = ChartSource("registry", "https://helm.twun.io", "docker-registry", "2.2.3", "registry")
BINDERHUB = ChartSource(
    RELEASE,
    "https://jupyterhub.github.io/helm-chart/",
    "binderhub",
    "1.0.0-0.dev.git.3983.h383374de",
    RELEASE_NAMESPACE,
)


def uses_in_cluster_registry(member: MemberConfig) -> bool:
    return not member.registry_url


def image_prefix(member: MemberConfig) -> str:
    if uses_in_cluster_registry(member):
        return f"localhost:{REGISTRY_NODE_PORT}/binder-"
    host = member.registry_url.split("://", 1)[-1].rstrip("/")
    return f"{host}/binder-"


def cert_manager_values(member: MemberConfig) -> dict[str, Any]:
    return {
        "crds": {"enabled": True},
        "extraObjects": [
            yaml.safe_dump(
                {
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "ClusterIssuer",
                    "metadata": {"name": CLUSTER_ISSUER},
                    "spec": {
                        "acme": {
                            "server": "https://acme-v02.api.letsencrypt.org/directory",
                            "email": member.letsencrypt_email,
                            "privateKeySecretRef": {"name": f"{CLUSTER_ISSUER}-account"},
                            "solvers": [{"http01": {"ingress": {"ingressClassName": "traefik"}}}],
                        }
                    },
                },
                sort_keys=False,
            )
        ],
    }


def registry_values() -> dict[str, Any]:
    return {
        "service": {"type": "NodePort", "nodePort": REGISTRY_NODE_PORT},
        "persistence": {"enabled": True, "size": "200Gi", "storageClass": "local-path"},
    }


def _tls_ingress(host: str, secret: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "ingressClassName": "traefik",
        "annotations": {"cert-manager.io/cluster-issuer": CLUSTER_ISSUER},
        "hosts": [host],
        "tls": [{"secretName": secret, "hosts": [host]}],
    }


def binderhub_values(member: MemberConfig) -> dict[str, Any]:
    binderhub: dict[str, Any] = {
        "hub_url": f"https://{member.hub_host}",
        "use_registry": True,
        "image_prefix": image_prefix(member),
    }
    values: dict[str, Any] = {
        "config": {
            "BinderHub": binderhub,
            "LaunchQuota": {"total_quota": member.launch_quota},
        },
        "service": {"type": "ClusterIP"},
        "ingress": _tls_ingress(member.binder_host, "binder-tls"),
        "imageBuilderType": "dind",
        "jupyterhub": {
            "ingress": _tls_ingress(member.hub_host, "hub-tls"),
            "proxy": {"service": {"type": "ClusterIP"}},
            "singleuser": {
                "memory": {
                    "guarantee": member.session_memory_guarantee,
                    "limit": member.session_memory_limit,
                },
                "cpu": {"guarantee": 0.01, "limit": member.session_cpu_limit},
            },
            "cull": {
                "enabled": True,
                "timeout": member.cull_timeout_seconds,
                "every": member.cull_timeout_seconds + 60,
                "maxAge": member.cull_max_age_seconds,
            },
        },
    }
    if uses_in_cluster_registry(member):
        values["registry"] = {"url": f"http://localhost:{REGISTRY_NODE_PORT}"}
    else:
        values["registry"] = {"url": member.registry_url, "username": member.registry_username}
    return values


def _helm_chart(source: ChartSource, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "HelmChart",
        "metadata": {
            "name": source.name,
            "namespace": CHART_NAMESPACE,
            "labels": {"managed-by": "binderctl"},
        },
        "spec": {
            "repo": source.repo,
            "chart": source.chart,
            "version": source.version,
            "targetNamespace": source.target_namespace,
            "createNamespace": True,
            "valuesContent": yaml.safe_dump(values, sort_keys=True),
        },
    }


def helm_charts(member: MemberConfig) -> list[dict[str, Any]]:
    """The HelmChart objects for the member, in install order."""
    charts = [_helm_chart(CERT_MANAGER, cert_manager_values(member))]
    if uses_in_cluster_registry(member):
        charts.append(_helm_chart(REGISTRY, registry_values()))
    charts.append(_helm_chart(BINDERHUB, binderhub_values(member)))
    return charts


def target_namespaces(member: MemberConfig) -> list[str]:
    return [chart["spec"]["targetNamespace"] for chart in helm_charts(member)]


def _wanted(member: MemberConfig, quota: int | None) -> list[dict[str, Any]]:
    return helm_charts(member if quota is None else replace(member, launch_quota=quota))


def chart_drift(kube: Kube, member: MemberConfig, quota: int | None = None) -> dict[str, str]:
    """Read-only: each HelmChart's name -> missing, differs or unchanged."""
    from binderctl.services.kube import HELMCHARTS, KubeError

    drift: dict[str, str] = {}
    for chart in _wanted(member, quota):
        name = chart["metadata"]["name"]
        try:
            current = kube.get(HELMCHARTS, name, CHART_NAMESPACE)
        except KubeError as exc:
            if exc.status != 404:
                raise
            drift[name] = "missing"
            continue
        spec = current.get("spec") or {}
        same = {key: spec.get(key) for key in chart["spec"]} == chart["spec"]
        drift[name] = "unchanged" if same else "differs"
    return drift


def apply_charts(kube: Kube, member: MemberConfig, quota: int | None = None) -> dict[str, str]:
    """Create or update each HelmChart; returns name -> created, updated or unchanged.

    ``quota`` overrides the config's launch quota (a drained member stays drained).
    """
    from binderctl.services.kube import HELMCHARTS, MERGE_PATCH

    wanted = {chart["metadata"]["name"]: chart for chart in _wanted(member, quota)}
    outcome: dict[str, str] = {}
    for name, state in chart_drift(kube, member, quota).items():
        chart = wanted[name]
        if state == "missing":
            kube.post(HELMCHARTS, chart, namespace=CHART_NAMESPACE)
            outcome[name] = "created"
        elif state == "differs":
            kube.patch(
                HELMCHARTS, name, {"spec": chart["spec"]}, namespace=CHART_NAMESPACE,
                content_type=MERGE_PATCH,
            )  # fmt: skip
            outcome[name] = "updated"
        else:
            outcome[name] = "unchanged"
    return outcome
