"""OpenAPI v3 (/openapi/v3) as kube-apiserver publishes it, and server-side field
validation (the fieldValidation parameter), through the real kubernetes client."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from binderctl.demo.kube import types
from binderctl.demo.kube.fieldvalidation import drop_unknown, go_print
from binderctl.demo.kube.openapi import build
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import Cluster, deployment_object, hub_deployment, pod_object

HELM = ("helm.cattle.io", "v1")


def _chart(name: str, **extra: object) -> dict:
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {"chart": "binderhub", "targetNamespace": "binderhub"},
        **extra,
    }


def _get(cluster: Cluster, path: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    request = cluster.api_client.param_serialize(
        "GET", path, header_params={"Accept": "application/json", **headers}, auth_settings=[]
    )
    response = cluster.api_client.call_api(*request).response
    return response.status, response.data, dict(response.headers)


def test_discovery_lists_every_served_group_version_with_its_hash(cluster: Cluster) -> None:
    status, body, headers = _get(cluster, "/openapi/v3")
    assert status == 200 and headers["Content-Type"] == "application/json"
    paths = json.loads(body)["paths"]
    served = {
        f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"
        for rt in cluster.server.served_types()
    }
    assert set(paths) == served
    assert {"api/v1", "apis/apps/v1", "apis/helm.cattle.io/v1"} <= served
    for path, entry in paths.items():
        status, document, doc_headers = _get(cluster, entry["serverRelativeURL"])
        digest = hashlib.sha512(document).hexdigest().upper()
        assert entry["serverRelativeURL"] == f"/openapi/v3/{path}?hash={digest}"
        assert doc_headers["Cache-Control"] == "public, immutable"
        assert doc_headers["Etag"] == f'"{digest}"'
        assert json.loads(document)["openapi"] == "3.0.0"
    tag = headers["Etag"]
    assert _get(cluster, "/openapi/v3", **{"If-None-Match": tag})[0] == 304


def test_a_stale_hash_is_redirected_to_the_current_document(cluster: Cluster) -> None:
    transport = cluster.api_client.rest_client.pool_manager  # the client's own, with its certs
    stale = transport.request(
        "GET", f"{cluster.running.url}/openapi/v3/apis/apps/v1?hash={'0' * 128}", redirect=False
    )
    current = json.loads(_get(cluster, "/openapi/v3")[1])["paths"]["apis/apps/v1"]
    assert stale.status == 301
    assert stale.headers["Location"] == current["serverRelativeURL"]
    assert "Cache-Control" not in stale.headers


def test_patch_operations_declare_field_validation_for_every_kind(cluster: Cluster) -> None:
    """What kubectl's query-param verifier looks for before it leaves validation to us:
    a PATCH operation for the kind that declares the ``fieldValidation`` query parameter,
    and the kind's schema among the components."""
    for rt in cluster.server.served_types():
        prefix = f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"
        document = json.loads(_get(cluster, f"/openapi/v3/{prefix}")[1])
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        schemas = [
            s
            for s in document["components"]["schemas"].values()
            if gvk in s.get("x-kubernetes-group-version-kind", [])
        ]
        assert len(schemas) == 1, rt
        assert {"apiVersion", "kind", "metadata"} <= set(schemas[0]["properties"])
        patches = [
            item["patch"]
            for item in document["paths"].values()
            if "patch" in item and item["patch"]["x-kubernetes-group-version-kind"] == gvk
        ]
        if "patch" not in rt.verbs:
            assert not patches, rt
            continue
        assert patches, rt  # kubectl looks for one; an empty list would check nothing
        for op in patches:
            params = {(p["name"], p["in"]) for p in op["parameters"]}
            assert {("fieldValidation", "query"), ("dryRun", "query")} <= params
            assert ("fieldManager", "query") in params
            assert op["x-kubernetes-action"] == "patch"


