"""Controllers and scheduler through the real kubernetes client: cordon, patches,
rollouts, evictions with disruption budgets, daemon sets, jobs, deletion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from binderctl.demo.kube import types
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import (
    NODE,
    Cluster,
    deployment_object,
    hub_deployment,
    pod_object,
    session_labels,
)


def _events(cluster: Cluster, reason: str, namespace: str = "default") -> list:
    return [e for e in cluster.core.list_namespaced_event(namespace).items if e.reason == reason]


def test_cordon_leaves_new_pods_pending_until_uncordon(cluster: Cluster) -> None:
    node = cluster.core.patch_node(NODE, {"spec": {"unschedulable": True}})
    assert node.spec.unschedulable is True
    tainted = wait_for(lambda: cluster.core.read_node(NODE).spec.taints)
    assert [(t.key, t.effect) for t in tainted] == [
        ("node.kubernetes.io/unschedulable", "NoSchedule")
    ]
    cluster.core.create_namespaced_pod(
        "default", pod_object("jupyter-ada", labels=session_labels("ada"))
    )
    warning = wait_for(lambda: _events(cluster, "FailedScheduling"))[0]
    assert warning.type == "Warning"
    assert warning.message == (
        "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are "
        "available: 1 Preemption is not helpful for scheduling."
    )
    pod = cluster.core.read_namespaced_pod("jupyter-ada", "default")
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    condition = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (condition.status, condition.reason) == ("False", "Unschedulable")
    cluster.core.patch_node(NODE, {"spec": {"unschedulable": False}})
    wait_for(
        lambda: cluster.core.read_namespaced_pod("jupyter-ada", "default").status.phase == "Running"
    )
    assert wait_for(lambda: not cluster.core.read_node(NODE).spec.taints)


def test_a_full_node_leaves_pods_pending_with_too_many_pods(tmp_path: Path) -> None:
    small = Cluster(tmp_path)
    try:
        small.add_node(pods=2)
        for name in ("a", "b", "c"):
            small.create(types.PODS, pod_object(name))
        warning = wait_for(lambda: _events(small, "FailedScheduling"))[0]
        assert warning.message.startswith("0/1 nodes are available: 1 Too many pods.")
        assert warning.message.endswith("1 No preemption victims found for incoming pod.")
        assert sorted(p["status"]["phase"] for p in small.pods("default")) == [
            "Pending",
            "Running",
            "Running",
        ]
        small.core.delete_namespaced_pod("a", "default", grace_period_seconds=0)
        wait_for(lambda: len(small.running_pods("default")) == 2, what="the pending pod to start")
    finally:
        small.close()


def _hub(cluster: Cluster) -> None:
    cluster.add_namespace("binderhub")
    cluster.create(types.DEPLOYMENTS, hub_deployment())
    wait_for(
        lambda: (
            cluster.apps.read_namespaced_deployment("hub", "binderhub").status.ready_replicas == 1
        )
    )


def test_strategic_merge_patch_merges_containers_by_name(cluster: Cluster) -> None:
    _hub(cluster)
    patched = cluster.apps.patch_namespaced_deployment(
        "hub",
        "binderhub",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "hub",
                                "image": "quay.io/jupyterhub/k8s-hub:4.1.0",
                                "env": [{"name": "DEBUG", "value": "1"}],
                            }
                        ]
                    }
                }
            }
        },
    )
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert set(containers) == {"hub", "culler"}
    assert containers["hub"].image.endswith(":4.1.0")
    assert [(e.name, e.value) for e in containers["hub"].env] == [
        ("PYTHONUNBUFFERED", "1"),
        ("DEBUG", "1"),
    ]
    assert containers["hub"].ports[0].container_port == 8081
    assert containers["culler"].image.endswith(":4.0.0")
    deleted = cluster.apps.patch_namespaced_deployment(
        "hub",
        "binderhub",
        {"spec": {"template": {"spec": {"containers": [{"name": "culler", "$patch": "delete"}]}}}},
    )
    assert [c.name for c in deleted.spec.template.spec.containers] == ["hub"]
    # A new template rolls out: a new ReplicaSet whose pod runs the new image.
    wait_for(
        lambda: [
            p
            for p in cluster.running_pods("binderhub", component="hub")
            if p["spec"]["containers"][0]["image"].endswith(":4.1.0")
            and len(p["spec"]["containers"]) == 1
        ],
        what="the new hub pod",
    )


def test_merge_and_json_patches(cluster: Cluster) -> None:
    _hub(cluster)
    status, body, _ = cluster.raw(
        "PATCH",
        "/apis/apps/v1/namespaces/binderhub/deployments/hub",
        body={
            "metadata": {"labels": {"team": "ops"}},
            "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}]}}},
        },
        content_type="application/merge-patch+json",
    )
    assert status == 200 and body["metadata"]["labels"]["team"] == "ops"
    assert [c["name"] for c in body["spec"]["template"]["spec"]["containers"]] == ["only"]
    status, body, _ = cluster.raw(
        "PATCH",
        "/apis/apps/v1/namespaces/binderhub/deployments/hub",
        body=[
            {"op": "test", "path": "/metadata/labels/team", "value": "ops"},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
            {"op": "remove", "path": "/metadata/labels/team"},
        ],
        content_type="application/json-patch+json",
    )
    assert (
        status == 200 and body["spec"]["replicas"] == 2 and "team" not in body["metadata"]["labels"]
    )
    status, body, _ = cluster.raw(
        "PATCH",
        "/apis/apps/v1/namespaces/binderhub/deployments/hub",
        body=[{"op": "test", "path": "/spec/replicas", "value": 7}],
        content_type="application/json-patch+json",
    )
    assert status == 422 and body["reason"] == "Invalid"


def test_rollout_restart_replaces_the_pod_surge_first(cluster: Cluster) -> None:
    _hub(cluster)
    old = cluster.running_pods("binderhub", component="hub")[0]["metadata"]["name"]
    cluster.apps.patch_namespaced_deployment(
        "hub",
        "binderhub",
        {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
                    }
                }
            }
        },
    )

    def rolled() -> bool:
        d = cluster.apps.read_namespaced_deployment("hub", "binderhub")
        return (
            d.status.observed_generation == d.metadata.generation
            and d.status.updated_replicas == 1
            and d.status.available_replicas == 1
            and d.status.replicas == 1
        )

    wait_for(rolled, what="the rollout")
    pods = cluster.running_pods("binderhub", component="hub")
    assert [p["metadata"]["name"] for p in pods] != [old]
    wait_for(lambda: cluster.pod("binderhub", old) is None, what="the old pod to go")
    replica_sets = cluster.apps.list_namespaced_replica_set("binderhub").items
    revisions = sorted(
        (rs.metadata.annotations["deployment.kubernetes.io/revision"], rs.spec.replicas)
        for rs in replica_sets
    )
    assert revisions == [("1", 0), ("2", 1)]
    scaled = [e.message for e in _events(cluster, "ScalingReplicaSet", "binderhub")]
    new_rs = next(rs.metadata.name for rs in replica_sets if rs.spec.replicas == 1)
    assert f"Scaled up replica set {new_rs} from 0 to 1" in scaled
    conditions = {
        c.type: c.reason
        for c in cluster.apps.read_namespaced_deployment("hub", "binderhub").status.conditions
    }
    assert conditions == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }


def _evict(cluster: Cluster, name: str, namespace: str = "default") -> None:
    cluster.core.create_namespaced_pod_eviction(
        name,
        namespace,
        client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=namespace)),
    )


def test_eviction_deletes_unless_a_budget_forbids_it(cluster: Cluster) -> None:
    for name in ("jupyter-ada", "jupyter-bob"):
        cluster.create(types.PODS, pod_object(name, labels=session_labels(name[8:])))
    wait_for(lambda: len(cluster.running_pods("default")) == 2, what="sessions running")
    _evict(cluster, "jupyter-ada")
    ada = cluster.core.read_namespaced_pod("jupyter-ada", "default")
    assert ada.metadata.deletion_timestamp is not None
    assert any(
        c.type == "DisruptionTarget" and c.reason == "EvictionByEvictionAPI"
        for c in ada.status.conditions
    )
    wait_for(lambda: cluster.pod("default", "jupyter-ada") is None, what="the evicted pod to go")
    client.PolicyV1Api(cluster.api_client).create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "sessions"},
            "spec": {
                "minAvailable": 1,
                "selector": {"matchLabels": {"component": "singleuser-server"}},
            },
        },
    )
    wait_for(
        lambda: (
            client.PolicyV1Api(cluster.api_client)
            .read_namespaced_pod_disruption_budget("sessions", "default")
            .status.observed_generation
            == 1
        )
    )
    with pytest.raises(ApiException) as blocked:
        _evict(cluster, "jupyter-bob")
    assert blocked.value.status == 429
    assert "Retry-After" not in blocked.value.headers
    body = json.loads(blocked.value.body)
    assert (body["reason"], body["message"]) == (
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    )
    assert body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget sessions needs 1 healthy pods and has 1 currently",
        }
    ]
    assert cluster.pod("default", "jupyter-bob")["metadata"].get("deletionTimestamp") is None


def test_a_budget_not_yet_observed_asks_to_retry_after_10s(tmp_path: Path) -> None:
    frozen = Cluster(tmp_path, speed=None)  # no control plane: nobody observes the budget
    try:
        pod = pod_object("web", labels={"app": "web"}, node=NODE)
        frozen.create(types.PODS, pod)
        frozen.create(
            types.PODDISRUPTIONBUDGETS,
            {
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
            },
        )
        wait_for(lambda: frozen.running_pods("default"), what="the agent to start the pod")
        with pytest.raises(ApiException) as blocked:
            _evict(frozen, "web")
        assert blocked.value.status == 429 and blocked.value.headers["Retry-After"] == "10"
        body = json.loads(blocked.value.body)
        assert body["details"]["retryAfterSeconds"] == 10
        assert (
            body["details"]["causes"][0]["message"]
            == "The disruption budget web is still being processed by the server."
        )
    finally:
        frozen.close()


def test_daemon_set_pods_land_on_a_cordoned_node(cluster: Cluster) -> None:
    cluster.core.patch_node(NODE, {"spec": {"unschedulable": True}})
    cluster.add_namespace("binderhub")
    labels = {"app": "binder", "component": "image-builder", "name": "binderhub-dind"}
    daemon = deployment_object(
        "binderhub-dind", "binderhub", labels, [{"name": "dind", "image": "docker:27-dind"}]
    )
    daemon["spec"].pop("replicas")
    cluster.create(types.DAEMONSETS, daemon)
    ds = wait_for(
        lambda: (
            (
                d := cluster.apps.read_namespaced_daemon_set("binderhub-dind", "binderhub")
            ).status.number_ready
            == 1
            and d
        )
    )
    assert (ds.status.desired_number_scheduled, ds.status.current_number_scheduled) == (1, 1)
    pod = cluster.running_pods("binderhub", component="image-builder")[0]
    assert pod["spec"]["nodeName"] == NODE
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    keys = {t["key"] for t in pod["spec"]["tolerations"]}
    assert "node.kubernetes.io/unschedulable" in keys


def test_job_runs_a_pod_to_completion(cluster: Cluster) -> None:
    client.BatchV1Api(cluster.api_client).create_namespaced_job(
        "default",
        {
            "metadata": {"name": "helm-install-binderhub"},
            "spec": {
                "backoffLimit": 1000,
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [{"name": "helm", "image": "rancher/klipper-helm:v0.9.3"}],
                    }
                },
            },
        },
    )

    def complete() -> object:
        job = client.BatchV1Api(cluster.api_client).read_namespaced_job(
            "helm-install-binderhub", "default"
        )
        return (
            job
            if any(c.type == "Complete" and c.status == "True" for c in job.status.conditions or [])
            else None
        )

    job = wait_for(complete, what="the job to complete")
    assert job.status.succeeded == 1 and job.status.completion_time is not None
    pods = cluster.pods("default")
    assert [p["metadata"]["labels"]["job-name"] for p in pods] == ["helm-install-binderhub"]


def test_graceful_deletion_and_propagation(cluster: Cluster) -> None:
    _hub(cluster)
    pod = cluster.running_pods("binderhub", component="hub")[0]["metadata"]["name"]
    deleting = cluster.core.delete_namespaced_pod(pod, "binderhub")
    assert (
        deleting.metadata.deletion_timestamp is not None
        and deleting.metadata.deletion_grace_period_seconds == 30
    )
    wait_for(lambda: cluster.pod("binderhub", pod) is None, what="the grace period to pass")
    # Orphan: the ReplicaSet stays, without its owner.
    rs_name = cluster.apps.list_namespaced_replica_set("binderhub").items[0].metadata.name
    cluster.apps.delete_namespaced_deployment("hub", "binderhub", propagation_policy="Orphan")
    rs = cluster.apps.read_namespaced_replica_set(rs_name, "binderhub")
    assert rs.metadata.owner_references is None
    # Foreground: the owner waits with a finalizer until its pods are gone.
    cluster.apps.delete_namespaced_replica_set(
        rs_name, "binderhub", propagation_policy="Foreground"
    )
    waiting = cluster.apps.read_namespaced_replica_set(rs_name, "binderhub")
    assert waiting.metadata.finalizers == ["foregroundDeletion"]
    wait_for(lambda: not cluster.pods("binderhub"), what="the pods to go")
    wait_for(
        lambda: not cluster.apps.list_namespaced_replica_set("binderhub").items, what="the rs to go"
    )


def test_deleting_a_deployment_removes_its_replica_sets_and_pods(cluster: Cluster) -> None:
    _hub(cluster)
    status = cluster.apps.delete_namespaced_deployment("hub", "binderhub")
    assert status["kind"] == "Status" and status["status"] == "Success"
    wait_for(
        lambda: not cluster.apps.list_namespaced_replica_set("binderhub").items, what="rs gone"
    )
    wait_for(lambda: not cluster.pods("binderhub"), what="pods gone")


def test_scale_subresource(cluster: Cluster) -> None:
    _hub(cluster)
    scale = cluster.apps.read_namespaced_deployment_scale("hub", "binderhub")
    assert (
        scale.spec.replicas == 1
        and scale.status.selector == "app=jupyterhub,component=hub,release=binderhub"
    )
    cluster.apps.patch_namespaced_deployment_scale("hub", "binderhub", {"spec": {"replicas": 3}})
    wait_for(
        lambda: len(cluster.running_pods("binderhub", component="hub")) == 3, what="3 hub pods"
    )


def test_daemon_set_rolls_its_pods_on_a_new_template(cluster: Cluster) -> None:
    cluster.add_namespace("binderhub")
    labels = {"component": "image-builder"}
    daemon = deployment_object(
        "dind", "binderhub", labels, [{"name": "dind", "image": "docker:27-dind"}]
    )
    daemon["spec"].pop("replicas")
    cluster.create(types.DAEMONSETS, daemon)
    first = wait_for(lambda: cluster.running_pods("binderhub"))[0]["metadata"]
    cluster.apps.patch_namespaced_daemon_set(
        "dind",
        "binderhub",
        {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}
                }
            }
        },
    )

    def replaced() -> list:
        pods = cluster.running_pods("binderhub")
        return [p for p in pods if p["metadata"]["name"] != first["name"]]

    second = wait_for(replaced, what="the new daemon pod")[0]["metadata"]
    assert (
        second["labels"]["controller-revision-hash"] != first["labels"]["controller-revision-hash"]
    )
    ds = wait_for(
        lambda: (
            (
                d := cluster.apps.read_namespaced_daemon_set("dind", "binderhub")
            ).status.updated_number_scheduled
            == 1
            and d
        )
    )
    assert ds.status.observed_generation == ds.metadata.generation == 2
