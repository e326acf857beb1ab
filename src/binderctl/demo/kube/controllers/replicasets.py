"""The ReplicaSet controller: keeps ``spec.replicas`` active pods and the status counts."""

from __future__ import annotations

import copy

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, Key, controller_keys, key_of
from binderctl.demo.kube.controllers.workload import (
    available,
    pod_from_template,
    rank_for_deletion,
    write_status,
)
from binderctl.demo.kube.deletion import DeleteOptions, delete_object
from binderctl.demo.kube.labels import selector_from_spec
from binderctl.demo.kube.podutil import is_active, is_ready
from binderctl.demo.kube.store import Obj, WatchEvent

BURST = 500  # pods created or deleted per reconcile, like the controller's burst


class ReplicaSetController(Controller[Key]):
    name = "replicaset-controller"

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.REPLICASETS:
            self.enqueue(key_of(event.obj))
        elif event.rt is types.PODS:
            for key in controller_keys(event, "ReplicaSet"):
                self.enqueue(key)

    def resync(self) -> None:
        for rs in self.store.list(types.REPLICASETS):
            self.enqueue(key_of(rs))

    def reconcile(self, key: Key) -> None:
        namespace, name = key
        rs = self.store.find(types.REPLICASETS, namespace, name)
        if rs is None:
            return
        spec = rs.get("spec") or {}
        pods = self.plane.owned(rs, types.PODS)
        active = [p for p in pods if is_active(p)]
        events = self.plane.events
        if not rs["metadata"].get("deletionTimestamp"):
            wanted = spec.get("replicas", 1)
            if len(active) < wanted:
                for _ in range(min(BURST, wanted - len(active))):
                    pod = self.plane.registry.create(
                        types.PODS, namespace, pod_from_template(rs, spec.get("template") or {})
                    )
                    created = f"Created pod: {pod['metadata']['name']}"
                    events.emit(rs, "Normal", "SuccessfulCreate", created, self.source)
                    active.append(pod)
            elif len(active) > wanted:
                for pod in rank_for_deletion(active)[: min(BURST, len(active) - wanted)]:
                    delete_object(
                        self.store, types.PODS, namespace, pod["metadata"]["name"], DeleteOptions()
                    )
                    deleted = f"Deleted pod: {pod['metadata']['name']}"
                    events.emit(rs, "Normal", "SuccessfulDelete", deleted, self.source)
                    active.remove(pod)
        self._status(rs, active)

    def _status(self, rs: Obj, active: list[Obj]) -> None:
        spec = rs.get("spec") or {}
        min_ready = spec.get("minReadySeconds", 0)
        try:
            selector = selector_from_spec(spec.get("selector"))
        except ValueError:
            selector = None
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        status = copy.deepcopy(rs.get("status") or {})
        status.update(
            {
                "replicas": len(active),
                "fullyLabeledReplicas": sum(
                    1
                    for p in active
                    if all(
                        (p["metadata"].get("labels") or {}).get(k) == v
                        for k, v in template_labels.items()
                    )
                    and (selector is None or selector.matches_object(p))
                ),
                "readyReplicas": sum(1 for p in active if is_ready(p)),
                "availableReplicas": sum(1 for p in active if available(p, min_ready)),
                "observedGeneration": rs["metadata"].get("generation", 1),
            }
        )
        for count in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
            if not status[count]:
                del status[count]
        write_status(self.store, types.REPLICASETS, rs, status)
        if min_ready and any(is_ready(p) and not available(p, min_ready) for p in active):
            self.enqueue_after(min_ready, key_of(rs))
