"""What ``helm upgrade --install`` of each chart the member uses would create.

Names, labels, selectors, images and container arguments follow the real charts:
BinderHub (``helm-chart/binderhub/templates``) with its zero-to-jupyterhub 4.2.0
dependency, cert-manager, docker-registry, and the traefik chart k3s bundles.
Only the objects an operator's console looks at are rendered (no RBAC, network
policies or PodDisruptionBudgets).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, ResourceType

Rendered = list[tuple[ResourceType, Obj]]

Z2JH_VERSION = "4.2.0"
HUB_IMAGE = f"quay.io/jupyterhub/k8s-hub:{Z2JH_VERSION}"
CHP_IMAGE = "quay.io/jupyterhub/configurable-http-proxy:4.6.3"
BINDERHUB_IMAGE = "quay.io/jupyterhub/k8s-binderhub"
DIND_IMAGE = "docker.io/library/docker:28.3.3-dind"
REPO2DOCKER_IMAGE = "quay.io/jupyterhub/repo2docker:2024.07.0"
# cert-manager chart versions the demo's chart repository holds: the one binderctl
# installed before and the one it installs now (cert-manager tags v1.16.2, v1.20.2).
CERT_MANAGER_VERSIONS = frozenset({"v1.16.2", "v1.20.2"})
REGISTRY_IMAGE = "registry:2.8.1"
TRAEFIK_CHART = "27.0.201_up27.0.2"
TRAEFIK_IMAGE = "rancher/mirrored-library-traefik:2.11.10"
KLIPPER_LB_IMAGE = "rancher/klipper-lb:v0.4.9"
KLIPPER_HELM_IMAGE = "rancher/klipper-helm:v0.9.3-build20241008"
IMAGE_CLEANER_IMAGE = "quay.io/jupyterhub/docker-image-cleaner:1.0.0-beta.3"
BINDER_SECRET = "binder-secret"
BINDER_READINESS_PERIOD = 5  # deployment.readinessProbe.periodSeconds in values.yaml
BINDER_CONFIG_FILE = "values.yaml"
BINDER_CONFIG_KEYS = ("config", "imageBuilderType", "cors", "dind", "pink", "extraConfig")


class ChartError(Exception):
    """``helm upgrade --install`` fails with this message (the install Job fails)."""


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    chart: str  # chart name: binderhub, cert-manager, docker-registry, traefik, traefik-crd
    version: str
    values: dict[str, Any]
    templates: tuple[str, ...] = field(default=(), compare=False)  # from spec.chartContent


# The kinds cert-manager's CRDs add (templates crd-*.yaml, rendered with crds.enabled).
CERT_MANAGER_KINDS = frozenset({
    ("cert-manager.io", "Certificate"), ("cert-manager.io", "CertificateRequest"),
    ("cert-manager.io", "Issuer"), ("cert-manager.io", "ClusterIssuer"),
    ("acme.cert-manager.io", "Order"), ("acme.cert-manager.io", "Challenge"),
})  # fmt: skip
# API groups a fresh k3s serves without any CRD.
BUILT_IN_GROUPS = frozenset({
    "", "apps", "batch", "policy", "rbac.authorization.k8s.io", "networking.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
    "storage.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "autoscaling",
    "helm.cattle.io", "k3s.cattle.io",
})  # fmt: skip


def chart_archive(content: str) -> tuple[str, tuple[str, ...]]:
    """``spec.chartContent`` (a base64 .tgz): the chart's name and its templates' text."""
    try:
        raw = base64.b64decode(content, validate=True)
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            files = {m.name: tar.extractfile(m) for m in tar.getmembers() if m.isfile()}
            texts = {name: f.read().decode() for name, f in files.items() if f is not None}
    except (binascii.Error, tarfile.TarError, UnicodeDecodeError, EOFError, OSError):
        raise ChartError("failed to load chart: chartContent is not a chart archive") from None
    tops = [t for n, t in texts.items() if n.count("/") == 1 and n.endswith("/Chart.yaml")]
    meta = tops[0] if tops else None
    if meta is None:
        raise ChartError("Chart.yaml file is missing")
    name = str((yaml.safe_load(meta) or {}).get("name") or "")
    templates = tuple(t for n, t in sorted(texts.items()) if "/templates/" in n)
    return name, templates


def manifest_kinds(texts: list[str]) -> list[tuple[str, str, str]]:
    """(apiVersion, kind, name) of every object in plain YAML manifests."""
    found = []
    for text in texts:
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ChartError(f"YAML parse error: {exc}") from None
        for doc in documents:
            if isinstance(doc, dict) and doc.get("kind"):
                name = str((doc.get("metadata") or {}).get("name") or "")
                found.append((str(doc.get("apiVersion") or ""), str(doc["kind"]), name))
    return found


def custom_objects(release: Release) -> list[tuple[str, str, str]]:
    """The objects of a release whose kind comes from a CRD (not a built-in group):
    cert-manager's ``extraObjects`` and the templates of a chart carried inline."""
    texts = list(release.templates)
    if release.chart == "cert-manager":
        texts += [str(o) for o in get(release.values, "extraObjects", []) or []]
    return [
        (api, kind, name)
        for api, kind, name in manifest_kinds(texts)
        if (api.rsplit("/", 1)[0] if "/" in api else "") not in BUILT_IN_GROUPS
    ]


