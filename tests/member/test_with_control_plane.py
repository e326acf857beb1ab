"""The member with the emulator's control plane (scheduler, controllers) on one loop.

Both run on the test's event loop at ``SPEED`` times real time; tests wait for states,
never for durations.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.scheduler import tolerates
from binderctl.demo.kube.store import Obj, WatchEvent
from binderctl.demo.member.binderhub_http import health
from binderctl.demo.member.helm import CONFIG_HASH
from binderctl.demo.member.image_cleaner import ANNOTATION
from binderctl.demo.member.simulation import (
    Member,
    binderhub_chart,
    in_cluster_binderhub_chart,
    registry_chart,
)
from tests.member.memberkit import SPEED, Running, log_text, pod_named, session_pods, until

NODE_IP = "127.0.0.1"  # MemberOptions' default node address


def _events(member: Member, reason: str, prefix: str) -> list[Obj]:
    return [
        e
        for e in member.store.list(types.EVENTS)
        if e["reason"] == reason and e["involvedObject"]["name"].startswith(prefix)
    ]


def _running_sessions(member: Member) -> list[Obj]:
    return [p for p in session_pods(member) if p["status"].get("phase") == "Running"]


async def test_launch_builds_then_runs_a_session(running: Running) -> None:
    member = await running(quota=50)
    member.hub.arrive()
    await until(lambda: _running_sessions(member))
    pod = _running_sessions(member)[0]
    assert pod["status"]["conditions"]
    assert any(c["type"] == "PodScheduled" for c in pod["status"]["conditions"])
    hub = log_text(member, pod_named(member, "hub-"), "hub")
    assert "Attempting to create pod jupyter-" in hub
    binder = log_text(member, pod_named(member, "binder-"), "binder")
    assert "Started build build-" in binder
    await until(lambda: "Launched https://github.com/" in log_text(
        member, pod_named(member, "binder-"), "binder"))  # fmt: skip
    assert _events(member, "Pulling", "jupyter-")
    assert _events(member, "Started", "jupyter-")


async def test_cordoned_node_leaves_sessions_pending(running: Running) -> None:
    member = await running(quota=50)
    member.store.mutate(types.NODES, None, "demo", lambda n: n["spec"].update(unschedulable=True))
    member.hub.registry.update({image: 1 for image in _images(member)})
    member.hub.arrive()
    await until(lambda: _events(member, "FailedScheduling", "jupyter-"))
    assert [p["status"]["phase"] for p in session_pods(member)] == ["Pending"]
    event = _events(member, "FailedScheduling", "jupyter-")[0]
    assert event["type"] == "Warning"
    assert "unschedulable" in event["message"]


def _images(member: Member) -> list[str]:
    from binderctl.demo.member import naming

    prefix = member.settings.image_prefix
    return [
        naming.image_name(prefix, repo.build_slug, ref)
        for repo in member.hub.catalog.repos
        for ref in repo.refs
    ]


async def test_deleting_dind_frees_a_hung_build(running: Running) -> None:
    member = await running(quota=50)
    member.builds.force_outcome = "hang"
    member.hub.arrive()
    await until(lambda: member.builds.hung())
    build = member.builds.hung()[0]
    dind = pod_named(member, "binderhub-dind-")["metadata"]["name"]
    member.writer.delete(types.PODS, "binderhub", dind, grace=None)
    await until(lambda: not member.builds.hung())
    assert build.image in member.hub.registry
    await until(lambda: member.store.find(types.PODS, "binderhub", build.name) is None)
    await until(lambda: [p for p in member.store.list(types.PODS, "binderhub")
                         if p["metadata"]["name"].startswith("binderhub-dind-")
                         and p["status"].get("phase") == "Running"])  # fmt: skip


async def test_proxy_restart_drops_and_restores_connections(running: Running) -> None:
    member = await running(sessions=5, cull_timeout=10**6, cull_max_age=10**6)
    old = pod_named(member, "proxy-")["metadata"]["name"]

    def restart(deployment: Obj) -> None:
        template = deployment["spec"]["template"]["metadata"]
        template.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = "now"

    member.store.mutate(types.DEPLOYMENTS, "binderhub", "proxy", restart)
    await until(lambda: member.hub.proxy_pod not in (None, old))
    session = session_pods(member)[0]
    await until(lambda: "Restoring connection for" in log_text(member, session, "notebook"))
    notebook = log_text(member, session, "notebook")
    assert notebook.index("Starting buffering for") < notebook.index("Restoring connection for")
    hub = log_text(member, pod_named(member, "hub-"), "hub")
    assert "Adding missing route for /user/" in hub


async def test_a_chart_that_cannot_install_never_becomes_ready(running: Running) -> None:
    member = await running()
    member.writer.create(
        types.HELMCHARTS,
        {
            "metadata": {"name": "broken", "namespace": "kube-system"},
            "spec": {"repo": "https://charts.example.org", "chart": "no-such-chart"},
        },
    )
    await until(lambda: _events(member, "BackOff", "helm-install-broken-"))
    job = member.store.get(types.JOBS, "kube-system", "helm-install-broken")
    assert not (job.get("status") or {}).get("succeeded")
    chart = member.store.get(types.HELMCHARTS, "kube-system", "broken")
    assert chart["status"]["jobName"] == "helm-install-broken"
    pod = pod_named(member, "helm-install-broken-", "kube-system")
    assert "INSTALLATION FAILED" in log_text(member, pod, "helm") or pod["status"][
        "containerStatuses"][0]["restartCount"] >= 0  # fmt: skip


# -- a HelmChart's valuesSecrets (k3s's helm-controller from v0.16.7) -------------------
EXTERNAL_PREFIX = "registry.example.org/binder-"
REGISTRY = {"url": "https://registry.example.org", "username": "robot"}
READS_VALUES_SECRETS = "v1.31.8+k3s1"


def _with_values_secret(member: Member) -> None:
    """The binderhub chart, changed to an external registry whose password is in the
    Secret ``binderhub-registry``."""
    spec = binderhub_chart(100, EXTERNAL_PREFIX, registry=REGISTRY)["spec"]
    spec["valuesSecrets"] = [{"name": "binderhub-registry", "keys": ["values.yaml"]}]
    member.store.mutate(types.HELMCHARTS, "kube-system", "binderhub", lambda c: c.update(spec=spec))


def _password_data(password: str) -> dict[str, str]:
    values = yaml.safe_dump({"registry": {"password": password}})
    return {"values.yaml": base64.b64encode(values.encode()).decode()}


def _installed_registry(member: Member) -> dict[str, Any]:
    release = member.helm.installed[("binderhub", "binderhub")]
    return release.values.get("registry") or {}


def _install_hash(member: Member) -> str:
    job = member.store.get(types.JOBS, "kube-system", "helm-install-binderhub")
    return job["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH]


def _registry_check(member: Member) -> bool:
    return next(c["ok"] for c in health(member)[1] if c["service"] == "Docker registry")


async def test_a_values_secret_must_exist_is_merged_and_followed(running: Running) -> None:
    member = await running(k3s_version=READS_VALUES_SECRETS)
    _with_values_secret(member)
    await until(lambda: _events(member, "FailedMount", "helm-install-binderhub-"))
    event = _events(member, "FailedMount", "helm-install-binderhub-")[0]
    assert event["type"] == "Warning"
    assert event["message"] == (
        'MountVolume.SetUp failed for volume "values" : secret "binderhub-registry" not found'
    )
    pod = pod_named(member, "helm-install-binderhub-", "kube-system")
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == (
        "ContainerCreating"
    )
    in_cluster = {"url": f"http://{member.options.in_cluster_registry}"}
    assert _installed_registry(member) == in_cluster  # the release installed before still runs
    assert _registry_check(member)  # with the in-cluster registry

    member.writer.create(
        types.SECRETS,
        {
            "metadata": {"name": "binderhub-registry", "namespace": "kube-system"},
            "data": _password_data("first-password"),
        },
    )
    await until(lambda: _installed_registry(member).get("password") == "first-password")
    assert _installed_registry(member) == {**REGISTRY, "password": "first-password"}
    assert _registry_check(member)
    job = member.store.get(types.JOBS, "kube-system", "helm-install-binderhub")
    uid = job["metadata"]["uid"]
    (pod,) = [p for p in member.store.list(types.PODS, "kube-system")
              if p["metadata"]["labels"].get("controller-uid") == uid]  # fmt: skip
    assert "--values /config/values-0-000-HelmChart-ValuesContent.yaml --values /config/" \
        "values-0-002-HelmChart-ValuesSecret.yaml" in log_text(member, pod, "helm")  # fmt: skip

    installed = _install_hash(member)
    member.store.mutate(
        types.SECRETS, "kube-system", "binderhub-registry",
        lambda secret: secret.update(data=_password_data("second-password")),
    )  # fmt: skip
    await until(lambda: _installed_registry(member).get("password") == "second-password")
    assert _install_hash(member) != installed


async def test_older_k3s_does_not_read_values_secrets(running: Running) -> None:
    member = await running(k3s_version="v1.31.4+k3s1")  # helm-controller v0.16.5
    _with_values_secret(member)
    await until(lambda: _installed_registry(member) == REGISTRY)
    assert not _events(member, "FailedMount", "helm-install-binderhub-")
    job = member.store.get(types.JOBS, "kube-system", "helm-install-binderhub")
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "values", "secret": {"secretName": "chart-values-binderhub"}}]
    assert not _registry_check(member)


# -- a changed launch quota: install Job, binder rollout, then BinderHub has it ----------
def _set_quota(member: Member, quota: int | None, key: str = "LaunchQuota.total_quota") -> None:
    def change(chart: Obj) -> None:
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        section, name = key.split(".")
        if section != "LaunchQuota":
            del values["config"]["LaunchQuota"]
        values["config"].setdefault(section, {})[name] = quota
        chart["spec"]["valuesContent"] = yaml.safe_dump(values)

    member.store.mutate(types.HELMCHARTS, "kube-system", "binderhub", change)


def _binder_pods(member: Member) -> list[str]:
    return sorted(p["metadata"]["name"] for p in member.store.list(types.PODS, "binderhub")
                  if p["metadata"]["labels"].get("component") == "binder")  # fmt: skip


def _install_job_done(member: Member) -> bool:
    job = member.store.find(types.JOBS, "kube-system", "helm-install-binderhub")
    return bool(job and (job.get("status") or {}).get("succeeded"))


async def test_a_new_quota_reaches_binderhub_only_with_the_new_binder_pod(
    running: Running,
) -> None:
    member = await running(sessions=5, quota=5, launches_per_minute=60.0)
    (old,) = _binder_pods(member)
    hub = pod_named(member, "hub-")["metadata"]["uid"]
    deployment = member.store.get(types.DEPLOYMENTS, "binderhub", "binder")
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    before = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    _set_quota(member, 40)
    seen: set[tuple[str | None, int | None]] = set()

    def served() -> int | None:  # who answers /health, and with which quota
        quota = next(c["quota"] for c in health(member)[1] if c["service"] == "Pod quota")
        seen.add((member.hub.serving_binder(), quota))
        return quota

    await until(lambda: _install_job_done(member) and served() == 5)
    await until(lambda: served() == 40)
    assert member.hub.serving_binder() != old and (old, 40) not in seen
    assert (None, 5) not in seen and (None, 40) not in seen  # never without a binder
    deployment = member.store.get(types.DEPLOYMENTS, "binderhub", "binder")
    assert deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"] != before
    assert pod_named(member, "hub-")["metadata"]["uid"] == hub  # the hub does not restart
    await until(lambda: len(session_pods(member)) > 5)

    _set_quota(member, 0)
    await until(lambda: member.quota() == 0)
    launched = member.hub.launches
    await asyncio.sleep(120 / SPEED)
    assert member.hub.launches == launched  # maintenance: nobody gets in


async def test_deprecated_pod_quota_is_read(running: Running) -> None:
    member = await running(quota=100)
    _set_quota(member, 7, "BinderHub.pod_quota")
    await until(lambda: member.quota() == 7)


async def test_on_a_cordoned_node_the_install_job_stays_pending(running: Running) -> None:
    member = await running(quota=100)
    member.store.mutate(types.NODES, None, "demo", lambda n: n["spec"].update(unschedulable=True))
    _set_quota(member, 0)
    await until(lambda: _events(member, "FailedScheduling", "helm-install-binderhub-"))
    pod = pod_named(member, "helm-install-binderhub-", "kube-system")
    assert pod["status"]["phase"] == "Pending"
    cordon = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    assert not tolerates(pod["spec"].get("tolerations") or [], cordon)
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    event = _events(member, "FailedScheduling", "helm-install-binderhub-")[0]
    assert "1 node(s) were unschedulable" in event["message"]
    await asyncio.sleep(60 / SPEED)  # far longer than the Job and a rollout take
    assert member.quota() == 100 and not _install_job_done(member)

    member.store.mutate(types.NODES, None, "demo", lambda n: n["spec"].update(unschedulable=False))
    await until(lambda: member.quota() == 0)


# -- the chart's image cleaner (docker-image-cleaner) -----------------------------------
async def test_an_enabled_image_cleaner_undoes_a_cordon(running: Running) -> None:
    chart = in_cluster_binderhub_chart(100, NODE_IP, imageCleaner={"enabled": True})
    member = await running(quota=100, charts=(registry_chart(), chart))
    cleaner = pod_named(member, "binderhub-image-cleaner-")
    await until(lambda: cleaner["metadata"]["name"] in {
        r.name for r in member.kubelet.runs.values() if r.ready})  # fmt: skip
    changes: list[tuple[bool, str | None]] = []

    def cordon(node: Obj) -> tuple[bool, str | None]:
        annotations = node["metadata"].get("annotations") or {}
        return bool(node["spec"].get("unschedulable")), annotations.get(ANNOTATION)

    def listen(event: WatchEvent) -> None:
        if event.rt is types.NODES and event.old and cordon(event.obj) != cordon(event.old):
            changes.append(cordon(event.obj))

    member.store.add_listener(listen)
    member.store.mutate(types.NODES, None, "demo", lambda n: n["spec"].update(unschedulable=True))
    disk = member.kubelet.disk
    disk.build_cache += int(disk.capacity * 0.82) - disk.used  # dind's storage: 82% full
    await until(lambda: member.image_cleaner.prunes == 1)
    # cordoned by hand (a drain), by the cleaner while it prunes, then not at all
    assert changes == [(True, None), (True, "true"), (False, None)]
    assert disk.build_cache == 0
    node = member.store.get(types.NODES, None, "demo")
    assert not node["spec"].get("unschedulable")  # the drain's cordon is gone too
    log = log_text(member, cleaner, "image-cleaner-dind")
    assert "Cordoning node demo" in log and "Uncordoning node demo" in log


async def test_a_disabled_image_cleaner_is_not_installed(running: Running) -> None:
    member = await running(quota=100)
    assert not [p for p in member.store.list(types.PODS, "binderhub")
                if p["metadata"]["name"].startswith("binderhub-image-cleaner-")]  # fmt: skip


async def test_build_image_from_the_values_is_in_versions_and_pulled(running: Running) -> None:
    """``KubernetesBuildExecutor.build_image`` reaches /versions and the build pods; an
    image no registry has fails to pull, as on a real node."""
    image = "quay.io/jupyterhub/repo2docker:no-such-tag"
    chart = in_cluster_binderhub_chart(50, NODE_IP)
    values = yaml.safe_load(chart["spec"]["valuesContent"])
    values["config"]["KubernetesBuildExecutor"] = {"build_image": image}
    chart["spec"]["valuesContent"] = yaml.safe_dump(values)
    member = await running(quota=50, charts=(registry_chart(), chart))
    assert member.versions()["builder_info"] == {"build_image": image}
    assert member.versions()["builder"] == image
    assert member.versions()["binderhub"] == "0.2.0+2251.g383374de"
    member.hub.arrive()
    failed = await until(lambda: _events(member, "Failed", "build-"))
    assert image in failed[0]["message"]
