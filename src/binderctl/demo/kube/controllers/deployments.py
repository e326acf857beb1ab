"""The Deployment controller: one ReplicaSet per pod template (named by its
``pod-template-hash``), rolling updates that surge new pods before scaling old ones
down, Recreate, revision history, and the status ``kubectl rollout status`` reads.

Revisions follow kubernetes ``pkg/controller/deployment/sync.go`` (``getNewReplicaSet``)
and ``util/deployment_util.go`` (``SetNewReplicaSetAnnotations``): the new ReplicaSet's
revision is one more than the highest of the old ones; one that serves again (a
rollback) gets that revision and keeps the ones it had in ``revision-history``; the
Deployment's annotations but ``ANNOTATIONS_TO_SKIP`` are copied onto its new ReplicaSet,
which is what ``kubectl rollout undo`` copies back."""

from __future__ import annotations

import copy

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, Key, key_of
from binderctl.demo.kube.controllers.workload import (
    normalized_template,
    owner_reference,
    scaled,
    write_status,
)
from binderctl.demo.kube.deletion import DeleteOptions, delete_object
from binderctl.demo.kube.events import parse_time
from binderctl.demo.kube.naming import template_hash
from binderctl.demo.kube.podutil import controller_of, set_condition
from binderctl.demo.kube.store import Obj, WatchEvent

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
MAX_REVISION_HISTORY_CHARS = 2000  # sync.go maxRevHistoryLengthInChars


def _revision(rs: Obj) -> int:
    return _number((rs["metadata"].get("annotations") or {}).get(REVISION))


def _replicas(rs: Obj) -> int:
    return (rs.get("spec") or {}).get("replicas", 0)


def _status(rs: Obj, field: str) -> int:
    return (rs.get("status") or {}).get(field, 0)


def _created(rs: Obj) -> tuple[float, str]:
    """Oldest first, by name on a tie (``ReplicaSetsByCreationTimestamp``)."""
    meta = rs["metadata"]
    return parse_time(meta.get("creationTimestamp")) or 0.0, meta["name"]


