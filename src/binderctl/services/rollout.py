"""Waiting for the charts to install and every deployment and daemonset to roll out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.services import charts
from binderctl.services.kube import DAEMONSETS, DEPLOYMENTS, HELMCHARTS, JOBS, PODS, Kube, Obj


@dataclass(frozen=True)
class Readiness:
    ready: list[str]
    pending: dict[str, str]  # what -> why not ready

    @property
    def done(self) -> bool:
        return not self.pending


def _install_jobs(kube: Kube, member: MemberConfig) -> dict[str, str]:
    present = {c["metadata"]["name"]: c for c in kube.list(HELMCHARTS, charts.CHART_NAMESPACE)}
    jobs = {j["metadata"]["name"]: j for j in kube.list(JOBS, charts.CHART_NAMESPACE)}
    pending: dict[str, str] = {}
    for chart in charts.helm_charts(member):
        name = chart["metadata"]["name"]
        what = f"chart {name}"
        current = present.get(name)
        if current is None:
            pending[what] = "HelmChart object missing"
            continue
        job_name = (current.get("status") or {}).get("jobName")
        job = jobs.get(job_name or "")
        if job is None:
            pending[what] = "helm-controller has not started its install job yet"
            continue
        status = job.get("status") or {}
        if not status.get("succeeded"):
            failed = status.get("failed") or 0
            pending[what] = f"install job {job_name} " + (
                f"failed {failed} time(s)" if failed else "still running"
            )
    return pending


def _waiting_reasons(pods: list[Obj]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason and reason != "ContainerCreating":
                reasons[pod["metadata"]["name"]] = reason
    return reasons


def _deployment_ready(dep: Obj) -> tuple[bool, str]:
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    want = spec.get("replicas", 1)
    current = status.get("observedGeneration", 0) >= dep["metadata"].get("generation", 0)
    ready = status.get("readyReplicas", 0)
    ok = current and status.get("updatedReplicas", 0) >= want and ready >= want
    return ok, f"{ready}/{want} ready"


def _daemonset_ready(ds: Obj) -> tuple[bool, str]:
    status = ds.get("status") or {}
    want = status.get("desiredNumberScheduled", 0)
    ready = status.get("numberReady", 0)
    ok = bool(want) and ready >= want and status.get("updatedNumberScheduled", 0) >= want
    return ok, f"{ready}/{want} ready"


def readiness(kube: Kube, member: MemberConfig) -> Readiness:
    pending = _install_jobs(kube, member)
    ready: list[str] = []
    if pending:
        return Readiness(ready, pending)
    for namespace in charts.target_namespaces(member):
        waiting: dict[str, str] = {}
        for kind, resource, check in (
            ("deployment", DEPLOYMENTS, _deployment_ready),
            ("daemonset", DAEMONSETS, _daemonset_ready),
        ):
            for obj in kube.list(resource, namespace):
                ok, why = check(obj)
                what = f"{kind} {namespace}/{obj['metadata']['name']}"
                if ok:
                    ready.append(what)
                else:
                    waiting[what] = why
        if waiting:
            problems = _waiting_reasons(kube.list(PODS, namespace))
            for what, why in waiting.items():
                name = what.rsplit("/", 1)[-1]
                found = sorted({r for pod, r in problems.items() if pod.startswith(f"{name}-")})
                pending[what] = why + (f" ({', '.join(found)})" if found else "")
    return Readiness(ready, pending)


def wait_for_rollout(
    kube: Kube,
    member: MemberConfig,
    timeout: float,
    progress: Callable[[str], None],
    interval: float = 1.0,
) -> Readiness:
    deadline = time.monotonic() + timeout
    while True:
        state = readiness(kube, member)
        if state.done:
            return state
        progress(f"{len(state.ready)} ready; waiting for {', '.join(sorted(state.pending))}")
        if time.monotonic() >= deadline:
            details = "; ".join(f"{what}: {why}" for what, why in sorted(state.pending.items()))
            raise BinderctlError(
                f"not ready after {int(timeout)}s: {details}",
                hint="check `binderctl events` and `binderctl logs` for what is named here",
            )
        time.sleep(interval)
