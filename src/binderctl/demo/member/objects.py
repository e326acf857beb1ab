"""Writing objects as the member's programs do through the API: with a uid, a creation
time in simulated time, and the API server's defaults."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

from binderctl.demo.kube.defaults import apply_defaults
from binderctl.demo.kube.deletion import DeleteOptions, delete_object
from binderctl.demo.kube.events import rfc3339
from binderctl.demo.kube.store import Obj, ResourceType, Store
from binderctl.demo.kube.validation import validate


class Writer:
    def __init__(self, store: Store, rng: random.Random, wall: Callable[[], float]) -> None:
        self.store = store
        self._rng = rng
        self.wall = wall

    def stamp(self) -> str:
        return rfc3339(self.wall())

    def uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def create(self, rt: ResourceType, obj: Obj) -> Obj:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", self.uid())
        meta.setdefault("creationTimestamp", self.stamp())
        apply_defaults(self.store, rt, obj)
        validate(rt, obj)
        return self.store.create(rt, obj)

    def apply(self, rt: ResourceType, obj: Obj) -> Obj:
        """Create, or update the spec, labels and annotations of the existing object (as
        ``helm upgrade`` does), keeping the status its controller wrote."""
        meta = obj["metadata"]
        current = self.store.find(rt, meta.get("namespace"), meta["name"])
        if current is None:
            return self.create(rt, obj)

        def change(existing: Obj) -> None:
            for key in ("labels", "annotations"):
                if key in meta:
                    existing["metadata"][key] = meta[key]
            for key, value in obj.items():
                if key not in ("metadata", "status", "apiVersion", "kind"):
                    existing[key] = value
            if rt.key[1] in ("deployments", "daemonsets", "jobs", "replicasets"):
                apply_defaults(self.store, rt, existing)

        return self.store.mutate(rt, meta.get("namespace"), meta["name"], change)

    def delete(
        self, rt: ResourceType, namespace: str | None, name: str, grace: int | None = 0
    ) -> None:
        """Delete as a client would (a pod on a node with ``grace`` > 0 is only marked,
        and the kubelet removes it once its containers have stopped)."""
        if self.store.find(rt, namespace, name) is not None:
            delete_object(self.store, rt, namespace, name, DeleteOptions(grace_period=grace))