def revision_annotations(deployment: Obj, rs: Obj, revision: int) -> dict[str, str]:
    """The annotations of ``deployment``'s new ReplicaSet ``rs`` at ``revision`` (one
    more than the old ones' highest): the Deployment's own but the skipped ones, and the
    revision, which only grows; the revisions it served before stay in the history."""
    annotations = dict(rs["metadata"].get("annotations") or {})
    for key, value in ((deployment["metadata"].get("annotations")) or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            annotations[key] = value
    old = annotations.get(REVISION)
    if _number(old) < revision:
        annotations[REVISION] = str(revision)
        if old is not None:
            history = annotations.get(REVISION_HISTORY, "")
            kept = history.split(",") if history else []
            while kept and len(",".join([*kept, old])) > MAX_REVISION_HISTORY_CHARS:
                kept.pop(0)
            annotations[REVISION_HISTORY] = ",".join([*kept, old])
    return annotations


def _number(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return 0


class DeploymentController(Controller[Key]):
    name = "deployment-controller"

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.DEPLOYMENTS:
            self.enqueue(key_of(event.obj))
        elif event.rt is types.REPLICASETS:
            ref = controller_of(event.obj)
            if ref is not None and ref.get("kind") == "Deployment":
                self.enqueue((event.obj["metadata"]["namespace"], ref["name"]))

    def resync(self) -> None:
        for deployment in self.store.list(types.DEPLOYMENTS):
            self.enqueue(key_of(deployment))

    # -- replica sets ----------------------------------------------------------------------
    def _scale(self, deployment: Obj, rs: Obj, replicas: int) -> Obj:
        before = _replicas(rs)
        if before == replicas:
            return rs
        desired = str((deployment.get("spec") or {}).get("replicas", 1))
        surge = self._surge_unavailable(deployment)[0]

        def change(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations[DESIRED] = desired
            annotations[MAX_REPLICAS] = str(int(desired) + surge)

        meta = rs["metadata"]
        updated = self.store.mutate(types.REPLICASETS, meta["namespace"], meta["name"], change)
        direction = "up" if replicas > before else "down"
        self.plane.events.emit(
            deployment,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {meta['name']} from {before} to {replicas}",
            self.source,
        )
        return updated

    def _new_replica_set(self, deployment: Obj, revision: int) -> Obj:
        spec = deployment["spec"]
        meta = deployment["metadata"]
        collisions = (deployment.get("status") or {}).get("collisionCount", 0)
        while True:
            pod_hash = template_hash(spec.get("template"), collisions)
            name = f"{meta['name']}-{pod_hash}"
            if self.store.find(types.REPLICASETS, meta["namespace"], name) is None:
                break
            collisions += 1
        template = copy.deepcopy(spec.get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        desired = spec.get("replicas", 1)
        annotations = revision_annotations(deployment, {"metadata": {}}, revision)
        annotations[DESIRED] = str(desired)
        annotations[MAX_REPLICAS] = str(desired + self._surge_unavailable(deployment)[0])
        rs = self.plane.registry.create(
            types.REPLICASETS,
            meta["namespace"],
            {
                "metadata": {
                    "name": name,
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": annotations,
                    "ownerReferences": [owner_reference(deployment)],
                },
                "spec": {
                    "replicas": 0,
                    "minReadySeconds": spec.get("minReadySeconds", 0),
                    "selector": selector,
                    "template": template,
                },
            },
        )
        if collisions:

            def count(obj: Obj) -> None:
                obj.setdefault("status", {})["collisionCount"] = collisions

            self.store.mutate(types.DEPLOYMENTS, meta["namespace"], meta["name"], count)
        return rs

    def _surge_unavailable(self, deployment: Obj) -> tuple[int, int]:
        spec = deployment.get("spec") or {}
        replicas = spec.get("replicas", 1)
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return 0, 0
        rolling = strategy.get("rollingUpdate") or {}
        surge = scaled(rolling.get("maxSurge", "25%"), replicas, round_up=True)
        unavailable = scaled(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, unavailable

    # -- reconcile -------------------------------------------------------------------------
    def reconcile(self, key: Key) -> None:
        namespace, name = key
        deployment = self.store.find(types.DEPLOYMENTS, namespace, name)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return
        spec = deployment.get("spec") or {}
        rss = sorted(self.plane.owned(deployment, types.REPLICASETS), key=_created)
        wanted = normalized_template(spec.get("template"))
        new = next(
            (
                rs
                for rs in rss
                if normalized_template((rs.get("spec") or {}).get("template"), (HASH_LABEL,))
                == wanted
            ),
            None,
        )
        revision = max((_revision(rs) for rs in rss if rs is not new), default=0) + 1
        created = False
        if new is not None:
            annotations = revision_annotations(deployment, new, revision)
            if annotations != (new["metadata"].get("annotations") or {}):

                def annotate(obj: Obj) -> None:
                    obj["metadata"]["annotations"] = annotations

                new = self.store.mutate(
                    types.REPLICASETS, namespace, new["metadata"]["name"], annotate
                )
                rss = [new if r["metadata"]["uid"] == new["metadata"]["uid"] else r for r in rss]
        if not spec.get("paused"):
            if new is None:
                new = self._new_replica_set(deployment, revision)
                rss.append(new)
                created = True
            rss = self._rollout(deployment, new, rss)
        self._cleanup(deployment, new, rss)
        self._update_status(deployment, new, rss, created)

    def _rollout(self, deployment: Obj, new: Obj, rss: list[Obj]) -> list[Obj]:
        replicas = deployment["spec"].get("replicas", 1)
        old = [rs for rs in rss if rs["metadata"]["uid"] != new["metadata"]["uid"]]
        by_uid = {rs["metadata"]["uid"]: rs for rs in rss}
        if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
            for rs in old:
                by_uid[rs["metadata"]["uid"]] = self._scale(deployment, rs, 0)
            if all(_status(rs, "replicas") == 0 for rs in old):
                by_uid[new["metadata"]["uid"]] = self._scale(deployment, new, replicas)
            return list(by_uid.values())
        surge, unavailable = self._surge_unavailable(deployment)
        # Scale up the new replica set within maxSurge.
        total = sum(_replicas(rs) for rs in rss)
        if _replicas(new) < replicas:
            room = min(replicas + surge - total, replicas - _replicas(new))
            if room > 0:
                new = self._scale(deployment, new, _replicas(new) + room)
        elif _replicas(new) > replicas:
            new = self._scale(deployment, new, replicas)
        by_uid[new["metadata"]["uid"]] = new
        # Scale down old replica sets within maxUnavailable.
        all_pods = sum(_status(rs, "replicas") for rs in by_uid.values())
        min_available = replicas - unavailable
        new_unavailable = _replicas(new) - _status(new, "availableReplicas")
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return list(by_uid.values())
        for rs in old:
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            if budget <= 0 or unhealthy <= 0 or _replicas(rs) == 0:
                continue
            cut = min(unhealthy, budget)
            budget -= cut
            by_uid[rs["metadata"]["uid"]] = rs = self._scale(deployment, rs, _replicas(rs) - cut)
        available = sum(_status(rs, "availableReplicas") for rs in by_uid.values())
        budget = min(budget, available - min_available)
        for rs in old:
            rs = by_uid[rs["metadata"]["uid"]]
            if budget <= 0:
                break
            if _replicas(rs) == 0:
                continue
            cut = min(_replicas(rs), budget)
            budget -= cut
            by_uid[rs["metadata"]["uid"]] = self._scale(deployment, rs, _replicas(rs) - cut)
        return list(by_uid.values())

    def _cleanup(self, deployment: Obj, new: Obj | None, rss: list[Obj]) -> None:
        limit = deployment["spec"].get("revisionHistoryLimit", 10)
        idle = [
            rs
            for rs in rss
            if (new is None or rs["metadata"]["uid"] != new["metadata"]["uid"])
            and _replicas(rs) == 0
            and _status(rs, "replicas") == 0
        ]
        idle.sort(key=_revision)
        for rs in idle[: max(0, len(idle) - limit)]:
            meta = rs["metadata"]
            delete_object(
                self.store, types.REPLICASETS, meta["namespace"], meta["name"], DeleteOptions()
            )

    def _update_status(
        self, deployment: Obj, new: Obj | None, rss: list[Obj], created: bool
    ) -> None:
        meta = deployment["metadata"]
        current = [
            self.store.find(types.REPLICASETS, meta["namespace"], rs["metadata"]["name"])
            for rs in rss
        ]
        live = [rs for rs in current if rs is not None]
        if new is not None:
            new = self.store.find(types.REPLICASETS, meta["namespace"], new["metadata"]["name"])
        replicas = deployment["spec"].get("replicas", 1)
        _, unavailable = self._surge_unavailable(deployment)
        available = sum(_status(rs, "availableReplicas") for rs in live)
        status = copy.deepcopy(deployment.get("status") or {})
        status["observedGeneration"] = meta.get("generation", 1)
        status["replicas"] = sum(_status(rs, "replicas") for rs in live)
        status["updatedReplicas"] = _status(new, "replicas") if new is not None else 0
        status["readyReplicas"] = sum(_status(rs, "readyReplicas") for rs in live)
        status["availableReplicas"] = available
        status["unavailableReplicas"] = max(0, sum(_replicas(rs) for rs in live) - available)
        for count in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ):
            if not status[count]:
                del status[count]
        if available >= replicas - unavailable:
            set_condition(
                status, "Available", "True", "MinimumReplicasAvailable",
                "Deployment has minimum availability.", update_time=True,
            )  # fmt: skip
        else:
            set_condition(
                status, "Available", "False", "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.", update_time=True,
            )  # fmt: skip
        if new is not None:
            name = new["metadata"]["name"]
            complete = (
                _status(new, "replicas") == replicas
                and _status(new, "availableReplicas") == replicas
                and sum(_status(rs, "replicas") for rs in live) == replicas
            )
            if created:
                reason, message = "NewReplicaSetCreated", f'Created new replica set "{name}"'
            elif complete:
                reason, message = (
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{name}" has successfully progressed.',
                )
            else:
                reason, message = "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'
            set_condition(status, "Progressing", "True", reason, message, update_time=True)
        deployment = write_status(self.store, types.DEPLOYMENTS, deployment, status)
        revision = str(_revision(new)) if new is not None else None
        if revision and (meta.get("annotations") or {}).get(REVISION) != revision:

            def annotate(obj: Obj) -> None:
                obj["metadata"].setdefault("annotations", {})[REVISION] = revision

            self.store.mutate(types.DEPLOYMENTS, meta["namespace"], meta["name"], annotate)
