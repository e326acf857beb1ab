"""``/api/v1/nodes/{name}/proxy/{path}``: the API server forwards a request to the
node's kubelet (port 10250) and hands back its answer as it is (kubernetes
``pkg/registry/core/node/rest/proxy.go``). The kubelet answers GET for its read-only
paths; other methods are not emulated (405)."""

from __future__ import annotations

from aiohttp import web

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import method_not_allowed
from binderctl.demo.kube.sources import KubeletSource
from binderctl.demo.kube.store import Store, StoreError, not_found

KUBELET_PORT = 10250


def node_proxy(
    request: web.Request, store: Store, kubelets: KubeletSource | None, node: str, path: str
) -> web.Response:
    name = node.split(":", 1)[0]  # nodes/{name}:{port}/proxy names the kubelet's port
    obj = store.find(types.NODES, None, name)
    if obj is None:
        raise not_found(types.NODES, name)
    if request.method != "GET":
        raise method_not_allowed()
    answer = None if kubelets is None else kubelets.get(name, path)
    if answer is None:
        addresses = (obj.get("status") or {}).get("addresses") or []
        address = next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), name)
        raise StoreError(
            503,
            "ServiceUnavailable",
            f"error trying to reach service: dial tcp {address}:{KUBELET_PORT}: connect: "
            "connection refused",
        )
    status, content_type, body = answer
    return web.Response(status=status, body=body, headers={"Content-Type": content_type})
