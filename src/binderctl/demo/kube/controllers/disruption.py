"""The disruption controller: keeps each PodDisruptionBudget's status (healthy pods,
allowed disruptions) that the eviction subresource checks."""

from __future__ import annotations

import copy
import math
import time

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, Key, key_of
from binderctl.demo.kube.events import parse_time
from binderctl.demo.kube.labels import selector_from_spec
from binderctl.demo.kube.podutil import is_ready, is_terminal, set_meta_condition
from binderctl.demo.kube.store import Obj, WatchEvent

DELETION_TIMEOUT = 120.0  # seconds an approved eviction is expected to take


def _resolve(value: object, expected: int) -> int:
    text = str(value)
    if text.endswith("%"):
        return math.ceil(int(text[:-1]) * expected / 100)
    return int(text)


class DisruptionController(Controller[Key]):
    name = "disruption-controller"

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.PODDISRUPTIONBUDGETS and event.type != "DELETED":
            self.enqueue(key_of(event.obj))
        elif event.rt is types.PODS:
            namespace = event.obj["metadata"]["namespace"]
            for pdb in self.store.list(types.PODDISRUPTIONBUDGETS, namespace):
                self.enqueue(key_of(pdb))

    def resync(self) -> None:
        for pdb in self.store.list(types.PODDISRUPTIONBUDGETS):
            self.enqueue(key_of(pdb))

    def reconcile(self, key: Key) -> None:
        namespace, name = key
        pdb = self.store.find(types.PODDISRUPTIONBUDGETS, namespace, name)
        if pdb is None:
            return
        spec = pdb.get("spec") or {}
        try:
            selector = selector_from_spec(spec.get("selector"))
        except ValueError:
            return
        pods = {
            p["metadata"]["name"]: p
            for p in self.store.list(types.PODS, namespace)
            if selector.matches_object(p) and not is_terminal(p)
        }
        now = time.time()
        status = copy.deepcopy(pdb.get("status") or {})
        disrupted = {
            pod: when
            for pod, when in (status.get("disruptedPods") or {}).items()
            if pod in pods
            and not pods[pod]["metadata"].get("deletionTimestamp")
            and (parse_time(when) or 0) + DELETION_TIMEOUT > now
        }
        expected = len(pods)
        healthy = sum(
            1
            for pod_name, pod in pods.items()
            if is_ready(pod)
            and not pod["metadata"].get("deletionTimestamp")
            and pod_name not in disrupted
        )
        if spec.get("minAvailable") is not None:
            desired = _resolve(spec["minAvailable"], expected)
        elif spec.get("maxUnavailable") is not None:
            desired = expected - _resolve(spec["maxUnavailable"], expected)
        else:
            desired = expected
        desired = max(0, desired)
        allowed = max(0, healthy - desired)
        status.update(
            {
                "observedGeneration": pdb["metadata"].get("generation", 1),
                "disruptionsAllowed": allowed,
                "currentHealthy": healthy,
                "desiredHealthy": desired,
                "expectedPods": expected,
            }
        )
        if disrupted:
            status["disruptedPods"] = disrupted
            self.enqueue_after(DELETION_TIMEOUT, key)
        else:
            status.pop("disruptedPods", None)
        generation = pdb["metadata"].get("generation", 1)
        if allowed > 0:
            set_meta_condition(
                status, "DisruptionAllowed", "True", "SufficientPods", "", generation
            )
        else:
            set_meta_condition(
                status, "DisruptionAllowed", "False", "InsufficientPods", "", generation
            )
        if status != pdb.get("status"):

            def change(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate(types.PODDISRUPTIONBUDGETS, namespace, name, change)