def crds_of(release: Release) -> frozenset[tuple[str, str]]:
    """The (group, kind)s whose CRDs a release installs."""
    if release.chart == "cert-manager" and (
        get(release.values, "crds.enabled") or get(release.values, "installCRDs")
    ):
        return CERT_MANAGER_KINDS
    return frozenset()


def check_kinds(release: Release, served: frozenset[tuple[str, str]]) -> None:
    """Helm maps every object of a release to an API resource before it creates any of
    them: a kind whose CRD the cluster does not serve yet fails the whole release, even
    when the same release would install that CRD."""
    for api, kind, name in custom_objects(release):
        group = api.rsplit("/", 1)[0]
        if (group, kind) not in served:
            raise ChartError(
                "unable to build kubernetes objects from release manifest: resource mapping "
                f'not found for name: "{name}" namespace: "" from "": no matches for kind '
                f'"{kind}" in version "{api}"\nensure CRDs are installed first'
            )


# z2jh values.yaml hub.deploymentStrategy: one hub at a time (its sqlite PVC)
HUB_STRATEGY = {"type": "Recreate"}


def chart_name(spec: dict[str, Any]) -> str:
    """The chart's name from a HelmChart spec (k3s's own charts are .tgz URLs)."""
    chart = str(spec.get("chart", ""))
    base = chart.rsplit("/", 1)[-1]
    if base.endswith(".tgz"):
        for known in ("traefik-crd", "traefik"):
            if base.startswith(known + "-"):
                return known
    return chart


def get(values: dict[str, Any], path: str, default: Any = None) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def container(name: str, image: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", **extra}


def deployment(
    name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    pod_labels: dict[str, str],
    containers: list[Obj],
    *,
    replicas: int = 1,
    annotations: dict[str, str] | None = None,
    pod_spec: dict[str, Any] | None = None,
    strategy: Obj | None = None,
) -> tuple[ResourceType, Obj]:
    template: Obj = {
        "metadata": {"labels": pod_labels, **({"annotations": annotations} if annotations else {})},
        "spec": {"containers": containers, **(pod_spec or {})},
    }
    spec: Obj = {"replicas": replicas, "selector": {"matchLabels": selector}, "template": template}
    if strategy is not None:
        spec["strategy"] = strategy
    return types.DEPLOYMENTS, {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def daemonset(
    name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    pod_labels: dict[str, str],
    containers: list[Obj],
    pod_spec: dict[str, Any] | None = None,
) -> tuple[ResourceType, Obj]:
    return types.DAEMONSETS, {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {"containers": containers, **(pod_spec or {})},
            },
        },
    }


def service(
    name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    ports: list[Obj],
    type_: str = "ClusterIP",
) -> tuple[ResourceType, Obj]:
    return types.SERVICES, {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"type": type_, "selector": selector, "ports": ports},
    }


def port(name: str, number: int, target: int | str) -> Obj:
    return {"name": name, "port": number, "targetPort": target, "protocol": "TCP"}


# -- BinderHub with zero-to-jupyterhub --------------------------------------------------
def _z2jh_labels(component: str, release: str) -> dict[str, str]:
    chart = f"jupyterhub-{Z2JH_VERSION}"
    return {
        "component": component,
        "app.kubernetes.io/component": component,
        "app": "jupyterhub",
        "release": release,
        "chart": chart,
        "heritage": "Helm",
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/instance": release,
        "helm.sh/chart": chart,
        "app.kubernetes.io/managed-by": "Helm",
    }


def _z2jh_match(component: str, release: str) -> dict[str, str]:
    return {"component": component, "app": "jupyterhub", "release": release}


