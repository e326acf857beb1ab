"""The member with the emulator's control plane (scheduler, controllers) on one loop.

Both run on the test's event loop at ``SPEED`` times real time; tests wait for states,
never for durations.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml
from memberkit import Running, log_text, pod_named, session_pods, until

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj
from binderctl.demo.member.binderhub_http import health
from binderctl.demo.member.helm import CONFIG_HASH
from binderctl.demo.member.simulation import Member, binderhub_chart


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
