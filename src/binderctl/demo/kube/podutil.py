"""Small facts about pods and owned objects that the API server and controllers share."""

from __future__ import annotations

from binderctl.demo.kube.store import Obj, now_rfc3339


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_active(pod: Obj) -> bool:
    """Not finished and not being deleted (``controller.IsPodActive``)."""
    return not is_terminal(pod) and not pod["metadata"].get("deletionTimestamp")


def condition(obj: Obj, kind: str) -> Obj | None:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind:
            return entry
    return None


def is_ready(pod: Obj) -> bool:
    ready = condition(pod, "Ready")
    return ready is not None and ready.get("status") == "True"


def controller_of(obj: Obj) -> Obj | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def set_condition(
    status: Obj,
    kind: str,
    value: str,
    reason: str = "",
    message: str = "",
    *,
    probe_time: bool = False,
    update_time: bool = False,
) -> None:
    """Set a condition, keeping ``lastTransitionTime`` when its status does not change."""
    conditions = status.setdefault("conditions", [])
    now = now_rfc3339()
    entry: Obj = {"type": kind, "status": value}
    if probe_time:
        entry["lastProbeTime"] = None
    if update_time:
        entry["lastUpdateTime"] = now
    entry["lastTransitionTime"] = now
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    for index, existing in enumerate(conditions):
        if existing.get("type") == kind:
            if existing.get("status") == value:
                entry["lastTransitionTime"] = existing.get("lastTransitionTime", now)
                if update_time and existing.get("reason") == reason:
                    entry["lastUpdateTime"] = existing.get("lastUpdateTime", now)
            conditions[index] = entry
            return
    conditions.append(entry)


def set_meta_condition(
    status: Obj, kind: str, value: str, reason: str, message: str, generation: int
) -> None:
    """Set a ``metav1.Condition`` (PodDisruptionBudget): every field is always present."""
    conditions = status.setdefault("conditions", [])
    now = now_rfc3339()
    entry: Obj = {
        "type": kind,
        "status": value,
        "observedGeneration": generation,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
    for index, existing in enumerate(conditions):
        if existing.get("type") == kind:
            if existing.get("status") == value:
                entry["lastTransitionTime"] = existing.get("lastTransitionTime", now)
            conditions[index] = entry
            return
    conditions.append(entry)