def test_strict_rejects_unknown_fields_on_create_and_patch(cluster: Cluster) -> None:
    custom = client.CustomObjectsApi(cluster.api_client)
    with pytest.raises(ApiException) as refused:
        custom.create_namespaced_custom_object(
            *HELM,
            "kube-system",
            "helmcharts",
            _chart("binderhub", extra=1),
            field_validation="Strict",
        )
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["message"] == (
        'HelmChart in version "v1" cannot be handled as a HelmChart: strict decoding error: '
        'unknown field "extra"'
    )
    cluster.core.create_namespaced_config_map(
        "default", {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    )
    with pytest.raises(ApiException) as invalid:
        cluster.core.patch_namespaced_config_map(
            "settings", "default", {"spec": {"foo": 1}}, field_validation="Strict"
        )
    assert invalid.value.status == 422
    assert json.loads(invalid.value.body)["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[foo:1]]": strict decoding error: '
        'unknown field "spec"'
    )
    with pytest.raises(ApiException) as unsupported:
        cluster.core.patch_namespaced_config_map(
            "settings", "default", {"data": {"a": "2"}}, field_validation="Loud"
        )
    assert unsupported.value.status == 422
    assert json.loads(unsupported.value.body)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": '
        'supported values: "", "Ignore", "Strict", "Warn"'
    )
    assert cluster.core.read_namespaced_config_map("settings", "default").data == {"a": "1"}


def test_warn_is_the_default_and_ignore_is_silent(cluster: Cluster) -> None:
    custom = client.CustomObjectsApi(cluster.api_client)
    created, status, headers = custom.create_namespaced_custom_object_with_http_info(
        *HELM, "kube-system", "helmcharts", _chart("warned", extra=1)
    )
    assert status == 201 and headers["Warning"] == '299 - "unknown field \\"extra\\""'
    assert "extra" not in created and created["spec"]["chart"] == "binderhub"
    quiet, _, headers = custom.create_namespaced_custom_object_with_http_info(
        *HELM, "kube-system", "helmcharts", _chart("quiet", extra=1), field_validation="Ignore"
    )
    assert "Warning" not in headers and "extra" not in quiet


def test_the_emulators_own_objects_fit_the_schemas_it_serves(cluster: Cluster) -> None:
    """Else kubectl apply, which patches the stored object, would trip over fields it
    never wrote."""
    cluster.add_namespace("binderhub")
    cluster.create(types.DEPLOYMENTS, hub_deployment())
    dind = deployment_object("dind", "binderhub", {"name": "dind"}, [{"name": "d", "image": "d"}])
    del dind["spec"]["replicas"]
    cluster.create(types.DAEMONSETS, dind)
    job = deployment_object(
        "helm-install-binderhub", "binderhub", {}, [{"name": "h", "image": "h"}]
    )
    job["spec"] = {
        "template": {"spec": {**job["spec"]["template"]["spec"], "restartPolicy": "Never"}}
    }
    cluster.create(types.JOBS, job)
    cluster.create(types.PODS, pod_object("jupyter-ada", "binderhub"))
    cluster.create(
        types.SERVICES,
        {
            "metadata": {"name": "proxy-public", "namespace": "binderhub"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 443, "targetPort": 8443}]},
        },
    )
    cluster.create(
        types.PODDISRUPTIONBUDGETS,
        {
            "metadata": {"name": "hub", "namespace": "binderhub"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"component": "hub"}}},
        },
    )
    cluster.create(types.HELMCHARTS, _chart("binderhub"))
    wait_for(lambda: len(cluster.running_pods("binderhub")) == 3, what="pods running")
    openapi = build(tuple(cluster.server.served_types()), cluster.server.version.git_version)
    checked = set()
    for rt in cluster.store.types.values():
        schemas, view = openapi.schemas(rt), cluster.server.registry.view(rt)
        for obj in cluster.do(lambda view=view: list(cluster.store.list(view.backing, None))):
            served = view.out(copy.deepcopy(obj))
            assert drop_unknown(schemas, schemas.of(rt), served) == [], rt
            checked.add(rt)
    assert checked >= {
        types.PODS, types.DEPLOYMENTS, types.REPLICASETS, types.DAEMONSETS, types.JOBS,
        types.EVENTS, types.EVENTS_V1, types.NODES, types.NAMESPACES, types.SERVICES,
        types.PODDISRUPTIONBUDGETS, types.HELMCHARTS,
    }  # fmt: skip


def test_go_print_shows_a_patch_as_go_prints_a_map() -> None:
    patch = {"spec": {"replicas": 2, "ratio": 1.5, "big": 1e6}, "metadata": {"labels": None}}
    assert (
        go_print(patch)
        == "map[metadata:map[labels:<nil>] spec:map[big:1e+06 ratio:1.5 replicas:2]]"
    )
    assert go_print([True, "x", [1]]) == "[true x [1]]"