def _z2jh_pod(component: str, release: str, *access: str) -> dict[str, str]:
    labels = {
        **_z2jh_match(component, release),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/instance": release,
    }
    labels.update({f"hub.jupyter.org/network-access-{a}": "true" for a in access})
    return labels


def _breaking_changes(values: dict[str, Any]) -> None:
    """The chart's NOTES.txt fails the install on options it no longer accepts."""
    if isinstance(values.get("dind"), dict) and "enabled" in values["dind"]:
        raise ChartError(
            "execution error at (binderhub/templates/NOTES.txt:208:4): \n\n"
            "#################################################################################\n"
            "######   BREAKING: The config values passed contained no longer accepted    #####\n"
            "######             options. See the messages below for more details.        #####\n"
            "#################################################################################"
            "\n\nCHANGED:\n\ndind:\n  enabled: true\n\nmust as of version 0.3.0 be replace by"
            "\n\nimageBuilderType: dind"
        )


def binder_image(release: Release) -> str:
    name = get(release.values, "image.name", BINDERHUB_IMAGE)
    tag = get(release.values, "image.tag", release.version)
    return f"{name}:{tag}"


def _checksum(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def binder_config(values: dict[str, Any]) -> dict[str, Any]:
    """What ``binder-secret``'s ``values.yaml`` holds: the values BinderHub reads at start
    (binderhub ``helm-chart/binderhub/templates/secret.yaml``)."""
    return {key: values[key] for key in BINDER_CONFIG_KEYS if key in values}


def binder_config_of(secret: Obj | None) -> dict[str, Any] | None:
    """The values a binder process reads from ``binder-secret`` when it starts."""
    data = ((secret or {}).get("data") or {}).get(BINDER_CONFIG_FILE)
    if data is None:
        return None
    loaded = yaml.safe_load(base64.b64decode(data))
    return loaded if isinstance(loaded, dict) else {}


def _binder_strategy(replicas: int) -> Obj:
    """One replica: surge a new pod and keep the old one until it is ready; else the
    Deployment defaults (binderhub ``templates/deployment.yaml``)."""
    return {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0} if replicas == 1 else {}}


