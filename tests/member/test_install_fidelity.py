"""The emulated member fails the way a real one does with the install values binderctl
used to apply, and works with the ones it applies now (issue 13).

Each test drives the member with the emulator's control plane, so the helm-controller's
Job pods really run, crash-loop and restart.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from binderctl.config import parse_config
from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj
from binderctl.demo.member.binderhub_http import health
from binderctl.demo.member.simulation import (
    Member,
    binderhub_chart,
    in_cluster_binderhub_chart,
    registry_chart,
)
from binderctl.services import charts
from tests.member.memberkit import Running, serving, until

CONFIG = """
[members.alpha]
binder_host = "binder.example.org"
hub_host = "hub.binder.example.org"
ssh_allowed_cidrs = ["203.0.113.0/24"]
letsencrypt_email = "ops@example.org"
"""
NODE_IP = "127.0.0.1"  # MemberOptions' default node address


def product_charts() -> dict[str, Obj]:
    """The HelmCharts binderctl applies, by name."""
    member = parse_config(Path("c.toml"), CONFIG).member(None)
    return {c["metadata"]["name"]: c for c in charts.helm_charts(member, NODE_IP)}


def check(member: Member, service: str) -> bool:
    return next(c["ok"] for c in health(member)[1] if c["service"] == service)


def text(member: Member, pod: Obj, container: str) -> str:
    """The container's previous run (if any), then its current one ("" before it starts)."""
    meta, lines = pod["metadata"], []
    for previous in (True, False):
        try:
            found = member.logs.lines(meta["namespace"], meta["name"], container, previous)
        except KeyError:
            continue
        lines += [line.text for line in found]
    return "\n".join(lines)


def _install_pods(member: Member, chart: str) -> list[Obj]:
    return [p for p in member.store.list(types.PODS, "kube-system")
            if p["metadata"]["name"].startswith(f"helm-install-{chart}-")]  # fmt: skip


def helm_log(member: Member, chart: str) -> str:
    return "\n".join(text(member, pod, "helm") for pod in _install_pods(member, chart))


def restarts(member: Member, chart: str) -> int:
    counts = [
        status.get("restartCount", 0)
        for pod in _install_pods(member, chart)
        for status in pod["status"].get("containerStatuses") or []
    ]
    return max(counts, default=0)


# -- the registry -------------------------------------------------------------------
async def test_localhost_registry_fails_every_push_and_the_health_check(
    running: Running,
) -> None:
    """binderctl's old values: dind has no host network, so localhost is the pod."""
    old = binderhub_chart(
        100, "localhost:30500/binder-", registry={"url": "http://localhost:30500"}
    )
    member = await running(charts=(registry_chart(), old))
    assert not check(member, "Docker registry")
    member.hub.arrive()
    build = await until(lambda: [b for b in member.builds.builds.values()])
    pod = await until(lambda: member.store.find(types.PODS, "binderhub", build[0].name))
    await until(lambda: "connection refused" in text(member, pod, "builder"))
    messages = [json.loads(line)["message"] for line in text(member, pod, "builder").splitlines()]
    assert messages[-1] == (
        'Get "https://localhost:30500/v2/": dial tcp 127.0.0.1:30500: connect: connection refused\n'
    )
    await until(lambda: member.builds.failed == 1)
    assert member.builds.succeeded == 0


async def test_node_address_registry_needs_insecure_registry_for_dind(running: Running) -> None:
    plain = binderhub_chart(
        100, f"{NODE_IP}:30500/binder-", registry={"url": f"http://{NODE_IP}:30500"}
    )
    member = await running(charts=(registry_chart(), plain))
    assert check(member, "Docker registry")  # the binder pod reaches the NodePort
    member.hub.arrive()
    build = await until(lambda: [b for b in member.builds.builds.values()])
    pod = await until(lambda: member.store.find(types.PODS, "binderhub", build[0].name))
    await until(lambda: "server gave HTTP response" in text(member, pod, "builder"))
    await until(lambda: member.builds.failed == 1)


async def test_binderctls_registry_values_build_push_and_pull(running: Running) -> None:
    member = await running(charts=(registry_chart(), product_charts()["binderhub"]))
    assert check(member, "Docker registry")
    member.builds.force_outcome = "success"
    member.hub.arrive()
    await until(lambda: member.builds.succeeded == 1)
    await until(lambda: member.hub.sessions and all(
        s.pod and member.store.find(types.PODS, "binderhub", s.pod) is not None
        and member.store.get(types.PODS, "binderhub", s.pod)["status"].get("phase") == "Running"
        for s in member.hub.sessions.values()))  # fmt: skip


