"""Custom objects (k3s's HelmChart), metrics.k8s.io, and every kind decoded by the
client's typed models (which check the fields the real API always sends)."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from binderctl.demo.kube import types
from binderctl.demo.kube.sources import ContainerUsage
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import NODE, Cluster, hub_deployment, pod_object

HELM = ("helm.cattle.io", "v1")


def _chart(quota: int) -> dict:
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "binderhub", "namespace": "kube-system"},
        "spec": {
            "repo": "https://hub.jupyter.org/helm-chart/",
            "chart": "binderhub",
            "version": "1.0.0-0.dev.git.3506.hba24eb2a",
            "targetNamespace": "binderhub",
            "createNamespace": True,
            "valuesContent": f"config:\n  LaunchQuota:\n    total_quota: {quota}\n",
        },
    }


def test_helm_chart_create_patch_list_and_delete(cluster: Cluster) -> None:
    created = cluster.custom.create_namespaced_custom_object(
        *HELM, "kube-system", "helmcharts", _chart(300)
    )
    assert created["metadata"]["uid"] and created["spec"]["targetNamespace"] == "binderhub"
    patched = cluster.custom.patch_namespaced_custom_object(
        *HELM,
        "kube-system",
        "helmcharts",
        "binderhub",
        {"spec": {"valuesContent": "config:\n  LaunchQuota:\n    total_quota: 0\n"}},
    )
    assert (
        "total_quota: 0" in patched["spec"]["valuesContent"]
        and patched["spec"]["chart"] == "binderhub"
    )
    listed = cluster.custom.list_cluster_custom_object(*HELM, "helmcharts")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["binderhub"]
    # Custom resources take no strategic merge patch, as on a real server.
    status, body, _ = cluster.raw(
        "PATCH",
        "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/binderhub",
        body={"spec": {"chart": "x"}},
        content_type="application/strategic-merge-patch+json",
    )
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    _, table, _ = cluster.raw(
        "GET",
        "/apis/helm.cattle.io/v1/helmcharts",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    assert [c["name"] for c in table["columnDefinitions"]][:3] == ["Name", "Job", "Chart"]
    assert table["rows"][0]["cells"][2] == "binderhub"
    cluster.custom.delete_namespaced_custom_object(*HELM, "kube-system", "helmcharts", "binderhub")
    with pytest.raises(ApiException) as gone:
        cluster.custom.get_namespaced_custom_object(*HELM, "kube-system", "helmcharts", "binderhub")
    assert (
        json.loads(gone.value.body)["message"] == 'helmcharts.helm.cattle.io "binderhub" not found'
    )


def test_metrics_for_nodes_and_pods(cluster: Cluster) -> None:
    cluster.create(types.PODS, pod_object("jupyter-ada", labels={"component": "singleuser-server"}))
    cluster.create(types.PODS, pod_object("quiet"))
    wait_for(lambda: len(cluster.running_pods("default")) == 2, what="pods running")
    cluster.metrics.nodes[NODE] = (2.5, 6 * 2**30)
    cluster.metrics.pods[("default", "jupyter-ada")] = [
        ContainerUsage("notebook", 0.25, 300 * 2**20)
    ]
    nodes = cluster.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert nodes["kind"] == "NodeMetricsList"
    node = nodes["items"][0]
    assert node["metadata"]["name"] == NODE and node["usage"] == {
        "cpu": "2500000000n",
        "memory": "6291456Ki",
    }
    assert set(node) == {"kind", "apiVersion", "metadata", "timestamp", "window", "usage"}
    pods = cluster.custom.list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", "default", "pods"
    )
    assert [p["metadata"]["name"] for p in pods["items"]] == ["jupyter-ada"]  # no figures, no item
    assert pods["items"][0]["containers"] == [
        {"name": "notebook", "usage": {"cpu": "250000000n", "memory": "307200Ki"}}
    ]
    selected = cluster.custom.list_cluster_custom_object(
        "metrics.k8s.io", "v1beta1", "pods", label_selector="component=singleuser-server"
    )
    assert len(selected["items"]) == 1
    with pytest.raises(ApiException) as missing:
        cluster.custom.get_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", "default", "pods", "quiet"
        )
    assert missing.value.status == 404


def test_every_kind_decodes_into_the_typed_models(cluster: Cluster) -> None:
    cluster.add_namespace("binderhub")
    cluster.create(types.DEPLOYMENTS, hub_deployment())
    cluster.create(
        types.PODDISRUPTIONBUDGETS,
        {
            "metadata": {"name": "hub", "namespace": "binderhub"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"component": "hub"}}},
        },
    )
    cluster.create(
        types.SERVICES,
        {
            "metadata": {"name": "proxy-public", "namespace": "binderhub"},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"component": "proxy"},
                "ports": [{"name": "https", "port": 443, "targetPort": 8443}],
            },
        },
    )
    wait_for(
        lambda: (
            cluster.apps.read_namespaced_deployment("hub", "binderhub").status.ready_replicas == 1
        )
    )
    policy = client.PolicyV1Api(cluster.api_client)
    wait_for(
        lambda: (
            policy.read_namespaced_pod_disruption_budget(
                "hub", "binderhub"
            ).status.disruptions_allowed
            == 0
        )
    )
    assert cluster.core.list_pod_for_all_namespaces().items
    assert cluster.core.list_node().items[0].status.node_info.kubelet_version == "v1.32.4+k3s1"
    assert {n.metadata.name for n in cluster.core.list_namespace().items} >= {
        "default",
        "kube-system",
        "binderhub",
    }
    assert cluster.core.list_event_for_all_namespaces().items
    service = cluster.core.read_namespaced_service("proxy-public", "binderhub")
    assert (
        service.spec.cluster_ip.startswith("10.43.")
        and 30000 <= service.spec.ports[0].node_port < 32768
    )
    assert cluster.apps.list_replica_set_for_all_namespaces().items[0].status.ready_replicas == 1
    assert cluster.apps.list_deployment_for_all_namespaces().items[0].status.available_replicas == 1
    assert (
        policy.list_pod_disruption_budget_for_all_namespaces().items[0].status.current_healthy == 1
    )
    assert client.CoreV1Api(cluster.api_client).read_namespace("binderhub").status.phase == "Active"
