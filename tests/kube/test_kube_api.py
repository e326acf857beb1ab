"""The API server through the real kubernetes client: discovery, verbs, selectors,
pagination, errors, tables, events."""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from binderctl.demo.kube import types
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import NODE, Cluster, pod_object, session_labels


def _raw(cluster: Cluster, path: str, accept: str = "application/json") -> tuple[int, dict, dict]:
    return cluster.raw("GET", path, accept=accept)


def test_version_has_all_nine_fields_with_and_without_slash(cluster: Cluster) -> None:
    version = client.VersionApi(cluster.api_client).get_code()
    assert version.git_version == "v1.32.4+k3s1"
    assert (version.major, version.minor) == ("1", "32")
    for path in ("/version", "/version/"):
        _, body, _ = _raw(cluster, path)
        assert set(body) == {
            "major", "minor", "gitVersion", "gitCommit", "gitTreeState",
            "buildDate", "goVersion", "compiler", "platform",
        }  # fmt: skip


def test_discovery_lists_resources_subresources_and_groups(cluster: Cluster) -> None:
    core = {r.name: r for r in cluster.core.get_api_resources().resources}
    assert core["pods"].short_names == ["po"] and core["pods"].namespaced
    assert (core["pods/eviction"].group, core["pods/eviction"].version) == ("policy", "v1")
    assert core["pods/eviction"].kind == "Eviction"
    assert "pods/log" in core and "nodes" in core and not core["nodes"].namespaced
    groups = {g.name for g in client.ApisApi(cluster.api_client).get_api_versions().groups}
    assert {
        "apps",
        "batch",
        "events.k8s.io",
        "helm.cattle.io",
        "metrics.k8s.io",
        "policy",
    } <= groups
    apps = {r.name: r for r in cluster.apps.get_api_resources().resources}
    assert apps["deployments"].categories == ["all"] and "deployments/scale" in apps


