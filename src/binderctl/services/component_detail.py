"""One core component in full, read when its details are shown (the live model keeps
only what its rows need): the workload's conditions, its pods with their phase,
readiness, restarts and last termination, a Deployment's revisions (its ReplicaSets),
and the events of all of these, Normal ones too."""

from __future__ import annotations

from binderctl.models import ComponentDetail, ComponentName, Revision, WarningEvent
from binderctl.services import component_rollout, mapping
from binderctl.services.kube import DAEMONSETS, EVENTS, Kube, Obj

EVENTS_SHOWN = 30
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _revisions(kube: Kube, deployment: Obj) -> tuple[list[Obj], tuple[Revision, ...]]:
    owned = [
        rs
        for rs in component_rollout.replica_sets_of(kube, deployment)
        if component_rollout.controlled_by(rs, deployment)
    ]
    revisions = [
        Revision(
            mapping.revision_of(rs),
            mapping.template_image(rs),
            (rs.get("status") or {}).get("replicas", 0),
            (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE, ""),
        )
        for rs in owned
    ]
    return owned, tuple(sorted(revisions, key=lambda r: r.number, reverse=True))


def _events(kube: Kube, namespace: str, objects: list[tuple[str, str]]) -> list[WarningEvent]:
    """The events of each (kind, name): one list per object, by field selector."""
    found = []
    for kind, name in objects:
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        found += [
            mapping.event_from(e) for e in kube.list(EVENTS, namespace, fieldSelector=selector)
        ]
    found.sort(key=lambda e: e.time, reverse=True)
    return found[:EVENTS_SHOWN]


def component_detail(kube: Kube, name: ComponentName) -> ComponentDetail:
    workload = component_rollout.find_workload(kube, name)
    obj = workload.obj
    spec = obj.get("spec") or {}
    strategy = (spec.get("strategy") or spec.get("updateStrategy") or {}).get("type", "")
    pods = component_rollout.pods_of(kube, workload)
    objects = [(obj.get("kind") or "Deployment", workload.name)]
    revisions: tuple[Revision, ...] = ()
    if workload.resource is not DAEMONSETS:
        owned, revisions = _revisions(kube, obj)
        objects += [("ReplicaSet", rs["metadata"]["name"]) for rs in owned]
    objects += [("Pod", p["metadata"]["name"]) for p in pods]
    details = sorted((mapping.pod_detail(p) for p in pods), key=lambda d: d.created, reverse=True)
    return ComponentDetail(
        name=name,
        workload=workload.label,
        namespace=workload.namespace,
        strategy=strategy,
        conditions=mapping.conditions_of(obj),
        pods=tuple(details),
        revisions=revisions,
        events=tuple(_events(kube, workload.namespace, objects)),
    )
