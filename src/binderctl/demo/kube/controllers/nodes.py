"""The node lifecycle controller's taints: ``node.kubernetes.io/unschedulable`` while a
node is cordoned, ``node.kubernetes.io/not-ready`` while it is not Ready."""

from __future__ import annotations

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller
from binderctl.demo.kube.podutil import condition
from binderctl.demo.kube.store import Obj, WatchEvent, now_rfc3339

UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NOT_READY = "node.kubernetes.io/not-ready"


def wanted_taints(node: Obj) -> list[Obj]:
    taints = [
        t
        for t in (node.get("spec") or {}).get("taints") or []
        if t.get("key") not in (UNSCHEDULABLE, NOT_READY)
    ]
    if (node.get("spec") or {}).get("unschedulable"):
        taints.append(
            {"key": UNSCHEDULABLE, "effect": "NoSchedule", "timeAdded": _since(node, UNSCHEDULABLE)}
        )
    ready = condition(node, "Ready")
    if ready is None or ready.get("status") != "True":
        taints.append(
            {"key": NOT_READY, "effect": "NoSchedule", "timeAdded": _since(node, NOT_READY)}
        )
    return taints


def _since(node: Obj, key: str) -> str | None:
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("key") == key:
            return taint.get("timeAdded")
    return now_rfc3339()


class NodeTaintController(Controller[str]):
    name = "node-lifecycle-controller"

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.NODES and event.type != "DELETED":
            self.enqueue(event.obj["metadata"]["name"])

    def resync(self) -> None:
        for node in self.store.list(types.NODES):
            self.enqueue(node["metadata"]["name"])

    def reconcile(self, key: str) -> None:
        node = self.store.find(types.NODES, None, key)
        if node is None:
            return
        taints = wanted_taints(node)
        if taints == ((node.get("spec") or {}).get("taints") or []):
            return

        def apply(obj: Obj) -> None:
            spec = obj.setdefault("spec", {})
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)

        self.store.mutate(types.NODES, None, key, apply)