async def test_containerd_without_registries_yaml_cannot_pull_built_images(
    running: Running,
) -> None:
    member = await running(plain_http_registries=())
    member.builds.force_outcome = "success"
    member.hub.arrive()
    await until(lambda: member.builds.succeeded == 1)
    await until(lambda: [
        e for e in member.store.list(types.EVENTS, "binderhub")
        if e["reason"] == "Failed" and e["message"] == "Error: ErrImagePull"
        and e["involvedObject"]["name"].startswith("jupyter-")
    ])  # fmt: skip


# -- cert-manager and the ClusterIssuer ----------------------------------------------
def _one_release_cert_manager() -> Obj:
    """binderctl's old cert-manager chart: CRDs and the ClusterIssuer in one release."""
    chart = product_charts()["cert-manager"]
    issuer = charts.cluster_issuer(parse_config(Path("c.toml"), CONFIG).member(None))
    values = {"crds": {"enabled": True}, "extraObjects": [yaml.safe_dump(issuer)]}
    chart["spec"]["valuesContent"] = yaml.safe_dump(values)
    return chart


async def test_cluster_issuer_in_the_crd_release_crash_loops_with_helms_message(
    running: Running,
) -> None:
    member = await running()
    member.writer.create(types.HELMCHARTS, _one_release_cert_manager())
    await until(lambda: restarts(member, "cert-manager") >= 2)
    assert (
        "Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: "
        'resource mapping not found for name: "letsencrypt-prod" namespace: "" from "": no '
        'matches for kind "ClusterIssuer" in version "cert-manager.io/v1"'
    ) in helm_log(member, "cert-manager")
    assert "ensure CRDs are installed first" in helm_log(member, "cert-manager")
    assert member.store.list(types.DEPLOYMENTS, "cert-manager") == []


async def test_cluster_issuer_chart_installs_once_cert_manager_has_the_crds(
    running: Running,
) -> None:
    member = await running()
    found = product_charts()
    member.writer.create(types.HELMCHARTS, found["cluster-issuer"])
    await until(lambda: restarts(member, "cluster-issuer") >= 1)  # no CRDs yet
    member.writer.create(types.HELMCHARTS, found["cert-manager"])
    await until(lambda: ("cert-manager", "cluster-issuer") in member.helm.installed)
    job = member.store.get(types.JOBS, "kube-system", "helm-install-cluster-issuer")
    await until(lambda: (member.store.get(types.JOBS, "kube-system", job["metadata"]["name"])
                         .get("status") or {}).get("succeeded"))  # fmt: skip


async def _issuer_before_the_webhook(running: Running, policy: str) -> Member:
    """cert-manager installed (its CRDs served) but its webhook not up (its image cannot
    be pulled yet), then the ClusterIssuer chart with ``policy``."""
    member = await running()
    found = product_charts()
    version = found["cert-manager"]["spec"]["version"]
    webhook_image = f"quay.io/jetstack/cert-manager-webhook:{version}"
    member.faults.unpullable_images.add(webhook_image)
    member.writer.create(types.HELMCHARTS, found["cert-manager"])
    await until(lambda: ("cert-manager", "cert-manager") in member.helm.installed)
    issuer = found["cluster-issuer"]
    issuer["spec"]["failurePolicy"] = policy
    member.writer.create(types.HELMCHARTS, issuer)
    await until(lambda: "failed calling webhook" in helm_log(member, "cluster-issuer"))
    await until(lambda: restarts(member, "cluster-issuer") >= 1)
    member.faults.unpullable_images.discard(webhook_image)
    return member


async def test_an_issuer_installed_before_the_webhook_with_abort_waits_for_ever(
    running: Running,
) -> None:
    member = await _issuer_before_the_webhook(running, "abort")
    await until(lambda: "waiting for operator intervention" in helm_log(member, "cluster-issuer"))
    await until(lambda: restarts(member, "cluster-issuer") >= 3)
    assert ("cert-manager", "cluster-issuer") not in member.helm.installed


async def test_binderctls_issuer_chart_reinstalls_once_the_webhook_serves(
    running: Running,
) -> None:
    assert product_charts()["cluster-issuer"]["spec"]["failurePolicy"] == "reinstall"
    member = await _issuer_before_the_webhook(running, "reinstall")
    await until(lambda: ("cert-manager", "cluster-issuer") in member.helm.installed)


