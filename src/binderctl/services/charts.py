"""The member's charts as k3s helm-controller ``HelmChart`` objects, and applying them.

No helm binary is needed: helm-controller (bundled with k3s) installs each chart from
inside the cluster with a ``helm-install-<name>`` Job.

An external registry's password never goes into a HelmChart: it is kept in the Secret
``kube-system/binderhub-registry`` (key ``values.yaml``: ``registry.password``), which
the BinderHub chart names in ``spec.valuesSecrets``; helm-controller merges it after
``valuesContent`` and runs the install again whenever the Secret changes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import yaml

from binderctl import auth
from binderctl.auth import Secret
from binderctl.config import MemberConfig
from binderctl.services.prime_versions import PINNED_BUILD_IMAGE, PINNED_CHART_VERSION

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
REGISTRY_SECRET = "binderhub-registry"
REGISTRY_SECRET_KEY = "values.yaml"
REGISTRY_PASSWORD = "registry password"  # its entry in the outcome of apply_charts
# Spec fields only some charts have: an object that has one it should not is changed.
OPTIONAL_SPEC_KEYS = ("valuesSecrets",)


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
    PINNED_CHART_VERSION,  # the member's binderhub_chart_version (from the prime) wins
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
            # in /versions as builder_info.build_image: must equal the prime's
            "KubernetesBuildExecutor": {"build_image": member.build_image or PINNED_BUILD_IMAGE},
        },
        "service": {"type": "ClusterIP"},
        "ingress": _tls_ingress(member.binder_host, "binder-tls"),
        "imageBuilderType": "dind",
        # The chart's image cleaner cordons the node while it prunes and uncordons it
        # after, which on a single node undoes or blocks a drain; mybinder's Hetzner
        # members disable it (mybinder.org-deploy config/hetzner-2i2c.yaml).
        "imageCleaner": {"enabled": False},
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


def registry_password(member: MemberConfig) -> Secret | None:
    """The external registry's password (None with the in-cluster registry); a
    ConfigError saying how to store it when there is none."""
    if uses_in_cluster_registry(member):
        return None
    return auth.registry_password(member.name)


def registry_secret(password: Secret) -> dict[str, Any]:
    """The Secret the BinderHub chart reads ``registry.password`` from."""
    values = yaml.safe_dump({"registry": {"password": password.reveal()}})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": REGISTRY_SECRET,
            "namespace": CHART_NAMESPACE,
            "labels": {"managed-by": "binderctl"},
        },
        "type": "Opaque",
        "data": {REGISTRY_SECRET_KEY: base64.b64encode(values.encode()).decode()},
    }


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
    source = replace(BINDERHUB, version=member.binderhub_chart_version or BINDERHUB.version)
    binderhub = _helm_chart(source, binderhub_values(member))
    if not uses_in_cluster_registry(member):
        binderhub["spec"]["valuesSecrets"] = [
            {"name": REGISTRY_SECRET, "keys": [REGISTRY_SECRET_KEY]}
        ]
    charts.append(binderhub)
    return charts


def target_namespaces(member: MemberConfig) -> list[str]:
    return [chart["spec"]["targetNamespace"] for chart in helm_charts(member)]


def _wanted(member: MemberConfig, quota: int | None) -> list[dict[str, Any]]:
    return helm_charts(member if quota is None else replace(member, launch_quota=quota))


def _wanted_spec(chart: dict[str, Any]) -> dict[str, Any]:
    """The chart's spec with None for the optional fields it lacks (a merge patch
    removes those)."""
    return {key: None for key in OPTIONAL_SPEC_KEYS} | chart["spec"]


def _current_secret(kube: Kube) -> dict[str, Any] | None:
    from binderctl.services.kube import SECRETS, KubeError

    try:
        return kube.get(SECRETS, REGISTRY_SECRET, CHART_NAMESPACE)
    except KubeError as exc:
        if exc.status != 404:
            raise
        return None


def _secret_drift(kube: Kube, wanted: dict[str, Any]) -> str:
    current = _current_secret(kube)
    if current is None:
        return "missing"
    have = (current.get("data") or {}).get(REGISTRY_SECRET_KEY) or ""
    want = wanted["data"][REGISTRY_SECRET_KEY]
    return "unchanged" if base64.b64decode(have) == base64.b64decode(want) else "differs"


def _drift(
    kube: Kube, member: MemberConfig, quota: int | None
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Each object's label -> missing, differs or unchanged, and the wanted objects."""
    from binderctl.services.kube import HELMCHARTS, KubeError

    drift: dict[str, str] = {}
    wanted: dict[str, dict[str, Any]] = {}
    password = registry_password(member)
    if password is not None:
        wanted[REGISTRY_PASSWORD] = registry_secret(password)
        drift[REGISTRY_PASSWORD] = _secret_drift(kube, wanted[REGISTRY_PASSWORD])
    elif _current_secret(kube) is not None:
        drift[REGISTRY_PASSWORD] = "stale"  # left from an external registry
    for chart in _wanted(member, quota):
        name = chart["metadata"]["name"]
        wanted[name] = chart
        try:
            current = kube.get(HELMCHARTS, name, CHART_NAMESPACE)
        except KubeError as exc:
            if exc.status != 404:
                raise
            drift[name] = "missing"
            continue
        spec = current.get("spec") or {}
        want = _wanted_spec(chart)
        same = {key: spec.get(key) for key in want} == want
        drift[name] = "unchanged" if same else "differs"
    return drift, wanted


def chart_drift(kube: Kube, member: MemberConfig, quota: int | None = None) -> dict[str, str]:
    """Read-only: each HelmChart's name (and the registry password's Secret) -> missing,
    differs or unchanged."""
    return _drift(kube, member, quota)[0]


def apply_charts(kube: Kube, member: MemberConfig, quota: int | None = None) -> dict[str, str]:
    """Create or update the registry password's Secret (external registry only), then
    each HelmChart, then delete a password Secret no chart names any more (back to the
    in-cluster registry); returns what -> created, updated, unchanged or deleted.

    ``quota`` overrides the config's launch quota (a drained member stays drained).
    """
    from binderctl.services.kube import HELMCHARTS, MERGE_PATCH, SECRETS

    drift, wanted = _drift(kube, member, quota)
    outcome: dict[str, str] = {}
    for name, state in drift.items():
        if state == "stale":
            continue
        obj = wanted[name]
        resource = SECRETS if name == REGISTRY_PASSWORD else HELMCHARTS
        if state == "missing":
            kube.post(resource, obj, namespace=CHART_NAMESPACE)
            outcome[name] = "created"
        elif state == "differs":
            change = {"data": obj["data"]} if resource is SECRETS else {"spec": _wanted_spec(obj)}
            kube.patch(
                resource, obj["metadata"]["name"], change, namespace=CHART_NAMESPACE,
                content_type=MERGE_PATCH,
            )  # fmt: skip
            outcome[name] = "updated"
        else:
            outcome[name] = "unchanged"
    if drift.get(REGISTRY_PASSWORD) == "stale":
        kube.delete(SECRETS, REGISTRY_SECRET, CHART_NAMESPACE)
        outcome[REGISTRY_PASSWORD] = "deleted"
    return outcome
