"""The outside check: the real kubectl against the emulator, with a kubeconfig written
like k3s's, on a small member (node, hub deployment, image-builder daemon set, sessions)."""

from __future__ import annotations

import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from binderctl.demo.kube import types
from binderctl.demo.kube.sources import ContainerUsage
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import (
    NODE,
    Cluster,
    deployment_object,
    hub_deployment,
    pod_object,
    session_labels,
)
from tests.kube.kube_kubectl import Kubectl, needs_kubectl

pytestmark = needs_kubectl
USERS = ("ada", "bob", "cy")
DIND_LABELS = {"app": "binder", "component": "image-builder", "name": "binderhub-dind"}


@pytest.fixture
def member(cluster: Cluster) -> Cluster:
    cluster.add_namespace("binderhub")
    cluster.create(types.DEPLOYMENTS, hub_deployment())
    daemon = deployment_object(
        "binderhub-dind", "binderhub", DIND_LABELS, [{"name": "dind", "image": "docker:27-dind"}]
    )
    daemon["spec"].pop("replicas")
    cluster.create(types.DAEMONSETS, daemon)
    for user in USERS:
        session = pod_object(f"jupyter-{user}", "binderhub", labels=session_labels(user))
        session["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        cluster.create(types.PODS, session)
    wait_for(lambda: len(cluster.running_pods("binderhub")) == 5, what="the member's pods")
    return cluster


@pytest.fixture
def kubectl(member: Cluster, tmp_path: Path) -> Kubectl:
    return Kubectl(member, tmp_path / "home")


def _table(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_get_nodes(kubectl: Kubectl) -> None:
    rows = _table(kubectl("get", "nodes").stdout)
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert rows[1][:3] == [NODE, "Ready", "control-plane,master"] and rows[1][4] == "v1.32.4+k3s1"
    wide = _table(kubectl("get", "nodes", "-o", "wide").stdout)
    assert wide[0][5:7] == ["INTERNAL-IP", "EXTERNAL-IP"] and wide[1][5] == "10.0.0.2"


def test_get_pods_all_namespaces_uses_server_side_columns(kubectl: Kubectl) -> None:
    rows = _table(kubectl("get", "pods", "-A").stdout)
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    pods = {row[1]: row for row in rows[1:]}
    assert {f"jupyter-{u}" for u in USERS} < set(pods)
    hub = next(row for name, row in pods.items() if name.startswith("hub-"))
    assert hub[0] == "binderhub" and hub[2:5] == ["2/2", "Running", "0"]


def test_get_pods_by_label(kubectl: Kubectl) -> None:
    names = kubectl(
        "get", "pods", "-n", "binderhub", "-l", "component=singleuser-server", "-o", "name"
    ).stdout
    assert names.split() == [f"pod/jupyter-{u}" for u in USERS]
    rows = _table(kubectl("get", "pods", "-A", "-l", "component=singleuser-server").stdout)
    assert len(rows) == 4


class Lines:
    """Lines of a child's stdout as they come (select + os.read: no hidden buffer)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.fd = process.stdout.fileno()
        self.pending = b""

    def next(self) -> str:
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd], [], [], 15)
            assert ready, "no output from kubectl in time"
            chunk = os.read(self.fd, 4096)
            assert chunk, "kubectl closed its output"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode() + "\n"


def test_logs_follow_with_tail(member: Cluster, kubectl: Kubectl) -> None:
    member.do(lambda: member.logs.write("binderhub", "jupyter-ada", "notebook", "one\ntwo\nthree"))
    process = kubectl.popen("logs", "-f", "--tail=2", "jupyter-ada", "-n", "binderhub")
    lines = Lines(process)
    try:
        assert [lines.next(), lines.next()] == ["two\n", "three\n"]
        member.do(
            lambda: member.logs.write("binderhub", "jupyter-ada", "notebook", "[I] kernel started")
        )
        assert lines.next() == "[I] kernel started\n"
        kubectl("delete", "pod", "jupyter-ada", "-n", "binderhub", "--wait=false")
        assert process.wait(timeout=15) == 0  # the stream ends with the pod
    finally:
        process.kill()
        process.communicate()


def test_cordon_and_uncordon(member: Cluster, kubectl: Kubectl) -> None:
    assert kubectl("cordon", NODE).stdout.strip() == f"node/{NODE} cordoned"
    assert member.core.read_node(NODE).spec.unschedulable is True
    status = _table(kubectl("get", "nodes").stdout)[1][1]
    assert status == "Ready,SchedulingDisabled"
    assert kubectl("uncordon", NODE).stdout.strip() == f"node/{NODE} uncordoned"
    assert not member.core.read_node(NODE).spec.unschedulable


def test_rollout_restart_produces_a_new_hub_pod(member: Cluster, kubectl: Kubectl) -> None:
    old = {p["metadata"]["name"] for p in member.running_pods("binderhub", component="hub")}
    assert kubectl("rollout", "restart", "deployment/hub", "-n", "binderhub").stdout.strip() == (
        "deployment.apps/hub restarted"
    )
    out = kubectl("rollout", "status", "deployment/hub", "-n", "binderhub", "--timeout=30s").stdout
    assert 'deployment "hub" successfully rolled out' in out
    new = wait_for(
        lambda: (
            {p["metadata"]["name"] for p in member.running_pods("binderhub", component="hub")} - old
        )
    )
    assert len(new) == 1
    wait_for(lambda: all(member.pod("binderhub", name) is None for name in old), what="old hub pod")


def test_drain_evicts_everything_but_daemon_set_pods(member: Cluster, kubectl: Kubectl) -> None:
    done = kubectl(
        "drain", NODE, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=60s"
    )
    out = done.stdout + done.stderr
    assert f"node/{NODE} cordoned" in out and f"node/{NODE} drained" in out
    assert "ignoring DaemonSet-managed Pods: binderhub/binderhub-dind-" in out
    assert "deleting Pods that declare no controller: binderhub/jupyter-ada" in out
    for user in USERS:
        assert f"pod/jupyter-{user} evicted" in out
        assert member.pod("binderhub", f"jupyter-{user}") is None
    pods = member.pods("binderhub")
    dind = [p for p in pods if p["metadata"]["labels"].get("component") == "image-builder"]
    assert len(dind) == 1 and dind[0]["status"]["phase"] == "Running"
    hub = [p for p in pods if p["metadata"]["labels"].get("component") == "hub"]
    assert [p["status"]["phase"] for p in hub] == ["Pending"]  # its replacement has nowhere to go
    assert member.core.read_node(NODE).spec.unschedulable is True


def test_top_nodes_and_pods(member: Cluster, kubectl: Kubectl) -> None:
    member.metrics.nodes[NODE] = (2.0, 8 * 2**30)
    for user in USERS:
        member.metrics.pods[("binderhub", f"jupyter-{user}")] = [
            ContainerUsage("notebook", 0.1, 512 * 2**20)
        ]
    nodes = _table(kubectl("top", "nodes").stdout)
    assert nodes[0] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert nodes[1] == [NODE, "2000m", "25%", "8192Mi", "25%"]
    pods = _table(kubectl("top", "pods", "-n", "binderhub").stdout)
    assert pods[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert sorted(pods[1:]) == [[f"jupyter-{u}", "100m", "512Mi"] for u in USERS]


def test_get_events(kubectl: Kubectl) -> None:
    rows = _table(kubectl("get", "events", "-n", "binderhub").stdout)
    assert rows[0] == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    reasons = {(row[2], row[3]) for row in rows[1:]}
    assert ("Scheduled", "pod/jupyter-ada") in reasons
    assert ("ScalingReplicaSet", "deployment/hub") in reasons
    assert ("SuccessfulCreate", "daemonset/binderhub-dind") in reasons


def test_delete_pod(member: Cluster, kubectl: Kubectl) -> None:
    done = kubectl("delete", "pod", "jupyter-bob", "-n", "binderhub")
    assert done.stdout.strip() == 'pod "jupyter-bob" deleted'
    assert member.pod("binderhub", "jupyter-bob") is None  # kubectl waited for it to go
    missing = kubectl("delete", "pod", "jupyter-bob", "-n", "binderhub", check=False)
    assert missing.returncode == 1
    assert 'pods "jupyter-bob" not found' in missing.stderr


@pytest.fixture
def crowded(tmp_path: Path) -> Iterator[Cluster]:
    crowd = Cluster(tmp_path)
    crowd.add_node(pods=2000)
    crowd.add_namespace("binderhub")

    def fill() -> None:
        for index in range(1000):
            pod = pod_object(
                f"jupyter-user-{index:04d}", "binderhub", labels=session_labels(f"user-{index}")
            )
            crowd.server.registry.create(types.PODS, "binderhub", pod)

    crowd.do(fill)
    wait_for(
        lambda: len(crowd.running_pods("binderhub")) == 1000, timeout=60, what="1,000 sessions"
    )
    yield crowd
    crowd.close()


def test_get_pods_all_namespaces_with_a_thousand_sessions(crowded: Cluster, tmp_path: Path) -> None:
    kubectl = Kubectl(crowded, tmp_path / "home")
    rows = _table(kubectl("get", "pods", "-A").stdout)
    assert len(rows) == 1001  # fetched in pages of 500 with continue tokens
    assert all(row[3] == "Running" for row in rows[1:])