def test_aggregated_discovery_is_served_with_its_content_type(cluster: Cluster) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    _, body, headers = _raw(cluster, "/apis", accept)
    assert (
        headers["Content-Type"]
        == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    apps = next(item for item in body["items"] if item["metadata"]["name"] == "apps")
    deployments = next(
        r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments"
    )
    assert deployments["scope"] == "Namespaced" and deployments["shortNames"] == ["deploy"]
    assert {s["subresource"] for s in deployments["subresources"]} == {"scale", "status"}
    _, core, _ = _raw(cluster, "/api", accept)
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    eviction = next(s for s in pods["subresources"] if s["subresource"] == "eviction")
    assert eviction["responseKind"] == {"group": "policy", "version": "v1", "kind": "Eviction"}


def test_requests_without_a_client_certificate_are_unauthorized(cluster: Cluster) -> None:
    trust = ssl.create_default_context(cadata=cluster.server.credentials.server_ca.decode())
    response = httpx.get(f"{cluster.running.url}/api/v1/pods", verify=trust)
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"


def _names(items: list) -> list[str]:
    return sorted(i.metadata.name for i in items)


def test_list_with_label_and_field_selectors(cluster: Cluster) -> None:
    cluster.add_namespace("binderhub")
    for user in ("ada", "bob", "cy"):
        cluster.create(
            types.PODS, pod_object(f"jupyter-{user}", "binderhub", labels=session_labels(user))
        )
    cluster.create(
        types.PODS, pod_object("build-x", "binderhub", labels={"component": "binderhub-build"})
    )
    cluster.create(types.PODS, pod_object("other", labels={"tier": "a"}))
    wait_for(lambda: len(cluster.running_pods("binderhub")) == 4, what="pods running")

    def names(**kwargs: str) -> list[str]:
        return _names(cluster.core.list_pod_for_all_namespaces(**kwargs).items)

    sessions = ["jupyter-ada", "jupyter-bob", "jupyter-cy"]
    assert names(label_selector="component=singleuser-server") == sessions
    assert names(label_selector="component==singleuser-server") == sessions
    assert names(label_selector="component!=singleuser-server") == ["build-x", "other"]
    assert names(label_selector="hub.jupyter.org/username in (ada, cy)") == [
        "jupyter-ada",
        "jupyter-cy",
    ]
    assert names(label_selector="hub.jupyter.org/username notin (ada,cy)") == [
        "build-x",
        "jupyter-bob",
        "other",
    ]
    assert names(label_selector="tier") == ["other"]
    assert names(label_selector="!component") == ["other"]
    assert names(label_selector="app=jupyterhub,hub.jupyter.org/username!=bob") == [
        "jupyter-ada",
        "jupyter-cy",
    ]
    assert names(field_selector="metadata.name=jupyter-bob") == ["jupyter-bob"]
    assert names(field_selector="metadata.namespace!=binderhub") == ["other"]
    assert names(field_selector=f"spec.nodeName={NODE},status.phase=Running") == [
        "build-x",
        *sessions,
        "other",
    ]
    assert names(field_selector="status.phase=Pending") == []
    namespaced = cluster.core.list_namespaced_pod(
        "binderhub", label_selector="component=binderhub-build"
    )
    assert _names(namespaced.items) == ["build-x"]


def test_bad_selectors_are_400_with_the_real_messages(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as unsupported:
        cluster.core.list_pod_for_all_namespaces(field_selector="spec.foo=bar")
    assert unsupported.value.status == 400
    assert "field label not supported: spec.foo" in json.loads(unsupported.value.body)["message"]
    with pytest.raises(ApiException) as unknown:
        cluster.core.list_config_map_for_all_namespaces(field_selector="data.x=y")
    assert '"data.x" is not a known field selector' in json.loads(unknown.value.body)["message"]
    with pytest.raises(ApiException) as label:
        cluster.core.list_pod_for_all_namespaces(label_selector="a in (b")
    assert label.value.status == 400


def test_limit_and_continue_page_through_a_list(cluster: Cluster) -> None:
    for index in range(25):
        cluster.create(
            types.CONFIGMAPS, {"metadata": {"name": f"cm-{index:02d}", "namespace": "default"}}
        )
    seen, token, pages = [], None, 0
    while True:
        page = cluster.core.list_namespaced_config_map("default", limit=10, _continue=token)
        pages += 1
        seen += [i.metadata.name for i in page.items]
        if pages == 1:
            assert page.metadata.remaining_item_count == 15
        token = page.metadata._continue
        if not token:
            break
    assert pages == 3 and seen == [f"cm-{i:02d}" for i in range(25)]


def test_create_replace_and_the_error_codes(cluster: Cluster) -> None:
    created = cluster.core.create_namespaced_config_map(
        "default",
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"a": "1"}),
    )
    assert created.metadata.namespace == "default" and created.metadata.uid
    with pytest.raises(ApiException) as exists:
        cluster.core.create_namespaced_config_map("default", {"metadata": {"name": "settings"}})
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"
    created.data = {"a": "2"}
    replaced = cluster.core.replace_namespaced_config_map("settings", "default", created)
    assert replaced.data == {"a": "2"}
    created.data = {"a": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as stale:
        cluster.core.replace_namespaced_config_map("settings", "default", created)
    assert stale.value.status == 409 and json.loads(stale.value.body)["reason"] == "Conflict"
    with pytest.raises(ApiException) as missing:
        cluster.core.read_namespaced_config_map("nope", "default")
    body = json.loads(missing.value.body)
    assert missing.value.status == 404 and body["message"] == 'configmaps "nope" not found'
    with pytest.raises(ApiException) as no_namespace:
        cluster.core.create_namespaced_config_map("ghost", {"metadata": {"name": "x"}})
    assert json.loads(no_namespace.value.body)["message"] == 'namespaces "ghost" not found'
    status, body, _ = cluster.raw("POST", "/apis/metrics.k8s.io/v1beta1/nodes", body={})
    assert status == 405 and body["reason"] == "MethodNotAllowed"


def test_invalid_pods_are_422_with_field_causes(cluster: Cluster) -> None:
    pods = "/api/v1/namespaces/default/pods"
    status, body, _ = cluster.raw("POST", pods, body={"metadata": {"name": "empty"}, "spec": {}})
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"] == 'Pod "empty" is invalid: spec.containers: Required value'
    assert body["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}
    ]
    nameless = {"metadata": {"name": "nameless"}, "spec": {"containers": [{"image": "x"}]}}
    status, body, _ = cluster.raw("POST", pods, body=nameless)
    causes = body["details"]["causes"]
    assert (
        status == 422
        and {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.containers[0].name",
        }
        in causes
    )


def test_pods_get_defaults_and_a_node(cluster: Cluster) -> None:
    pod = cluster.core.create_namespaced_pod("default", pod_object("web"))
    assert pod.spec.restart_policy == "Always" and pod.spec.scheduler_name == "default-scheduler"
    assert pod.status.phase == "Pending" and pod.status.qos_class == "BestEffort"
    running = wait_for(
        lambda: (
            (p := cluster.core.read_namespaced_pod("web", "default")).status.phase == "Running"
            and p
        )
    )
    assert running.spec.node_name == NODE
    scheduled = next(c for c in running.status.conditions if c.type == "PodScheduled")
    assert scheduled.status == "True"


def test_server_side_tables_have_kubectl_columns(cluster: Cluster) -> None:
    cluster.create(types.PODS, pod_object("web"))
    wait_for(lambda: cluster.running_pods("default"), what="pod running")
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    _, table, headers = _raw(cluster, "/api/v1/pods", accept)
    assert headers["Content-Type"].startswith("application/json;as=Table")
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Ready", "Status", "Restarts", "Age",
        "IP", "Node", "Nominated Node", "Readiness Gates",
    ]  # fmt: skip
    row = table["rows"][0]
    assert row["cells"][:4] == ["web", "1/1", "Running", "0"]
    assert row["cells"][6] == NODE and row["object"]["kind"] == "PartialObjectMetadata"
    _, nodes, _ = _raw(cluster, "/api/v1/nodes", accept)
    assert nodes["rows"][0]["cells"][:3] == [NODE, "Ready", "control-plane,master"]
    _, one, _ = _raw(cluster, "/api/v1/namespaces/default/pods/web", accept)
    assert one["kind"] == "Table" and len(one["rows"]) == 1


