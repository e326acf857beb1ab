"""Helpers the workload controllers share: owner references, pods from templates,
availability, rolling-update arithmetic, status writes that only happen on change."""

from __future__ import annotations

import copy
import math
import time

from binderctl.demo.kube.defaults import pod_spec
from binderctl.demo.kube.events import parse_time
from binderctl.demo.kube.podutil import condition, is_ready
from binderctl.demo.kube.store import Obj, ResourceType, Store


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from_template(owner: Obj, template: Obj, *, labels: dict[str, str] | None = None) -> Obj:
    """A new pod (``generateName``) of ``owner`` from a pod template."""
    meta = copy.deepcopy(template.get("metadata") or {})
    pod_labels = {**(meta.get("labels") or {}), **(labels or {})}
    metadata: Obj = {
        "generateName": f"{owner['metadata']['name']}-",
        "namespace": owner["metadata"]["namespace"],
        "labels": pod_labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations"):
        metadata["annotations"] = meta["annotations"]
    return {"metadata": metadata, "spec": copy.deepcopy(template.get("spec") or {})}


def normalized_template(template: Obj | None, drop_labels: tuple[str, ...] = ()) -> Obj:
    """A template with API defaults applied and some labels dropped, for comparisons."""
    template = copy.deepcopy(template or {})
    meta = template.setdefault("metadata", {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in drop_labels}
    meta["labels"] = labels
    meta.pop("creationTimestamp", None)
    pod_spec(template.setdefault("spec", {}))
    return template


def available(pod: Obj, min_ready_seconds: int, now: float | None = None) -> bool:
    if not is_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = parse_time((condition(pod, "Ready") or {}).get("lastTransitionTime"))
    return since is not None and since + min_ready_seconds <= (now or time.time())


def scaled(value: object, total: int, *, round_up: bool) -> int:
    """An int-or-percent (``maxSurge: 25%``) of ``total``."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        share = int(text[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(text)


def write_status(store: Store, rt: ResourceType, obj: Obj, status: Obj) -> Obj:
    """Replace ``status`` when it differs (keeping transition times it already has)."""
    if obj.get("status") == status:
        return obj

    def change(o: Obj) -> None:
        o["status"] = status

    meta = obj["metadata"]
    return store.mutate(rt, meta.get("namespace"), meta["name"], change)


def rank_for_deletion(pods: list[Obj]) -> list[Obj]:
    """Pods to delete first: unscheduled, pending, not ready, then the newest."""

    def rank(pod: Obj) -> tuple[int, int, int, float]:
        status = pod.get("status") or {}
        created = parse_time(pod["metadata"].get("creationTimestamp")) or 0.0
        return (
            0 if not (pod.get("spec") or {}).get("nodeName") else 1,
            0 if status.get("phase") == "Pending" else 1,
            1 if is_ready(pod) else 0,
            -created,
        )

    return sorted(pods, key=rank)
