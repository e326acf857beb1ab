"""The member's charts as k3s helm-controller ``HelmChart`` objects, and applying them.

No helm binary is needed: helm-controller (bundled with k3s) installs each chart from
inside the cluster with a ``helm-install-<name>`` Job.

An external registry's password never goes into a HelmChart: it is kept in the Secret
``kube-system/binderhub-registry`` (key ``values.yaml``: ``registry.password``), which
the BinderHub chart names in ``spec.valuesSecrets``; helm-controller merges it after
``valuesContent`` and runs the install again whenever the Secret changes.

Every chart with state sets ``failurePolicy: abort``: helm-controller's default,
``reinstall``, answers a failed upgrade with ``helm uninstall`` and a fresh install
(klipper-helm ``entry``), which would delete the hub, the proxy and the hub database
(the stateless ClusterIssuer chart keeps ``reinstall``; see ``ISSUER``). The Let's
Encrypt ClusterIssuer is a chart of its own, installed once cert-manager's CRDs exist
(helm resolves every kind of a release before it installs any of it). The bundled
traefik is disabled (cloud-init) and replaced by a pinned traefik chart with the
websocket-safe timeouts mybinder uses.
"""

from __future__ import annotations

import base64
import gzip
import io
import tarfile
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import yaml

from binderctl import auth
from binderctl.auth import Secret
from binderctl.config import SMTP_PORTS, MemberConfig
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
# helm-controller's FailurePolicy enum is abort, reinstall (the default) and retry.
FAILURE_POLICY = "abort"
REGISTRY_NODE_PORT = 30500
# The in-cluster proxy service, as BinderHub's own CI points hub_url_local at it: the
# health check then needs neither DNS nor a certificate.
HUB_URL_LOCAL = "http://proxy-public"
INGRESS_CLASS = "traefik"
# mybinder.org-deploy mybinder/values.yaml, traefik.ports.websecure: "Increase for
# websockets (default is 60s)".
WEBSOCKET_TIMEOUT_SECONDS = 600
REGISTRY_SECRET = "binderhub-registry"
REGISTRY_SECRET_KEY = "values.yaml"
REGISTRY_PASSWORD = "registry password"  # its entry in the outcome of apply_charts
# Spec fields only some charts have: an object that has one it should not is changed.
OPTIONAL_SPEC_KEYS = ("valuesSecrets", "repo", "valuesContent", "chartContent")


@dataclass(frozen=True)
class ChartSource:
    name: str
    repo: str
    chart: str
    version: str
    target_namespace: str
    failure_policy: str = FAILURE_POLICY


# The cert-manager mybinder runs (mybinder.org-deploy cert-manager.env at 95860dbc).
CERT_MANAGER = ChartSource(
    "cert-manager", "https://charts.jetstack.io", "cert-manager", "v1.20.2", "cert-manager"
)
# A chart of binderctl's own, carried in the HelmChart (spec.chartContent). Its first
# install can fail for good if it lands before cert-manager's webhook serves (the webhook
# validates every cert-manager.io object, failurePolicy Fail), and klipper-helm's
# ``abort`` would then wait for an operator for ever; ``reinstall`` tries again, and it
# can lose nothing: the release holds one ClusterIssuer and no data.
ISSUER = ChartSource(
    "cluster-issuer", "", "binderctl-cluster-issuer", "1.0.0", "cert-manager", "reinstall"
)
# Replaces k3s's bundled traefik (k3s --disable=traefik): a release name of its own,
# so k3s's addon controller never takes the object for the bundled one.
# The traefik chart version mybinder's own chart depends on (mybinder/Chart.yaml).
INGRESS = ChartSource("ingress", "https://traefik.github.io/charts", "traefik", "41.1.1", "traefik")
# Crypto-mining detection, as every mybinder member runs it (mybinder/Chart.yaml).
CRYPTNONO = ChartSource(
    "cryptnono",
    "https://cryptnono.github.io/cryptnono/",
    "cryptnono",
    "0.3.2-0.dev.git.267.h766bf8f",
    "cryptnono",
)
K3S_CONTAINERD_SOCKET = "/run/k3s/containerd/containerd.sock"
DIND_SOCKET = "/run/dind/docker.sock"  # the BinderHub chart's dind.hostSocketDir
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


