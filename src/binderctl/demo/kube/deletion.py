"""Deleting objects as the API server does: preconditions, graceful deletion of pods
(``deletionTimestamp`` + grace period), finalizers, and the propagation policies
(Orphan strips owner references now; Foreground leaves the owner with the
``foregroundDeletion`` finalizer until the garbage collector has removed dependents;
Background deletes the owner and lets the collector remove dependents)."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import bad_request, conflict
from binderctl.demo.kube.events import rfc3339
from binderctl.demo.kube.podutil import is_terminal
from binderctl.demo.kube.query import flag
from binderctl.demo.kube.store import Obj, ResourceType, Store

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
_POLICIES = ("Foreground", "Background", "Orphan")


@dataclass(frozen=True)
class DeleteOptions:
    grace_period: int | None = None
    propagation: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    dry_run: bool = False

    @classmethod
    def parse(cls, body: Obj | None, query: Mapping[str, str]) -> DeleteOptions:
        body = body or {}
        if not isinstance(body, dict):
            raise bad_request("the body of a delete must be a DeleteOptions object")
        grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        propagation = body.get("propagationPolicy", query.get("propagationPolicy"))
        orphan = body.get("orphanDependents", query.get("orphanDependents"))
        if propagation is None and orphan is not None:
            orphan_flag = orphan if isinstance(orphan, bool) else flag(str(orphan))
            propagation = "Orphan" if orphan_flag else "Background"
        if propagation is not None and propagation not in _POLICIES:
            raise bad_request(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        preconditions = body.get("preconditions") or {}
        dry_run = body.get("dryRun") or ([query["dryRun"]] if "dryRun" in query else [])
        try:
            grace_value = None if grace is None else int(grace)
        except ValueError:
            raise bad_request(f"gracePeriodSeconds: invalid value {grace!r}") from None
        return cls(
            grace_value,
            propagation,
            preconditions.get("uid"),
            preconditions.get("resourceVersion"),
            "All" in dry_run,
        )


def default_propagation(rt: ResourceType) -> str:
    # batch/v1 Jobs orphan their pods unless told otherwise, for backward compatibility.
    return "Orphan" if rt is types.JOBS else "Background"


def dependents(store: Store, uid: str) -> list[tuple[ResourceType, Obj]]:
    found = []
    for rt in list(store.types.values()):
        for obj in store.list(rt):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in refs):
                found.append((rt, obj))
    return found


def orphan_dependents(store: Store, uid: str) -> None:
    for rt, obj in dependents(store, uid):

        def strip(o: Obj) -> None:
            refs = [r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                o["metadata"]["ownerReferences"] = refs
            else:
                o["metadata"].pop("ownerReferences", None)

        store.mutate(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"], strip)


def _check_preconditions(rt: ResourceType, obj: Obj, options: DeleteOptions) -> None:
    meta = obj["metadata"]
    if options.uid and options.uid != meta.get("uid"):
        raise conflict(
            rt,
            meta["name"],
            f"Precondition failed: UID in precondition: {options.uid}, UID in object meta: "
            f"{meta.get('uid')}",
        )
    if options.resource_version and options.resource_version != meta.get("resourceVersion"):
        raise conflict(
            rt,
            meta["name"],
            f"Precondition failed: ResourceVersion in precondition: {options.resource_version}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
        )


def pod_grace_period(pod: Obj, requested: int | None) -> int:
    if not pod.get("spec", {}).get("nodeName") or is_terminal(pod):
        return 0
    if requested is None:
        requested = pod.get("spec", {}).get("terminationGracePeriodSeconds", 30)
    return max(0, requested)


def delete_object(
    store: Store, rt: ResourceType, namespace: str | None, name: str, options: DeleteOptions
) -> tuple[Obj, bool]:
    """Delete or start deleting; returns (the object, whether it is gone now)."""
    obj = store.get(rt, namespace, name)
    _check_preconditions(rt, obj, options)
    meta = obj["metadata"]
    grace = pod_grace_period(obj, options.grace_period) if rt is types.PODS else 0
    now = time.time()
    if meta.get("deletionTimestamp"):
        remaining = meta.get("deletionGracePeriodSeconds") or 0
        if rt is not types.PODS or grace >= remaining:
            return obj, False
        if grace > 0 and not options.dry_run:
            return _mark(store, rt, obj, now, grace, []), False
    if options.dry_run:
        return obj, False
    propagation = options.propagation or default_propagation(rt)
    extra: list[str] = []
    if propagation == "Orphan":
        orphan_dependents(store, meta.get("uid", ""))
    elif propagation == "Foreground" and dependents(store, meta.get("uid", "")):
        extra.append(FOREGROUND)
    if grace > 0 or meta.get("finalizers") or extra or _spec_finalizers(rt, obj):
        return _mark(store, rt, obj, now, grace, extra), False
    return store.delete(rt, namespace, name), True


def _spec_finalizers(rt: ResourceType, obj: Obj) -> bool:
    """Namespaces wait for ``spec.finalizers`` (the namespace controller empties them)."""
    return rt is types.NAMESPACES and bool((obj.get("spec") or {}).get("finalizers"))


def _mark(
    store: Store, rt: ResourceType, obj: Obj, now: float, grace: int, extra: list[str]
) -> Obj:
    updated = copy.deepcopy(obj)
    meta = updated["metadata"]
    meta["deletionTimestamp"] = rfc3339(now + grace)
    meta["deletionGracePeriodSeconds"] = grace
    if extra:
        meta["finalizers"] = [*(meta.get("finalizers") or []), *extra]
    if rt is types.NAMESPACES:
        updated.setdefault("status", {})["phase"] = "Terminating"
    return store.replace(rt, updated, check_version=False)


def finish_if_released(store: Store, rt: ResourceType, obj: Obj) -> bool:
    """Remove an object being deleted once no finalizer (nor grace period) holds it."""
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or meta.get("finalizers") or _spec_finalizers(rt, obj):
        return False
    if rt is types.PODS and (meta.get("deletionGracePeriodSeconds") or 0) > 0:
        return False
    store.delete(rt, meta.get("namespace"), meta["name"])
    return True
