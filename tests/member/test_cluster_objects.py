"""What an "up" member looks like through the store: node, add-ons, release, sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from binderctl.config import DEFAULT_K3S_VERSION
from binderctl.demo.kube import types
from binderctl.demo.member.charts import ChartError, render
from binderctl.demo.member.helm import release_of
from binderctl.demo.member.simulation import Member, binderhub_chart
from tests.member.memberkit import pod_named, session_pods


def test_node_reports_the_server_type(make_member: Callable[..., Member]) -> None:
    member = make_member(server_type="ccx63")
    member.advance(1)
    node = member.store.get(types.NODES, None, "demo")
    assert node["status"]["capacity"]["cpu"] == "48"
    assert node["status"]["capacity"]["pods"] == "336"
    memory_ki = int(node["status"]["capacity"]["memory"].removesuffix("Ki"))
    assert 180 * 1024**2 < memory_ki < 192 * 1024**2
    assert node["status"]["nodeInfo"]["kubeletVersion"] == DEFAULT_K3S_VERSION
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions == {
        "MemoryPressure": "False",
        "DiskPressure": "False",
        "PIDPressure": "False",
        "Ready": "True",
    }
    assert node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == "true"


def test_release_and_add_ons_with_real_labels(make_member: Callable[..., Member]) -> None:
    member = make_member()
    member.advance(1)
    store = member.store
    names = {ns["metadata"]["name"] for ns in store.list(types.NAMESPACES)}
    assert {"default", "kube-system", "kube-public", "kube-node-lease", "binderhub"} <= names
    binder = store.get(types.DEPLOYMENTS, "binderhub", "binder")
    assert binder["spec"]["template"]["metadata"]["labels"]["component"] == "binder"
    hub = store.get(types.DEPLOYMENTS, "binderhub", "hub")
    assert hub["spec"]["selector"]["matchLabels"] == {
        "component": "hub",
        "app": "jupyterhub",
        "release": "binderhub",
    }
    dind = store.get(types.DAEMONSETS, "binderhub", "binderhub-dind")
    assert dind["spec"]["template"]["metadata"]["labels"]["component"] == "image-builder"
    coredns = pod_named(member, "coredns-", "kube-system")
    assert coredns["metadata"]["labels"]["k8s-app"] == "kube-dns"
    assert coredns["status"]["phase"] == "Running"
    for name in ("binder-", "hub-", "proxy-", "binderhub-dind-"):
        assert pod_named(member, name)["status"]["phase"] == "Running"
    job = store.get(types.JOBS, "kube-system", "helm-install-binderhub")
    assert job["status"]["succeeded"] == 1
    chart = store.get(types.HELMCHARTS, "kube-system", "binderhub")
    assert chart["status"]["jobName"] == "helm-install-binderhub"


def test_session_pods_look_like_kubespawner_made_them(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=25)
    member.advance(1)
    pods = session_pods(member)
    assert len(pods) == 25
    pod = pods[0]
    labels = pod["metadata"]["labels"]
    assert labels["release"] == "binderhub"
    assert labels["heritage"] == "jupyterhub"
    assert pod["metadata"]["name"] == f"jupyter-{labels['hub.jupyter.org/username']}"
    container = pod["spec"]["containers"][0]
    assert container["name"] == "notebook"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["BINDER_REPO_URL"].startswith("https://github.com/")
    assert env["BINDER_REF_URL"] == f"{env['BINDER_REPO_URL']}/tree/{container['image'][-40:]}"
    assert container["image"].startswith(f"{member.options.in_cluster_registry}/binder-")
    assert container["resources"] == {
        "limits": {"cpu": "1", "memory": "2G"},
        "requests": {"cpu": "10m", "memory": "450M"},
    }
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["podIP"].startswith("10.42.")
    repos = {p["spec"]["containers"][0]["env"][3]["value"] for p in pods}
    assert len(repos) < 25  # popular repos are launched more than once


def test_thousand_sessions_start(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=1000, max_pods=1100)  # a /21 of pod addresses
    member.advance(1)
    pods = session_pods(member)
    assert len(pods) == 1000
    assert all(p["status"]["phase"] == "Running" for p in pods)
    assert len({p["status"]["podIP"] for p in pods}) == 1000
    assert member.pod_counts() == (1000, 0)


def test_chart_values_the_binderhub_chart_rejects(make_member: Callable[..., Member]) -> None:
    """``dind.enabled`` fails the real chart's NOTES.txt check: nothing gets installed."""
    rejected = binderhub_chart(100, "127.0.0.1:30500/binder-", dind={"enabled": True})
    member = make_member(charts=(rejected,))
    member.advance(1)
    assert member.store.find(types.DEPLOYMENTS, "binderhub", "binder") is None
    job = member.store.get(types.JOBS, "kube-system", "helm-install-binderhub")
    assert not (job.get("status") or {}).get("succeeded")
    with pytest.raises(ChartError, match="imageBuilderType: dind"):
        render(release_of(rejected))