def in_cluster_registry(node_ip: str) -> str:
    """The in-cluster registry as dind (in a pod) and containerd (on the host) both
    reach it: the node's address and the NodePort, never ``localhost``."""
    host = f"[{node_ip}]" if ":" in node_ip else node_ip
    return f"{host}:{REGISTRY_NODE_PORT}"


def image_prefix(member: MemberConfig, node_ip: str) -> str:
    if uses_in_cluster_registry(member):
        return f"{in_cluster_registry(node_ip)}/binder-"
    host = member.registry_url.split("://", 1)[-1].rstrip("/")
    return f"{host}/binder-"


def cert_manager_values() -> dict[str, Any]:
    return {"crds": {"enabled": True}}


def cluster_issuer(member: MemberConfig) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": CLUSTER_ISSUER},
        "spec": {
            "acme": {
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "email": member.letsencrypt_email,
                "privateKeySecretRef": {"name": f"{CLUSTER_ISSUER}-account"},
                "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
            }
        },
    }


def _tar_member(tar: tarfile.TarFile, path: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(path)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def chart_content(chart: str, version: str, templates: dict[str, str]) -> str:
    """A chart of binderctl's own as helm-controller's ``chartContent``: a base64 .tgz of
    its Chart.yaml and ``templates`` (file name -> YAML), byte for byte the same for the
    same input (the spec is compared for drift)."""
    meta = {"apiVersion": "v2", "name": chart, "version": version}
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as packed,
        tarfile.TarFile(fileobj=packed, mode="w") as tar,  # in memory
    ):
        _tar_member(tar, f"{chart}/Chart.yaml", yaml.safe_dump(meta, sort_keys=False))
        for name, text in templates.items():
            _tar_member(tar, f"{chart}/templates/{name}", text)
    return base64.b64encode(buffer.getvalue()).decode()


def issuer_chart_content(member: MemberConfig) -> str:
    """The ClusterIssuer chart's ``chartContent``."""
    issuer = yaml.safe_dump(cluster_issuer(member), sort_keys=False)
    return chart_content(ISSUER.chart, ISSUER.version, {"cluster-issuer.yaml": issuer})


def ingress_values() -> dict[str, Any]:
    timeouts = {
        "readTimeout": WEBSOCKET_TIMEOUT_SECONDS,
        "idleTimeout": WEBSOCKET_TIMEOUT_SECONDS,
    }
    return {
        "ingressClass": {"enabled": True, "isDefaultClass": True, "name": INGRESS_CLASS},
        "ports": {"websecure": {"transport": {"respondingTimeouts": timeouts}}},
    }


def registry_values() -> dict[str, Any]:
    return {
        "service": {"type": "NodePort", "nodePort": REGISTRY_NODE_PORT},
        "persistence": {"enabled": True, "size": "200Gi", "storageClass": "local-path"},
    }


def cryptnono_values() -> dict[str, Any]:
    """mybinder's cryptnono detectors (mybinder/values.yaml ``cryptnono``): execwhacker
    and the TCP flow killer look containers up in k3s's containerd and in dind, and log
    the session's client IP and repo."""
    sockets = {"containerdHostPath": K3S_CONTAINERD_SOCKET, "dockerHostPath": DIND_SOCKET}
    envs = ["BINDER_CLIENT_IP", "BINDER_REF_URL"]
    flow_killer = {"log_container_envs": envs, "unique_destinations_threshold": 24}
    return {
        "detectors": {
            "tcpflowkiller": {"enabled": True, "config": {"FlowKiller": flow_killer}, **sockets},
            "execwhacker": {**sockets, "lookupEnvs": envs},
        }
    }


def _tls_ingress(host: str, secret: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "ingressClassName": INGRESS_CLASS,
        "annotations": {"cert-manager.io/cluster-issuer": CLUSTER_ISSUER},
        "hosts": [host],
        "tls": [{"secretName": secret, "hosts": [host]}],
    }


