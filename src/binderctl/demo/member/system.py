"""What a fresh k3s server creates: namespaces, the bundled add-ons in kube-system
(coredns, local-path-provisioner, metrics-server from manifests; traefik through the
bundled HelmCharts), with the labels and images of k3s's manifests."""

from __future__ import annotations

from binderctl.demo.kube.store import Obj
from binderctl.demo.member.charts import Rendered, container, deployment, port, service

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
COREDNS_IMAGE = "rancher/mirrored-coredns-coredns:1.12.0"
LOCAL_PATH_IMAGE = "rancher/local-path-provisioner:v0.0.30"
METRICS_SERVER_IMAGE = "rancher/mirrored-metrics-server:v0.7.2"
IMAGES = frozenset({COREDNS_IMAGE, LOCAL_PATH_IMAGE, METRICS_SERVER_IMAGE})
_CRITICAL = {"priorityClassName": "system-cluster-critical"}


def namespaces() -> list[Obj]:
    return [{"metadata": {"name": name}} for name in NAMESPACES]


def add_ons() -> Rendered:
    ks = "kube-system"
    dns = {"k8s-app": "kube-dns"}
    local_path = {"app": "local-path-provisioner"}
    metrics = {"k8s-app": "metrics-server"}
    return [
        deployment(
            "coredns", ks, {**dns, "kubernetes.io/name": "CoreDNS"}, dns, dns,
            [container("coredns", COREDNS_IMAGE, args=["-conf", "/etc/coredns/Corefile"],
                       resources={"limits": {"memory": "170Mi"},
                                  "requests": {"cpu": "100m", "memory": "70Mi"}})],
            pod_spec={**_CRITICAL, "serviceAccountName": "coredns", "dnsPolicy": "Default"},
        ),
        deployment(
            "local-path-provisioner", ks, local_path, local_path, local_path,
            [container("local-path-provisioner", LOCAL_PATH_IMAGE,
                       command=["local-path-provisioner", "start",
                                "--config", "/etc/config/config.json"])],
            pod_spec={**_CRITICAL, "serviceAccountName": "local-path-provisioner-service-account"},
        ),
        deployment(
            "metrics-server", ks, metrics, metrics, metrics,
            [container("metrics-server", METRICS_SERVER_IMAGE,
                       args=["--cert-dir=/tmp", "--secure-port=10250",
                             "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                             "--kubelet-use-node-status-port", "--metric-resolution=15s",
                             "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                       resources={"requests": {"cpu": "100m", "memory": "70Mi"}})],
            pod_spec={"priorityClassName": "system-node-critical",
                      "serviceAccountName": "metrics-server"},
        ),
        service("kube-dns", ks, {**dns, "kubernetes.io/cluster-service": "true",
                                 "kubernetes.io/name": "CoreDNS"}, dns,
                [port("dns", 53, 53) | {"protocol": "UDP"}, port("dns-tcp", 53, 53),
                 port("metrics", 9153, 9153)]),
        service("metrics-server", ks, {"kubernetes.io/cluster-service": "true",
                                       "kubernetes.io/name": "Metrics-server"}, metrics,
                [port("https", 443, "https")]),
    ]  # fmt: skip


def bundled_charts(disabled: tuple[str, ...] = ()) -> list[Obj]:
    """The HelmCharts k3s writes from its manifests directory (``--disable=traefik``
    leaves out both traefik charts, as k3s skips the whole traefik.yaml manifest)."""
    if "traefik" in disabled:
        return []
    base = "https://%{KUBERNETES_API}%/static/charts"
    return [
        {
            "metadata": {"name": "traefik-crd", "namespace": "kube-system"},
            "spec": {"chart": f"{base}/traefik-crd-27.0.201+up27.0.2.tgz"},
        },
        {
            "metadata": {"name": "traefik", "namespace": "kube-system"},
            "spec": {
                "chart": f"{base}/traefik-27.0.201+up27.0.2.tgz",
                "set": {"global.systemDefaultRegistry": ""},
                "valuesContent": "deployment:\n  podAnnotations:\n    prometheus.io/port: "
                '"8082"\n    prometheus.io/scrape: "true"\nservice:\n  ipFamilyPolicy: '
                "PreferDualStack\n",
            },
        },
    ]
