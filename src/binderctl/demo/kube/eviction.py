"""The ``pods/eviction`` subresource: delete a pod unless a PodDisruptionBudget forbids
it (429 TooManyRequests), as pkg/registry/core/pod/storage/eviction.go does."""

from __future__ import annotations

import copy

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import bad_request, forbidden, status_success, too_many_requests
from binderctl.demo.kube.deletion import DeleteOptions, delete_object
from binderctl.demo.kube.labels import selector_from_spec
from binderctl.demo.kube.podutil import is_ready, set_condition, set_meta_condition
from binderctl.demo.kube.store import Obj, Store, StoreError, now_rfc3339

_BLOCKED = "Cannot evict pod as it would violate the pod's disruption budget."


def _can_ignore_pdb(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(
        pod["metadata"].get("deletionTimestamp")
    )


def _budgets(store: Store, pod: Obj) -> list[Obj]:
    labels = pod["metadata"].get("labels") or {}
    found = []
    for pdb in store.list(types.PODDISRUPTIONBUDGETS, pod["metadata"]["namespace"]):
        try:
            selector = selector_from_spec((pdb.get("spec") or {}).get("selector"))
        except ValueError:
            continue
        if selector.matches(labels):
            found.append(pdb)
    return found


def _cause(message: str) -> Obj:
    return {"reason": "DisruptionBudget", "message": message}


def _check_and_decrement(store: Store, pdb: Obj, pod_name: str, dry_run: bool) -> None:
    status = pdb.get("status") or {}
    name = pdb["metadata"]["name"]
    if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 1):
        raise too_many_requests(
            _BLOCKED,
            10,
            [_cause(f"The disruption budget {name} is still being processed by the server.")],
        )
    allowed = status.get("disruptionsAllowed", 0)
    if allowed < 0:
        raise forbidden(types.PODDISRUPTIONBUDGETS, name, "pdb disruptions allowed is negative")
    if allowed == 0:
        raise too_many_requests(
            _BLOCKED,
            0,
            [
                _cause(
                    f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} "
                    f"healthy pods and has {status.get('currentHealthy', 0)} currently"
                )
            ],
        )
    if dry_run:
        return

    def decrement(obj: Obj) -> None:
        budget = obj.setdefault("status", {})
        budget["disruptionsAllowed"] = budget.get("disruptionsAllowed", 0) - 1
        budget.setdefault("disruptedPods", {})[pod_name] = now_rfc3339()
        if budget["disruptionsAllowed"] == 0:
            generation = obj["metadata"].get("generation", 1)
            set_meta_condition(
                budget, "DisruptionAllowed", "False", "InsufficientPods", "", generation
            )

    store.mutate(types.PODDISRUPTIONBUDGETS, pdb["metadata"]["namespace"], name, decrement)


def _delete(store: Store, pod: Obj, options: DeleteOptions) -> None:
    meta = pod["metadata"]
    if not options.dry_run:

        def mark(obj: Obj) -> None:
            set_condition(
                obj.setdefault("status", {}),
                "DisruptionTarget",
                "True",
                "EvictionByEvictionAPI",
                "Eviction API: evicting",
                probe_time=True,
            )

        store.mutate(types.PODS, meta["namespace"], meta["name"], mark)
    delete_object(store, types.PODS, meta["namespace"], meta["name"], options)


def evict(store: Store, namespace: str, name: str, body: Obj) -> Obj:
    """Evict pod ``namespace/name``; returns the Status to send (201 Success)."""
    if (body.get("metadata") or {}).get("name") != name:
        raise bad_request("name in URL does not match name in Eviction object")
    options = DeleteOptions.parse(body.get("deleteOptions"), {})
    pod = copy.deepcopy(store.get(types.PODS, namespace, name))
    if _can_ignore_pdb(pod):
        _delete(store, pod, options)
        return status_success(201)
    budgets = _budgets(store, pod)
    if len(budgets) > 1:
        raise StoreError(
            500,
            "",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource "
            "does not support.",
        )
    if budgets:
        pdb = budgets[0]
        status = pdb.get("status") or {}
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy")
        unhealthy_ok = not is_ready(pod) and (
            policy == "AlwaysAllow"
            or 0 < status.get("desiredHealthy", 0) <= status.get("currentHealthy", 0)
        )
        if not unhealthy_ok:
            _check_and_decrement(store, pdb, name, options.dry_run)
    _delete(store, pod, options)
    return status_success(201)
