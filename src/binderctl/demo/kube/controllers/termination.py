"""The end of graceful pod deletion: a pod marked with ``deletionTimestamp`` is removed
once its grace period has passed (unless a finalizer still holds it). The simulated
kubelet may remove it earlier, when its containers stop sooner."""

from __future__ import annotations

import time

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, key_of
from binderctl.demo.kube.events import parse_time
from binderctl.demo.kube.store import Obj, WatchEvent


class PodTerminator(Controller[tuple[str, str, str]]):
    name = "pod-terminator"

    def _watch(self, pod: Obj) -> None:
        meta = pod["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        due = parse_time(meta["deletionTimestamp"]) or time.time()
        grace = meta.get("deletionGracePeriodSeconds") or 0
        # The grace period runs in simulated time from the moment of deletion.
        left = min(grace, max(0.0, due - time.time()))
        self.enqueue_after(left, (*key_of(pod), meta.get("uid", "")))

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is not types.PODS or event.type == "DELETED":
            return
        if (
            event.old is None
            or not event.old["metadata"].get("deletionTimestamp")
            or (
                event.old["metadata"].get("deletionTimestamp")
                != event.obj["metadata"].get("deletionTimestamp")
            )
        ):
            self._watch(event.obj)

    def resync(self) -> None:
        for pod in self.store.list(types.PODS):
            self._watch(pod)

    def reconcile(self, key: tuple[str, str, str]) -> None:
        namespace, name, uid = key
        pod = self.store.find(types.PODS, namespace, name)
        if pod is None or pod["metadata"].get("uid") != uid:
            return
        if not pod["metadata"].get("deletionTimestamp"):
            return
        if not pod["metadata"].get("finalizers"):
            self.store.delete(types.PODS, namespace, name)
            return

        def expire(obj: Obj) -> None:
            obj["metadata"]["deletionGracePeriodSeconds"] = 0

        self.store.mutate(types.PODS, namespace, name, expire)