# Where sessions may not connect: the cluster's and other private networks
# (mybinder.org-deploy mybinder/templates/netpol.yaml) and, with block_cloud_metadata,
# the cloud metadata server (it serves the server's user data: cloud-init).
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
CLOUD_METADATA = "169.254.169.254/32"
EGRESS_BANDWIDTH = "kubernetes.io/egress-bandwidth"
MAX_PORT = 65535


def _ports_around(closed: tuple[int, ...]) -> list[dict[str, Any]]:
    """Every TCP port but ``closed`` (NetworkPolicy ranges: ``port`` to ``endPort``), and
    every UDP port."""
    ports, start = [], 1
    for port in sorted(closed):
        if port > start:
            ports.append({"port": start, "endPort": port - 1, "protocol": "TCP"})
        start = port + 1
    ports.append({"port": start, "endPort": MAX_PORT, "protocol": "TCP"})
    return [*ports, {"protocol": "UDP"}]


def session_network_policy(member: MemberConfig) -> dict[str, Any]:
    """z2jh's ``singleuser.networkPolicy``: sessions reach public addresses only, on the
    listed TCP ports (mybinder limits egress the same way, against port scans and abuse
    from sessions), or on every port but SMTP's (``block_smtp``), or on every port; never
    the metadata server with ``block_cloud_metadata``."""
    excepted = [*PRIVATE_NETWORKS, *([CLOUD_METADATA] if member.block_cloud_metadata else [])]
    rule: dict[str, Any] = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": excepted}}]}
    if member.session_egress_ports:
        rule["ports"] = [{"port": port, "protocol": "TCP"} for port in member.session_egress_ports]
    elif member.block_smtp:
        rule["ports"] = _ports_around(SMTP_PORTS)
    allow: dict[str, bool] = {"nonPrivateIPs": False}
    if not member.block_cloud_metadata:
        allow["cloudMetadataServer"] = True
    return {"enabled": True, "egressAllowRules": allow, "egress": [rule]}


def singleuser_values(member: MemberConfig) -> dict[str, Any]:
    """z2jh's ``singleuser``: resources, the network policy, the egress bandwidth."""
    values: dict[str, Any] = {
        "networkPolicy": session_network_policy(member),
        # the network policy keeps sessions off the metadata server, as mybinder's does
        # (mybinder/values.yaml): no privileged iptables init container in each session
        "cloudMetadata": {"blockWithIptables": False},
        "memory": {
            "guarantee": member.session_memory_guarantee,
            "limit": member.session_memory_limit,
        },
        "cpu": {"guarantee": 0.01, "limit": member.session_cpu_limit},
    }
    if member.session_egress_bandwidth:
        values["extraAnnotations"] = {EGRESS_BANDWIDTH: member.session_egress_bandwidth}
    return values


def dind_args(member: MemberConfig, node_ip: str) -> list[str]:
    """dockerd's extra flags: mybinder's MTU and parallel pushes, and plain HTTP to the
    in-cluster registry (as BinderHub's CI does for its own)."""
    args = [
        f"--max-concurrent-uploads={member.dind_max_concurrent_uploads}",
        f"--mtu={member.dind_mtu}",
    ]
    if uses_in_cluster_registry(member):
        args.append(f"--insecure-registry={in_cluster_registry(node_ip)}")
    return args


def binderhub_values(member: MemberConfig, node_ip: str) -> dict[str, Any]:
    binderhub: dict[str, Any] = {
        "hub_url": f"https://{member.hub_host}",
        "hub_url_local": HUB_URL_LOCAL,
        "use_registry": True,
        "image_prefix": image_prefix(member, node_ip),
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
        "dind": {"daemonset": {"extraArgs": dind_args(member, node_ip)}},
        "jupyterhub": {
            "ingress": _tls_ingress(member.hub_host, "hub-tls"),
            "proxy": {"service": {"type": "ClusterIP"}},
            "singleuser": singleuser_values(member),
            "cull": {
                "enabled": True,
                "timeout": member.cull_timeout_seconds,
                "every": member.cull_timeout_seconds + 60,
                "maxAge": member.cull_max_age_seconds,
            },
        },
    }
    if uses_in_cluster_registry(member):
        values["registry"] = {"url": f"http://{in_cluster_registry(node_ip)}"}
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