def binderhub(release: Release) -> Rendered:
    values, r, ns = release.values, release.name, release.namespace
    _breaking_changes(values)
    config = binder_config(values)
    config_text = yaml.safe_dump(config, sort_keys=True)
    binder_labels = {"app": "binder", "component": "binder", "release": r}
    binder_pod = {**binder_labels, "name": "binder", "heritage": "Helm"}
    replicas = int(get(values, "replicas", 1))
    objects: Rendered = [
        (
            types.SECRETS,
            {
                "metadata": {"name": BINDER_SECRET, "namespace": ns},
                "type": "Opaque",
                "data": {BINDER_CONFIG_FILE: base64.b64encode(config_text.encode()).decode()},
            },
        ),
        deployment(
            "binder",
            ns,
            binder_labels,
            binder_labels,
            binder_pod,
            [
                container(
                    "binder",
                    binder_image(release),
                    args=["--config", "/etc/binderhub/config/binderhub_config.py"],
                    volumeMounts=[
                        {"mountPath": "/etc/binderhub/config/", "name": "config", "readOnly": True}
                    ],
                    ports=[{"containerPort": 8585, "name": "binder"}],
                    env=[
                        {
                            "name": "BUILD_NAMESPACE",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                        },
                        {
                            "name": "JUPYTERHUB_API_TOKEN",
                            "valueFrom": {
                                "secretKeyRef": {
                                    "name": "hub",
                                    "key": "hub.services.binder.apiToken",
                                }
                            },
                        },
                    ],
                    resources={"requests": {"cpu": "200m", "memory": "512Mi"}},
                    readinessProbe={
                        "httpGet": {"path": "/versions", "port": "binder"},
                        "initialDelaySeconds": 0,
                        "periodSeconds": BINDER_READINESS_PERIOD,
                    },
                )
            ],
            replicas=replicas,
            annotations={"checksum/config": _checksum(config_text)},
            pod_spec={
                "serviceAccountName": "binderhub",
                "volumes": [{"name": "config", "secret": {"secretName": BINDER_SECRET}}],
            },
            strategy=_binder_strategy(replicas),
        ),
        deployment(
            "hub",
            ns,
            _z2jh_labels("hub", r),
            _z2jh_match("hub", r),
            _z2jh_pod("hub", r, "proxy-api", "proxy-http", "singleuser"),
            [
                container(
                    "hub",
                    HUB_IMAGE,
                    args=[
                        "jupyterhub",
                        "--config",
                        "/usr/local/etc/jupyterhub/jupyterhub_config.py",
                        "--upgrade-db",
                    ],
                    ports=[{"containerPort": 8081, "name": "http"}],
                    readinessProbe={"httpGet": {"path": "/hub/health", "port": "http"}},
                )
            ],
            annotations={"checksum/config-map": _checksum(values.get("jupyterhub") or {})},
            pod_spec={"serviceAccountName": "hub"},
            strategy=HUB_STRATEGY,
        ),
        deployment(
            "proxy",
            ns,
            _z2jh_labels("proxy", r),
            _z2jh_match("proxy", r),
            _z2jh_pod("proxy", r, "hub", "singleuser"),
            [
                container(
                    "chp",
                    CHP_IMAGE,
                    command=[
                        "configurable-http-proxy",
                        "--ip=",
                        "--api-ip=",
                        "--api-port=8001",
                        "--default-target=http://hub:$(HUB_SERVICE_PORT)",
                        "--error-target=http://hub:$(HUB_SERVICE_PORT)/hub/error",
                        "--port=8000",
                    ],
                    ports=[
                        {"containerPort": 8000, "name": "http"},
                        {"containerPort": 8001, "name": "api"},
                    ],
                )
            ],
        ),
        service(
            "binder",
            ns,
            get(values, "service.labels", {}) or {},
            binder_pod,
            [port("", 80, 8585)],
            get(values, "service.type", "LoadBalancer"),
        ),
        service(
            "hub", ns, _z2jh_labels("hub", r), _z2jh_match("hub", r), [port("hub", 8081, "http")]
        ),
        service(
            "proxy-api",
            ns,
            _z2jh_labels("proxy-api", r),
            _z2jh_match("proxy", r),
            [port("", 8001, "api")],
        ),
        service(
            "proxy-public",
            ns,
            _z2jh_labels("proxy-public", r),
            _z2jh_match("proxy", r),
            [port("http", 80, "http")],
            get(values, "jupyterhub.proxy.service.type", "LoadBalancer"),
        ),
    ]
    if get(values, "imageBuilderType", "host") == "dind":
        name = f"{r}-dind"
        socket_dir = get(values, "dind.hostSocketDir", "/var/run/dind")
        image = get(values, "dind.daemonset.image.name", "docker.io/library/docker")
        tag = get(values, "dind.daemonset.image.tag", DIND_IMAGE.rsplit(":", 1)[1])
        objects.append(
            daemonset(
                name,
                ns,
                {},
                {"name": name},
                {
                    "name": name,
                    "app": "binder",
                    "component": "image-builder",
                    "release": r,
                    "heritage": "Helm",
                },
                [
                    container(
                        "dind",
                        f"{image}:{tag}",
                        args=[
                            "dockerd",
                            "--storage-driver=overlay2",
                            f"-H unix://{socket_dir}/docker.sock",
                        ],
                        securityContext={"privileged": True},
                    )
                ],
                pod_spec={
                    "initContainers": [
                        container("filesystem", f"{image}:{tag}", command=["sh", "-c"])
                    ],
                    "terminationGracePeriodSeconds": 30,
                },
            )
        )
    if get(values, "imageCleaner.enabled", True):
        objects.append(_image_cleaner(release))
    return objects


