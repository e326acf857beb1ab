"""What each program prints when it starts, and its background chatter.

Event-driven lines (launches, builds, culling, routes) are written by the modules that
simulate those events; here are the lines a container prints on its own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from binderctl.demo.member import logformats as fmt
from binderctl.demo.member import stamps

Startup = Callable[[float], list[str]]
Chatter = Callable[[random.Random, float], str]


@dataclass(frozen=True)
class Program:
    startup: Startup
    rate: float = 0.0  # chatter lines per simulated second
    chatter: Chatter | None = None


def _coredns(ts: float) -> list[str]:
    return [
        "[INFO] plugin/reload: Running configuration SHA512 = "
        "b941b080e5322f6519009bb49349462c7ddb6317425b0f6a83e5451175b720703949e3f3b454a24e77f3ff"
        "a0b5c1c17d6dd86e4d3ba2a1dd74d1d6f57a84d44",
        "CoreDNS-1.12.0",
        "linux/amd64, go1.23.3, 51e11f1",
    ]


def _metrics_server(ts: float) -> list[str]:
    return [
        fmt.klog("I", ts, "serving.go:374", "Generated self-signed cert "
                 "(/tmp/apiserver.crt, /tmp/apiserver.key)"),
        fmt.klog("I", ts, "handler.go:275", "Adding GroupVersion metrics.k8s.io v1beta1 to "
                 "ResourceManager"),
        fmt.klog("I", ts, "secure_serving.go:213", "Serving securely on [::]:10250"),
    ]  # fmt: skip


def _local_path(ts: float) -> list[str]:
    return [
        fmt.logrus("info", ts, "Starting provisioner controller "
                   "rancher.io/local-path_local-path-provisioner!"),
        fmt.logrus("info", ts, "Started provisioner controller "
                   "rancher.io/local-path_local-path-provisioner!"),
    ]  # fmt: skip


def _traefik(ts: float) -> list[str]:
    return [
        fmt.logrus("info", ts, "Configuration loaded from flags."),
        fmt.logrus("info", ts, "Traefik version 2.11.10 built on 2024-09-16T14:31:46Z"),
        fmt.logrus("info", ts, "Starting provider *ingress.Provider"),
        fmt.logrus("info", ts, "Starting provider *crd.Provider"),
    ]


def _klipper_lb(port: int) -> Startup:
    def lines(ts: float) -> list[str]:
        return [
            "+ trap exit TERM INT",
            "+ BIN_DIR=/usr/sbin",
            "+ check_iptables_mode",
            "+ start_proxy",
            "+ echo 0.0.0.0/0",
            f"+ iptables -t filter -I FORWARD -s 0.0.0.0/0 -p TCP --dport {port} -j ACCEPT",
        ]

    return lines


def _cert_manager(ts: float) -> list[str]:
    return [
        fmt.klog("I", ts, "start.go:218", '"starting cert-manager" logger="cert-manager.'
                 'controller" version="v1.20.2" git_commit="…"'),
        fmt.klog("I", ts, "leaderelection.go:254", "attempting to acquire leader lease "
                 "kube-system/cert-manager-controller..."),
    ]  # fmt: skip


def _registry(ts: float) -> list[str]:
    return [
        fmt.logrus("info", ts, "Starting upload purge in 20m0s", go_version="go1.16.15",
                   instance_id="9d14ad8b-7c9a-4c4e-9f0a-9ad1e3b4c5f6", version="2.8.1"),
        fmt.logrus("info", ts, "listening on [::]:5000", go_version="go1.16.15", version="2.8.1"),
    ]  # fmt: skip


def _registry_chatter(rng: random.Random, ts: float) -> str:
    return f'10.42.0.1 - - [{stamps.http_date(ts)}] "GET /v2/ HTTP/1.1" 200 2 "" "kube-probe/1.31"'


def _metrics_chatter(rng: random.Random, ts: float) -> str:
    return fmt.klog("I", ts, "scraper.go:149", '"Scraping metrics from nodes" nodes=1')


def _binder(ts: float) -> list[str]:
    return [
        fmt.tornado("I", ts, "app:1134", "BinderHub starting on port 8585"),
    ]


def _hub(ts: float) -> list[str]:
    hub = fmt.jupyterhub
    return [
        "Loading /usr/local/etc/jupyterhub/secret/values.yaml",
        "No config at /usr/local/etc/jupyterhub/existing-secret/values.yaml",
        hub("I", ts, "app:3354", "Running JupyterHub version 5.3.0"),
        hub("I", ts, "app:3384", "Using Authenticator: jupyterhub.auth.NullAuthenticator-5.3.0"),
        hub("I", ts, "app:3384", "Using Spawner: builtins.BinderSpawner"),
        hub("I", ts, "app:3384", "Using Proxy: jupyterhub.proxy.ConfigurableHTTPProxy-5.3.0"),
        hub("I", ts, "app:3735", "Hub API listening on http://:8081/hub/"),
        hub("I", ts, "app:3737", "Private Hub API connect url http://hub:8081/hub/"),
        hub("I", ts, "service:136", "Spawning python3 -m jupyterhub_idle_culler "
            "--url=http://localhost:8081/hub/api --timeout=600 --cull-every=660 "
            "--concurrency=10 --cull-users --max-age=21600"),
        hub("I", ts, "app:3781", "JupyterHub is now running, internal Hub API at "
            "http://hub:8081/hub/"),
    ]  # fmt: skip


def _chp(ts: float) -> list[str]:
    return [
        fmt.chp("info", ts, "Proxying http://*:8000 to http://hub:8081"),
        fmt.chp("info", ts, "Proxy API at http://*:8001/api/routes"),
    ]


def _dind(ts: float) -> list[str]:
    log = fmt.logrus
    return [
        log("info", ts, "Starting up"),
        log("info", ts, "containerd not running, starting managed containerd"),
        log("info", ts, "Loading containers: start."),
        log("info", ts, "Loading containers: done."),
        log("info", ts, "Docker daemon", **{"commit": "bea959c", "containerd-snapshotter": "false",
            "storage-driver": "overlay2", "version": "28.3.3"}),
        log("info", ts, "Daemon has completed initialization"),
        log("info", ts, "API listen on /var/run/dind/docker.sock"),
    ]  # fmt: skip


PROGRAMS: dict[str, Program] = {
    "coredns": Program(_coredns),
    "metrics-server": Program(_metrics_server, 1 / 60, _metrics_chatter),
    "local-path-provisioner": Program(_local_path),
    "traefik": Program(_traefik),
    "lb-tcp-80": Program(_klipper_lb(80)),
    "lb-tcp-443": Program(_klipper_lb(443)),
    "cert-manager-controller": Program(_cert_manager),
    "cert-manager-cainjector": Program(_cert_manager),
    "cert-manager-webhook": Program(_cert_manager),
    "docker-registry": Program(_registry, 1 / 10, _registry_chatter),
    "binder": Program(_binder),
    "hub": Program(_hub),
    "chp": Program(_chp),
    "dind": Program(_dind),
}


def program(container: str) -> Program:
    return PROGRAMS.get(container, Program(lambda ts: []))
