"""The namespace controller: a namespace being deleted loses everything in it, then
its ``kubernetes`` finalizer, and goes."""

from __future__ import annotations

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller
from binderctl.demo.kube.deletion import DeleteOptions, delete_object, finish_if_released
from binderctl.demo.kube.podutil import set_condition
from binderctl.demo.kube.store import Obj, WatchEvent


class NamespaceController(Controller[str]):
    name = "namespace-controller"

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.NAMESPACES:
            if event.obj["metadata"].get("deletionTimestamp") and event.type != "DELETED":
                self.enqueue(event.obj["metadata"]["name"])
        elif event.type == "DELETED" and event.rt.namespaced:
            namespace = event.obj["metadata"].get("namespace", "")
            ns = self.store.find(types.NAMESPACES, None, namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self.enqueue(namespace)

    def resync(self) -> None:
        for ns in self.store.list(types.NAMESPACES):
            if ns["metadata"].get("deletionTimestamp"):
                self.enqueue(ns["metadata"]["name"])

    def reconcile(self, key: str) -> None:
        name = key
        ns = self.store.find(types.NAMESPACES, None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        for rt in list(self.store.types.values()):
            if not rt.namespaced:
                continue
            for obj in self.store.list(rt, name):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    delete_object(self.store, rt, name, obj["metadata"]["name"], DeleteOptions())
        if remaining:
            self._condition(ns, "NamespaceContentRemaining", "True", "SomeResourcesRemain")
            return

        def release(obj: Obj) -> None:
            obj.setdefault("spec", {})["finalizers"] = []

        finish_if_released(
            self.store, types.NAMESPACES, self.store.mutate(types.NAMESPACES, None, name, release)
        )

    def _condition(self, ns: Obj, kind: str, value: str, reason: str) -> None:
        current = next(
            (c for c in (ns.get("status") or {}).get("conditions") or [] if c.get("type") == kind),
            None,
        )
        if current is not None and current.get("status") == value:
            return

        def mark(obj: Obj) -> None:
            set_condition(
                obj.setdefault("status", {}), kind, value, reason, "Some resources remain"
            )

        self.store.mutate(types.NAMESPACES, None, ns["metadata"]["name"], mark)
