"""The garbage collector: deletes objects whose owners are all gone (Background),
empties owners held by ``foregroundDeletion`` once their dependents are gone, and
honours the ``orphan`` finalizer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from binderctl.demo.kube.controllers.base import Controller
from binderctl.demo.kube.deletion import (
    FOREGROUND,
    ORPHAN,
    DeleteOptions,
    delete_object,
    finish_if_released,
    orphan_dependents,
)
from binderctl.demo.kube.store import Obj, ResourceType, WatchEvent

if TYPE_CHECKING:
    from binderctl.demo.kube.controllers.plane import ControlPlane

Ref = tuple[tuple[str, str], str, str]  # (type key, namespace, name)


class GarbageCollector(Controller[Ref]):
    name = "garbagecollector"

    def __init__(self, plane: ControlPlane) -> None:
        super().__init__(plane)
        self._waiting: dict[str, Ref] = {}  # uid -> owner held by foreground/orphan

    def _key(self, rt: ResourceType, obj: Obj) -> Ref:
        return rt.key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

    def on_event(self, event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        uid = meta.get("uid", "")
        if event.type == "DELETED":
            self._waiting.pop(uid, None)
            # Dependents of a deleted owner, and owners waiting for this dependent.
            for rt_key, namespace, name in self.plane.owners.dependents(uid):
                self.enqueue((rt_key, namespace, name))
            for ref in meta.get("ownerReferences") or []:
                owner = self._waiting.get(ref.get("uid", ""))
                if owner is not None:
                    self.enqueue(owner)
        elif meta.get("deletionTimestamp") and {FOREGROUND, ORPHAN} & set(
            meta.get("finalizers") or []
        ):
            self._waiting[uid] = self._key(event.rt, event.obj)
            self.enqueue(self._waiting[uid])

    def resync(self) -> None:
        for rt in list(self.store.types.values()):
            for obj in self.store.list(rt):
                meta = obj["metadata"]
                if meta.get("ownerReferences") or meta.get("deletionTimestamp"):
                    self.enqueue(self._key(rt, obj))

    def _owner_exists(self, namespace: str, ref: Obj) -> bool:
        for rt in self.store.types.values():
            if rt.kind != ref.get("kind") or rt.api_version != ref.get("apiVersion"):
                continue
            owner = self.store.find(rt, namespace if rt.namespaced else None, ref.get("name", ""))
            return owner is not None and owner["metadata"].get("uid") == ref.get("uid")
        return False

    def reconcile(self, key: Ref) -> None:
        rt_key, namespace, name = key
        rt = self.store.types.get(rt_key)
        obj = self.store.find(rt, namespace or None, name) if rt is not None else None
        if rt is None or obj is None:
            return
        if obj["metadata"].get("deletionTimestamp"):
            self._finalize(rt, obj)
        refs = obj["metadata"].get("ownerReferences") or []
        if not refs or obj["metadata"].get("deletionTimestamp"):
            return
        alive = [ref for ref in refs if self._owner_exists(namespace, ref)]
        if not alive:
            delete_object(
                self.store, rt, namespace or None, name, DeleteOptions(propagation="Background")
            )
        elif len(alive) < len(refs):

            def prune(o: Obj) -> None:
                o["metadata"]["ownerReferences"] = alive

            self.store.mutate(rt, namespace or None, name, prune)

    def _finalize(self, rt: ResourceType, obj: Obj) -> None:
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        namespace = meta.get("namespace")
        uid = meta.get("uid", "")
        if ORPHAN in finalizers:
            orphan_dependents(self.store, uid)
            finalizers.remove(ORPHAN)
        elif FOREGROUND in finalizers:
            remaining = self.plane.owners.dependents(uid)
            for dep_key, dep_namespace, dep_name in remaining:
                dep_rt = self.store.types.get(dep_key)
                dependent = (
                    self.store.find(dep_rt, dep_namespace or None, dep_name) if dep_rt else None
                )
                if (
                    dep_rt is not None
                    and dependent is not None
                    and not dependent["metadata"].get("deletionTimestamp")
                ):
                    delete_object(
                        self.store,
                        dep_rt,
                        dep_namespace or None,
                        dep_name,
                        DeleteOptions(propagation="Foreground"),
                    )
            if remaining:
                return
            finalizers.remove(FOREGROUND)
        else:
            return

        def release(o: Obj) -> None:
            if finalizers:
                o["metadata"]["finalizers"] = finalizers
            else:
                o["metadata"].pop("finalizers", None)

        finish_if_released(self.store, rt, self.store.mutate(rt, namespace, meta["name"], release))
