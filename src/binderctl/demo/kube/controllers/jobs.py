"""The Job controller: runs ``parallelism`` pods until ``completions`` succeed, or fails
the Job past ``backoffLimit``; then ``ttlSecondsAfterFinished`` removes it.

Finished pods are counted once, into ``status.succeeded``/``failed``, which only grow
(job tracking with finalizers, kubernetes ``pkg/controller/job/job_controller.go``
``cleanUncountedPodsWithoutFinalizers``): a Job keeps its counts after its pods are
gone."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, Key, controller_keys, key_of
from binderctl.demo.kube.controllers.workload import pod_from_template, write_status
from binderctl.demo.kube.deletion import DeleteOptions, delete_object
from binderctl.demo.kube.podutil import condition, is_active, is_ready, set_condition
from binderctl.demo.kube.store import Obj, WatchEvent, now_rfc3339

if TYPE_CHECKING:
    from binderctl.demo.kube.controllers.plane import ControlPlane


def _finished(job: Obj) -> bool:
    return any(
        (condition(job, kind) or {}).get("status") == "True" for kind in ("Complete", "Failed")
    )


class JobController(Controller[Key]):
    name = "job-controller"

    def __init__(self, plane: ControlPlane) -> None:
        super().__init__(plane)
        self._expiring: set[str] = set()
        self._counted: dict[str, set[str]] = {}  # job uid -> finished pods counted

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.JOBS:
            self.enqueue(key_of(event.obj))
        elif event.rt is types.PODS:
            for key in controller_keys(event, "Job"):
                self.enqueue(key)

    def resync(self) -> None:
        for job in self.store.list(types.JOBS):
            self.enqueue(key_of(job))

    def reconcile(self, key: Key) -> None:
        namespace, name = key
        job = self.store.find(types.JOBS, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        spec = job.get("spec") or {}
        pods = self.plane.owned(job, types.PODS)
        active = [p for p in pods if is_active(p)]
        status = copy.deepcopy(job.get("status") or {})
        counted = self._counted.setdefault(job["metadata"]["uid"], set())
        succeeded, failed = status.get("succeeded", 0), status.get("failed", 0)
        for pod in pods:
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed") and pod["metadata"]["uid"] not in counted:
                counted.add(pod["metadata"]["uid"])
                succeeded += phase == "Succeeded"
                failed += phase == "Failed"
        status.setdefault("startTime", now_rfc3339())
        events = self.plane.events
        completions = spec.get("completions") or 1
        finished = _finished(job)
        if not finished and failed > spec.get("backoffLimit", 6):
            message = "Job has reached the specified backoff limit"
            set_condition(
                status, "FailureTarget", "True", "BackoffLimitExceeded", message, probe_time=True
            )
            set_condition(
                status, "Failed", "True", "BackoffLimitExceeded", message, probe_time=True
            )
            events.emit(job, "Warning", "BackoffLimitExceeded", message, self.source)
            finished = True
        elif not finished and succeeded >= completions:
            message = "Reached expected number of succeeded pods"
            set_condition(
                status, "SuccessCriteriaMet", "True", "CompletionsReached", message, probe_time=True
            )
            set_condition(
                status, "Complete", "True", "CompletionsReached", message, probe_time=True
            )
            status["completionTime"] = now_rfc3339()
            events.emit(job, "Normal", "Completed", "Job completed", self.source)
            finished = True
        if finished:
            for pod in active:
                delete_object(
                    self.store, types.PODS, namespace, pod["metadata"]["name"], DeleteOptions()
                )
            active = []
            uid = job["metadata"]["uid"]
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is not None and uid not in self._expiring:
                self._expiring.add(uid)
                self.plane.later(ttl, lambda: self._expire(namespace, name, uid))
        elif not spec.get("suspend"):
            wanted = min(spec.get("parallelism", 1), completions - succeeded)
            for _ in range(max(0, wanted - len(active))):
                pod = self.plane.registry.create(
                    types.PODS, namespace, pod_from_template(job, spec.get("template") or {})
                )
                created = f"Created pod: {pod['metadata']['name']}"
                events.emit(job, "Normal", "SuccessfulCreate", created, self.source)
                active.append(pod)
        status.update(
            {
                "active": len(active),
                "ready": sum(1 for p in active if is_ready(p)),
                "succeeded": succeeded,
                "failed": failed,
                "uncountedTerminatedPods": {},
            }
        )
        for count in ("active", "succeeded", "failed"):
            if not status[count]:
                del status[count]
        write_status(self.store, types.JOBS, job, status)

    def _expire(self, namespace: str, name: str, uid: str) -> None:
        self._expiring.discard(uid)
        self._counted.pop(uid, None)
        job = self.store.find(types.JOBS, namespace, name)
        if job is not None and job["metadata"].get("uid") == uid:
            delete_object(
                self.store, types.JOBS, namespace, name, DeleteOptions(propagation="Background")
            )
