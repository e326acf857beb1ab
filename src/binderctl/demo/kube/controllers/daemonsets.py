"""The DaemonSet controller: one pod per eligible node (cordoned nodes included, as the
daemon pods tolerate ``unschedulable``), pinned by node affinity, rolling updates by
``controller-revision-hash``, and the status counts."""

from __future__ import annotations

import copy

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, Key, controller_keys, key_of
from binderctl.demo.kube.controllers.scheduler import affinity_matches, untolerated_taint
from binderctl.demo.kube.controllers.workload import (
    available,
    pod_from_template,
    scaled,
    write_status,
)
from binderctl.demo.kube.deletion import DeleteOptions, delete_object
from binderctl.demo.kube.naming import template_hash
from binderctl.demo.kube.podutil import is_active, is_ready
from binderctl.demo.kube.store import Obj, WatchEvent

REVISION_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
# What the DaemonSet controller adds to every daemon pod (util.AddOrUpdateDaemonPodTolerations).
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
_HOST_NETWORK_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def _tolerations(pod_spec: Obj) -> list[Obj]:
    tolerations = list(pod_spec.get("tolerations") or [])
    extra = [*DAEMON_TOLERATIONS]
    if pod_spec.get("hostNetwork"):
        extra.append(_HOST_NETWORK_TOLERATION)
    for toleration in extra:
        if not any(
            t.get("key") == toleration["key"] and t.get("effect") == toleration["effect"]
            for t in tolerations
        ):
            tolerations.append(dict(toleration))
    return tolerations


def _pinned_node(pod: Obj) -> str | None:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in affinity.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None


class DaemonSetController(Controller[Key]):
    name = "daemonset-controller"

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.DAEMONSETS:
            self.enqueue(key_of(event.obj))
        elif event.rt is types.NODES:
            self.resync()
        elif event.rt is types.PODS:
            for key in controller_keys(event, "DaemonSet"):
                self.enqueue(key)

    def resync(self) -> None:
        for ds in self.store.list(types.DAEMONSETS):
            self.enqueue(key_of(ds))

    def _eligible(self, ds: Obj) -> list[str]:
        pod_spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        tolerations = _tolerations(pod_spec)
        return sorted(
            node["metadata"]["name"]
            for node in self.store.list(types.NODES)
            if affinity_matches(pod_spec, node) and untolerated_taint(tolerations, node) is None
        )

    def _new_pod(self, ds: Obj, node: str, revision: str) -> Obj:
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        pod = pod_from_template(
            ds,
            template,
            labels={
                REVISION_LABEL: revision,
                GENERATION_LABEL: str(ds["metadata"].get("generation", 1)),
            },
        )
        spec = pod["spec"]
        spec["tolerations"] = _tolerations(spec)
        spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})[
            "requiredDuringSchedulingIgnoredDuringExecution"
        ] = {
            "nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
            ]
        }
        return self.plane.registry.create(types.PODS, ds["metadata"]["namespace"], pod)

    def reconcile(self, key: Key) -> None:
        namespace, name = key
        ds = self.store.find(types.DAEMONSETS, namespace, name)
        if ds is None:
            return
        spec = ds.get("spec") or {}
        revision = template_hash(spec.get("template"))
        eligible = self._eligible(ds)
        pods = [p for p in self.plane.owned(ds, types.PODS) if is_active(p)]
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            by_node.setdefault(_pinned_node(pod) or "", []).append(pod)
        events = self.plane.events
        if not ds["metadata"].get("deletionTimestamp"):
            for node in eligible:
                if not by_node.get(node):
                    pod = self._new_pod(ds, node, revision)
                    by_node[node] = [pod]
                    created = f"Created pod: {pod['metadata']['name']}"
                    events.emit(ds, "Normal", "SuccessfulCreate", created, self.source)
            for node, node_pods in list(by_node.items()):
                if node not in eligible:
                    for pod in node_pods:
                        self._delete(ds, pod)
                    del by_node[node]
            self._roll(ds, by_node, revision, len(eligible))
        self._status(ds, by_node, eligible, revision)

    def _delete(self, ds: Obj, pod: Obj) -> None:
        meta = pod["metadata"]
        delete_object(self.store, types.PODS, meta["namespace"], meta["name"], DeleteOptions())
        self.plane.events.emit(
            ds, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}", self.source
        )

    def _roll(self, ds: Obj, by_node: dict[str, list[Obj]], revision: str, desired: int) -> None:
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type") == "OnDelete":
            return
        rolling = strategy.get("rollingUpdate") or {}
        budget = max(1, scaled(rolling.get("maxUnavailable", 1), desired, round_up=True))
        min_ready = (ds.get("spec") or {}).get("minReadySeconds", 0)
        unavailable = sum(
            1 for pods in by_node.values() if not any(available(p, min_ready) for p in pods)
        )
        outdated = [
            pod
            for pods in by_node.values()
            for pod in pods
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision
        ]
        # Outdated pods that are not available go first; they cost no availability.
        for pod in sorted(outdated, key=lambda p: available(p, min_ready)):
            if available(pod, min_ready):
                if unavailable >= budget:
                    break
                unavailable += 1
            self._delete(ds, pod)

    def _status(
        self, ds: Obj, by_node: dict[str, list[Obj]], eligible: list[str], revision: str
    ) -> None:
        min_ready = (ds.get("spec") or {}).get("minReadySeconds", 0)
        scheduled = [node for node in eligible if by_node.get(node)]
        ready = [node for node in scheduled if any(is_ready(p) for p in by_node[node])]
        ready_available = [
            node for node in scheduled if any(available(p, min_ready) for p in by_node[node])
        ]
        updated = [
            node
            for node in scheduled
            if any(
                (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision
                for p in by_node[node]
            )
        ]
        status = copy.deepcopy(ds.get("status") or {})
        status.update(
            {
                "currentNumberScheduled": len(scheduled),
                "desiredNumberScheduled": len(eligible),
                "numberMisscheduled": sum(1 for node in by_node if node not in eligible),
                "numberReady": len(ready),
                "observedGeneration": ds["metadata"].get("generation", 1),
                "updatedNumberScheduled": len(updated),
                "numberAvailable": len(ready_available),
                "numberUnavailable": len(eligible) - len(ready_available),
            }
        )
        for count in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if not status[count]:
                del status[count]
        write_status(self.store, types.DAEMONSETS, ds, status)