def test_core_and_events_k8s_io_are_two_views_of_one_set(cluster: Cluster) -> None:
    cluster.create(types.PODS, pod_object("web"))
    scheduled = wait_for(
        lambda: [
            e
            for e in cluster.core.list_namespaced_event("default").items
            if e.reason == "Scheduled"
        ]
    )
    # kube-scheduler records through events.k8s.io: an eventTime and an action, no counts.
    event = scheduled[0]
    assert (event.involved_object.name, event.reporting_component) == ("web", "default-scheduler")
    assert (event.action, event.count, event.first_timestamp) == ("Binding", None, None)
    assert event.event_time is not None
    _, views, _ = cluster.raw("GET", "/apis/events.k8s.io/v1/namespaces/default/events")
    view = next(e for e in views["items"] if e["reason"] == "Scheduled")
    assert view["regarding"]["name"] == "web" and view["note"].startswith("Successfully assigned")
    assert view["metadata"]["name"] == scheduled[0].metadata.name
    client.EventsV1Api(cluster.api_client).create_namespaced_event(
        "default",
        {
            "metadata": {"name": "manual"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reason": "Evicted",
            "type": "Warning",
            "note": "The node was low on resource: ephemeral-storage.",
            "action": "Evicting",
            "reportingController": "kubelet",
            "reportingInstance": NODE,
            "regarding": {"kind": "Pod", "namespace": "default", "name": "web"},
        },
    )
    core = cluster.core.read_namespaced_event("manual", "default")
    assert core.message == "The node was low on resource: ephemeral-storage."
    assert core.involved_object.name == "web" and core.reporting_component == "kubelet"


def test_binding_status_deletecollection_and_namespaces(cluster: Cluster) -> None:
    pod = pod_object("manual")
    pod["spec"]["schedulerName"] = "my-scheduler"  # the default scheduler leaves it alone
    cluster.core.create_namespaced_pod("default", pod)
    binding = {"metadata": {"name": "manual"}, "target": {"kind": "Node", "name": NODE}}
    status, body, _ = cluster.raw(
        "POST", "/api/v1/namespaces/default/pods/manual/binding", body=binding
    )
    assert (status, body["status"], body["code"]) == (201, "Success", 201)
    assert cluster.core.read_namespaced_pod("manual", "default").spec.node_name == NODE
    status, body, _ = cluster.raw(
        "POST", "/api/v1/namespaces/default/pods/manual/binding", body=binding
    )
    assert status == 409 and "is already assigned to node" in body["message"]
    # The status subresource writes status only; the main resource keeps it.
    cluster.core.patch_namespaced_pod_status("manual", "default", {"status": {"message": "hello"}})
    cluster.core.patch_namespaced_pod("manual", "default", {"status": {"message": "ignored"}})
    assert cluster.core.read_namespaced_pod("manual", "default").status.message == "hello"
    for index in range(3):
        cluster.core.create_namespaced_config_map(
            "default",
            {"metadata": {"name": f"c{index}", "labels": {"drop": str(index < 2).lower()}}},
        )
    cluster.core.delete_collection_namespaced_config_map("default", label_selector="drop=true")
    assert [c.metadata.name for c in cluster.core.list_namespaced_config_map("default").items] == [
        "c2"
    ]
    status, body, _ = cluster.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        body={"metadata": {"name": "x", "namespace": "other"}},
    )
    assert status == 400 and "does not match the namespace" in body["message"]


def test_server_side_apply_creates_then_updates(cluster: Cluster) -> None:
    path = "/api/v1/namespaces/default/configmaps/applied?fieldManager=binderctl"
    document = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
    status, body, _ = cluster.raw(
        "PATCH", path, body=document, content_type="application/apply-patch+yaml"
    )
    assert status == 201 and body["data"] == {"a": "1"}
    status, body, _ = cluster.raw(
        "PATCH",
        path,
        body=document.replace("'1'", "'2'"),
        content_type="application/apply-patch+yaml",
    )
    assert status == 200 and body["data"] == {"a": "2"}
    status, body, _ = cluster.raw(
        "PATCH", path.split("?")[0], body=document, content_type="application/apply-patch+yaml"
    )
    assert status == 400 and "fieldManager" in body["message"]