def _image_cleaner(release: Release) -> tuple[ResourceType, Obj]:
    """binderhub ``templates/image-cleaner.yaml`` with the chart's default values."""
    values, r = release.values, release.name
    builder = get(values, "imageBuilderType", "host")
    name = f"{r}-image-cleaner"
    env = []
    if get(values, "imageCleaner.cordon", True):
        env.append({"name": "DOCKER_IMAGE_CLEANER_NODE_NAME",
                    "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})  # fmt: skip
    for key, value in (
        ("PATH_TO_CHECK", f"/var/lib/{builder}"),
        ("DELAY_SECONDS", get(values, "imageCleaner.delay", 5)),
        ("THRESHOLD_TYPE", get(values, "imageCleaner.imageGCThresholdType", "relative")),
        ("THRESHOLD_HIGH", get(values, "imageCleaner.imageGCThresholdHigh", 80)),
        ("THRESHOLD_LOW", get(values, "imageCleaner.imageGCThresholdLow", 60)),
    ):
        env.append({"name": f"DOCKER_IMAGE_CLEANER_{key}", "value": str(value)})
    dedicated = [
        {"effect": "NoSchedule", "key": key, "operator": "Equal", "value": "user"}
        for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
    ]
    return daemonset(
        name,
        release.namespace,
        {},
        {"name": name},
        {"name": name, "app": "binder", "component": "image-cleaner", "release": r,
         "heritage": "Helm"},
        [container(f"image-cleaner-{builder}", IMAGE_CLEANER_IMAGE, env=env)],
        pod_spec={"tolerations": dedicated, "terminationGracePeriodSeconds": 0,
                  "serviceAccountName": name},
    )  # fmt: skip


def cert_manager(release: Release) -> Rendered:
    ns, version = release.namespace, release.version
    if version not in CERT_MANAGER_VERSIONS:
        # helm's chart downloader when the repository index has no such version
        raise ChartError(
            f'chart "cert-manager" matching {version} not found in cert-manager index. '
            f"(try 'helm repo update'): no chart version found for cert-manager-{version}"
        )
    objects: Rendered = []
    for component, name, image in (
        ("controller", "cert-manager", "cert-manager-controller"),
        ("cainjector", "cert-manager-cainjector", "cert-manager-cainjector"),
        ("webhook", "cert-manager-webhook", "cert-manager-webhook"),
    ):
        app = name.removeprefix("cert-manager-") if name != "cert-manager" else "cert-manager"
        match = {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/instance": release.name,
            "app.kubernetes.io/component": component,
        }
        labels = {
            "app": app,
            **match,
            "app.kubernetes.io/version": version,
            "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": f"cert-manager-{version}",
        }
        objects.append(
            deployment(
                name, ns, labels, match, labels,
                [container(f"cert-manager-{component}", f"quay.io/jetstack/{image}:{version}")],
            )
        )  # fmt: skip
    return objects


def docker_registry(release: Release) -> Rendered:
    name = f"{release.name}-docker-registry"
    labels = {
        "app": "docker-registry",
        "chart": f"docker-registry-{release.version}",
        "release": release.name,
        "heritage": "Helm",
    }
    match = {"app": "docker-registry", "release": release.name}
    node_port = get(release.values, "service.nodePort")
    registry_port = port("http-5000", 5000, 5000) | ({"nodePort": node_port} if node_port else {})
    return [
        deployment(
            name, release.namespace, labels, match, match,
            [container("docker-registry", REGISTRY_IMAGE, ports=[{"containerPort": 5000}])],
        ),
        service(
            name, release.namespace, labels, match, [registry_port],
            get(release.values, "service.type", "ClusterIP"),
        ),
    ]  # fmt: skip


# traefik's own default since v2.11.2 (and v3): a websocket is cut after this long.
TRAEFIK_READ_TIMEOUT = 60.0


def responding_timeouts(release: Release) -> dict[str, Any]:
    """``ports.websecure.transport.respondingTimeouts`` as set (chart v28 on renders each
    one as a ``--entryPoints.websecure.transport...`` flag; unset ones are left out)."""
    found = get(release.values, "ports.websecure.transport.respondingTimeouts", {}) or {}
    return {k: v for k, v in found.items() if v is not None and str(v) != ""}


def duration_seconds(value: Any) -> float:
    """A traefik duration: a number of seconds, or a Go duration such as 600s or 10m."""
    text = str(value).strip()
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def read_timeout(release: Release) -> float:
    """How long a websocket through this traefik lives: its websecure readTimeout."""
    value = responding_timeouts(release).get("readTimeout")
    return TRAEFIK_READ_TIMEOUT if value is None else duration_seconds(value)


def traefik(release: Release) -> Rendered:
    chart = f"traefik-{TRAEFIK_CHART}"
    # The chart's fullname: the release name if it holds "traefik", else <release>-traefik.
    name = release.name if "traefik" in release.name else f"{release.name}-traefik"
    match = {
        "app.kubernetes.io/name": "traefik",
        "app.kubernetes.io/instance": f"traefik-{release.namespace}",
    }
    labels = {**match, "helm.sh/chart": chart, "app.kubernetes.io/managed-by": "Helm"}
    ports = [port("web", 80, "web"), port("websecure", 443, "websecure")]
    svclb = f"svclb-{name}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    lb_labels = {
        "svccontroller.k3s.cattle.io/svcname": name,
        "svccontroller.k3s.cattle.io/svcnamespace": release.namespace,
    }
    lb_pod = {"app": svclb, **lb_labels}
    return [
        deployment(
            name,
            release.namespace,
            labels,
            match,
            labels,
            [
                container(
                    "traefik",
                    TRAEFIK_IMAGE,
                    args=[
                        "--entryPoints.web.address=:8000/tcp",
                        "--entryPoints.websecure.address=:8443/tcp",
                        *(
                            f"--entryPoints.websecure.transport.respondingTimeouts.{key}={value}"
                            for key, value in sorted(responding_timeouts(release).items())
                        ),
                    ],
                    ports=[
                        {"containerPort": 8000, "name": "web"},
                        {"containerPort": 8443, "name": "websecure"},
                    ],
                )
            ],
            pod_spec={"priorityClassName": "system-cluster-critical"},
        ),
        service(name, release.namespace, labels, match, ports, "LoadBalancer"),
        daemonset(
            svclb,
            release.namespace,
            {**lb_labels, "objectset.rio.cattle.io/owner-name": name},
            {"app": svclb},
            lb_pod,
            [
                container(
                    f"lb-tcp-{p}", KLIPPER_LB_IMAGE, ports=[{"containerPort": p, "hostPort": p}]
                )
                for p in (80, 443)
            ],
            pod_spec={"serviceAccountName": "svclb", "automountServiceAccountToken": False},
        ),
    ]


def cryptnono(release: Release) -> Rendered:
    """The cryptnono chart's DaemonSet: a container per enabled detector (execwhacker
    and monero by default, flowkiller with tcpflowkiller), kernel headers fetched first.
    Image tags: chartpress tags the images with the chart's version."""
    values, tag = release.values, release.version
    detectors = [
        ("execwhacker", get(values, "detectors.execwhacker.enabled", True)),
        ("monero", get(values, "detectors.monero.enabled", True)),
        ("flowkiller", get(values, "detectors.tcpflowkiller.enabled", False)),
    ]
    image = f"quay.io/yuvipanda/cryptnono:{tag}"
    name = release.name if "cryptnono" in release.name else f"{release.name}-cryptnono"
    match = {"app.kubernetes.io/name": "cryptnono", "app.kubernetes.io/instance": release.name}
    labels = {**match, "helm.sh/chart": f"cryptnono-{tag}", "app.kubernetes.io/managed-by": "Helm"}
    return [
        daemonset(
            name, release.namespace, labels, match, match,
            [container(d, image, securityContext={"privileged": True})
             for d, enabled in detectors if enabled],
            pod_spec={
                "hostPID": True,
                "initContainers": [container(
                    "fetch-kernel-headers", f"quay.io/yuvipanda/fetch-kernel-headers:{tag}")],
                "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
            },
        )
    ]  # fmt: skip


# Kinds of an inline chart's templates the API emulator stores (it models no RBAC or
# service accounts: those objects are rendered by helm but not kept here).
INLINE_KINDS = {"Deployment": types.DEPLOYMENTS, "ConfigMap": types.CONFIGMAPS}


def inline_objects(release: Release) -> Rendered:
    """A chart of binderctl's own (``chartContent``): its templates are plain YAML."""
    objects: Rendered = []
    for text in release.templates:
        for document in yaml.safe_load_all(text):
            rt = INLINE_KINDS.get(str((document or {}).get("kind")))
            if rt is not None:
                document["metadata"].setdefault("namespace", release.namespace)
                objects.append((rt, document))
    return objects


RENDERERS = {
    "cryptnono": cryptnono,
    "binderhub": binderhub,
    "cert-manager": cert_manager,
    "docker-registry": docker_registry,
    "traefik": traefik,
    "traefik-crd": lambda release: [],
    # binderctl's own ClusterIssuer chart: its objects are cert-manager kinds, which
    # the API emulator does not serve (check_kinds still requires their CRDs).
    "binderctl-cluster-issuer": lambda release: [],
    "binderctl-system-upgrade-controller": inline_objects,
}


def render(release: Release) -> Rendered:
    renderer = RENDERERS.get(release.chart)
    if renderer is None:
        raise ChartError(f'chart "{release.chart}" version "{release.version}" not found')
    return renderer(release)


def images(release: Release) -> set[str]:
    """The images a release's pods use (every one of them exists in its registry)."""
    found: set[str] = set()
    for rt, obj in render(release):
        if rt in (types.DEPLOYMENTS, types.DAEMONSETS):
            spec = obj["spec"]["template"]["spec"]
            for c in [*spec.get("initContainers", []), *spec["containers"]]:
                found.add(c["image"])
    return found