def helm_chart(source: ChartSource, values: dict[str, Any] | None) -> dict[str, Any]:
    """The HelmChart object of ``source`` with ``values`` (none: the chart's defaults)."""
    spec: dict[str, Any] = {"chart": source.chart, "version": source.version}
    if source.repo:
        spec["repo"] = source.repo
    spec |= {
        "targetNamespace": source.target_namespace,
        "createNamespace": True,
        "failurePolicy": source.failure_policy,
    }
    if values is not None:
        spec["valuesContent"] = yaml.safe_dump(values, sort_keys=True)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "HelmChart",
        "metadata": {
            "name": source.name,
            "namespace": CHART_NAMESPACE,
            "labels": {"managed-by": "binderctl"},
        },
        "spec": spec,
    }


def sources(member: MemberConfig) -> list[ChartSource]:
    """The member's charts, in install order."""
    registry = [REGISTRY] if uses_in_cluster_registry(member) else []
    cryptnono = [CRYPTNONO] if member.cryptnono else []
    return [CERT_MANAGER, ISSUER, INGRESS, *cryptnono, *registry, BINDERHUB]


def helm_charts(member: MemberConfig, node_ip: str) -> list[dict[str, Any]]:
    """The HelmChart objects for the member whose node has the address ``node_ip``."""
    issuer = helm_chart(ISSUER, None)
    issuer["spec"]["chartContent"] = issuer_chart_content(member)
    source = replace(BINDERHUB, version=member.binderhub_chart_version or BINDERHUB.version)
    binderhub = helm_chart(source, binderhub_values(member, node_ip))
    if not uses_in_cluster_registry(member):
        binderhub["spec"]["valuesSecrets"] = [
            {"name": REGISTRY_SECRET, "keys": [REGISTRY_SECRET_KEY]}
        ]
    built = {
        CERT_MANAGER.name: helm_chart(CERT_MANAGER, cert_manager_values()),
        ISSUER.name: issuer,
        INGRESS.name: helm_chart(INGRESS, ingress_values()),
        CRYPTNONO.name: helm_chart(CRYPTNONO, cryptnono_values()),
        REGISTRY.name: helm_chart(REGISTRY, registry_values()),
        BINDERHUB.name: binderhub,
    }
    return [built[source.name] for source in sources(member)]


def target_namespaces(member: MemberConfig) -> list[str]:
    return list(dict.fromkeys(source.target_namespace for source in sources(member)))


def _wanted(member: MemberConfig, quota: int | None) -> list[dict[str, Any]]:
    from binderctl.services.kube import node_address

    chosen = member if quota is None else replace(member, launch_quota=quota)
    return helm_charts(chosen, node_address(member))


def keep_bans(chart: dict[str, Any], current_spec: dict[str, Any]) -> None:
    """Repositories banned on the member stay banned: the ``banned_specs`` of the chart's
    current values (``binderctl ban``'s, or set by hand) go into ``chart``'s values, as
    a drained member's quota stays 0 (``services/bans.py``)."""
    current = yaml.safe_load(current_spec.get("valuesContent") or "") or {}
    config = current.get("config") if isinstance(current, dict) else None
    banned = {
        name: section["banned_specs"]
        for name, section in (config or {}).items()
        if isinstance(section, dict) and "banned_specs" in section
    }
    if not banned:
        return
    values = yaml.safe_load(chart["spec"]["valuesContent"])
    for name, specs in banned.items():
        values.setdefault("config", {}).setdefault(name, {})["banned_specs"] = specs
    chart["spec"]["valuesContent"] = yaml.safe_dump(values, sort_keys=True)


def _wanted_spec(chart: dict[str, Any]) -> dict[str, Any]:
    """The chart's spec with None for the optional fields it lacks (a merge patch
    removes those)."""
    spec: dict[str, Any] = chart["spec"]
    return {key: None for key in OPTIONAL_SPEC_KEYS} | spec


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
        if name == RELEASE:
            keep_bans(chart, spec)
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