# -- failurePolicy ------------------------------------------------------------------
def _change(member: Member, **spec: Any) -> None:
    """A quota change (and ``spec`` fields) on the binderhub HelmChart."""

    def change(chart: Obj) -> None:
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        values["config"]["LaunchQuota"]["total_quota"] = 0
        chart["spec"] = {**chart["spec"], **spec, "valuesContent": yaml.safe_dump(values)}

    member.store.mutate(types.HELMCHARTS, "kube-system", "binderhub", change)


def _uid(member: Member, name: str) -> str | None:
    found = member.store.find(types.DEPLOYMENTS, "binderhub", name)
    return None if found is None else found["metadata"]["uid"]


async def test_default_failure_policy_uninstalls_binderhub_after_a_failed_upgrade(
    running: Running,
) -> None:
    member = await running()
    hub, proxy = _uid(member, "hub"), _uid(member, "proxy")
    member.helm.failing_upgrades.add("binderhub")
    _change(member)  # no failurePolicy: helm-controller's default, reinstall
    await until(lambda: _uid(member, "hub") not in (None, hub))
    assert _uid(member, "proxy") != proxy
    log = helm_log(member, "binderhub")
    assert "Error: UPGRADE FAILED" in log
    assert log.index("Error: UPGRADE FAILED") < log.index("Uninstalling failed helm_v3 chart")
    # helm uninstall removes the release, not helm-controller's own values Secret
    assert member.store.find(types.SECRETS, "kube-system", "chart-values-binderhub")


async def test_abort_keeps_the_release_after_a_failed_upgrade(running: Running) -> None:
    member = await running()
    hub, proxy = _uid(member, "hub"), _uid(member, "proxy")
    member.helm.failing_upgrades.add("binderhub")
    _change(member, failurePolicy=product_charts()["binderhub"]["spec"]["failurePolicy"])
    await until(lambda: "waiting for operator intervention" in helm_log(member, "binderhub"))
    await until(lambda: restarts(member, "binderhub") >= 2)
    assert (_uid(member, "hub"), _uid(member, "proxy")) == (hub, proxy)
    assert "Uninstalling" not in helm_log(member, "binderhub")
    assert member.hub.binder_up and member.hub.hub_up


# -- traefik timeouts ---------------------------------------------------------------
async def _websocket_lifetime(member: Member) -> float:
    """Simulated seconds an idle kernel websocket through the ingress stays open."""
    async with serving(member) as port, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/user/alice/api/kernels/k1/channels"
        opened = member.clock.elapsed()  # at or before the proxy's deadline starts
        async with session.ws_connect(url, headers={"Host": member.hub_host}) as socket:
            await socket.send_str("ping")
            assert (await socket.receive()).data == "ping"
            async with asyncio.timeout(30):
                await socket.receive()  # idle until the proxy drops it
            return member.clock.elapsed() - opened


async def test_default_traefik_cuts_an_idle_websocket_at_60_seconds(running: Running) -> None:
    member = await running()  # k3s's bundled traefik, its defaults
    assert 60 <= await _websocket_lifetime(member) < 120


async def test_binderctls_traefik_keeps_it_ten_minutes(running: Running) -> None:
    member = await running(
        disabled=("traefik",),
        charts=(registry_chart(), in_cluster_binderhub_chart(100, NODE_IP),
                product_charts()["ingress"]),
    )  # fmt: skip
    assert [r.name for r in member.helm.installed.values() if r.chart == "traefik"] == ["ingress"]
    assert await _websocket_lifetime(member) >= 600


# -- hub_url_local ------------------------------------------------------------------
async def test_health_needs_an_in_cluster_hub_url_local(running: Running) -> None:
    member = await running()
    assert check(member, "JupyterHub API")

    def public(chart: Obj) -> None:
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        del values["config"]["BinderHub"]["hub_url_local"]
        values["config"]["BinderHub"]["hub_url"] = "https://hub.binder.example.org"
        chart["spec"]["valuesContent"] = yaml.safe_dump(values)

    member.store.mutate(types.HELMCHARTS, "kube-system", "binderhub", public)
    await until(lambda: not check(member, "JupyterHub API"))


async def test_without_any_traefik_the_ingress_answers_nothing(running: Running) -> None:
    """k3s --disable=traefik and no traefik chart: nothing serves 443."""
    member = await running(
        disabled=("traefik",), charts=(registry_chart(), in_cluster_binderhub_chart(100, NODE_IP))
    )
    async with serving(member) as port, aiohttp.ClientSession() as session:
        try:
            async with session.get(
                f"http://127.0.0.1:{port}/health", headers={"Host": member.binder_host}
            ) as response:
                answered: int | None = response.status
        except aiohttp.ClientError:
            answered = None
    assert answered is None
