"""Waiting for the charts to install and every deployment and daemonset to roll out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.services import charts


@dataclass(frozen=True)
class Readiness:
    ready: list[str]
    pending: dict[str, str]  # what -> why not ready

    @property
    def done(self) -> bool:
        return not self.pending


def _install_jobs(api_client: Any, member: MemberConfig) -> dict[str, str]:
    from kubernetes.client import BatchV1Api, CustomObjectsApi
    from kubernetes.client.exceptions import ApiException

    custom = CustomObjectsApi(api_client)
    batch = BatchV1Api(api_client)
    pending: dict[str, str] = {}
    for chart in charts.helm_charts(member):
        name = chart["metadata"]["name"]
        what = f"chart {name}"
        try:
            current = custom.get_namespaced_custom_object(
                charts.GROUP, charts.VERSION, charts.CHART_NAMESPACE, charts.PLURAL, name
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            pending[what] = "HelmChart object missing"
            continue
        job_name = (current.get("status") or {}).get("jobName")
        if not job_name:
            pending[what] = "helm-controller has not started its install job yet"
            continue
        try:
            job = batch.read_namespaced_job(job_name, charts.CHART_NAMESPACE)
        except ApiException as exc:
            if exc.status != 404:
                raise
            pending[what] = f"install job {job_name} not found"
            continue
        if not (job.status and job.status.succeeded):
            failed = job.status.failed if job.status else 0
            pending[what] = f"install job {job_name} " + (
                f"failed {failed} time(s)" if failed else "still running"
            )
    return pending


def _pod_problems(api_client: Any, namespace: str) -> dict[str, str]:
    from kubernetes.client import CoreV1Api

    problems: dict[str, str] = {}
    for pod in CoreV1Api(api_client).list_namespaced_pod(namespace).items:
        for status in (pod.status and pod.status.container_statuses) or []:
            waiting = status.state and status.state.waiting
            if waiting and waiting.reason and waiting.reason != "ContainerCreating":
                problems[pod.metadata.name] = waiting.reason
    return problems


def _workloads(api_client: Any, namespace: str) -> tuple[list[str], dict[str, str]]:
    from kubernetes.client import AppsV1Api

    apps = AppsV1Api(api_client)
    ready: list[str] = []
    pending: dict[str, str] = {}
    for dep in apps.list_namespaced_deployment(namespace).items:
        what = f"deployment {namespace}/{dep.metadata.name}"
        want = dep.spec.replicas if dep.spec.replicas is not None else 1
        status = dep.status
        current = (status.observed_generation or 0) >= (dep.metadata.generation or 0)
        if (
            current
            and (status.updated_replicas or 0) >= want
            and (status.ready_replicas or 0) >= want
        ):
            ready.append(what)
        else:
            pending[what] = f"{status.ready_replicas or 0}/{want} ready"
    for ds in apps.list_namespaced_daemon_set(namespace).items:
        what = f"daemonset {namespace}/{ds.metadata.name}"
        status = ds.status
        want = status.desired_number_scheduled or 0
        if (
            want
            and (status.number_ready or 0) >= want
            and (status.updated_number_scheduled or 0) >= want
        ):
            ready.append(what)
        else:
            pending[what] = f"{status.number_ready or 0}/{want} ready"
    return ready, pending


def readiness(api_client: Any, member: MemberConfig) -> Readiness:
    pending = _install_jobs(api_client, member)
    ready: list[str] = []
    if pending:
        return Readiness(ready, pending)
    for namespace in charts.target_namespaces(member):
        ok, waiting = _workloads(api_client, namespace)
        ready.extend(ok)
        if waiting:
            problems = _pod_problems(api_client, namespace)
            for what, why in waiting.items():
                name = what.rsplit("/", 1)[-1]
                reasons = sorted({r for pod, r in problems.items() if pod.startswith(name)})
                pending[what] = why + (f" ({', '.join(reasons)})" if reasons else "")
    return Readiness(ready, pending)


def wait_for_rollout(
    api_client: Any,
    member: MemberConfig,
    timeout: float,
    progress: Callable[[str], None],
    interval: float = 1.0,
) -> Readiness:
    deadline = time.monotonic() + timeout
    while True:
        state = readiness(api_client, member)
        if state.done:
            return state
        progress(f"{len(state.ready)} ready; waiting for {', '.join(sorted(state.pending))}")
        if time.monotonic() >= deadline:
            details = "; ".join(f"{what}: {why}" for what, why in sorted(state.pending.items()))
            raise BinderctlError(
                f"not ready after {int(timeout)}s: {details}",
                hint="check `binderctl events` and `binderctl logs` for the pods named here",
            )
        time.sleep(interval)
