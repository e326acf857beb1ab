"""A launch quota on its way from the HelmChart to the running BinderHub.

BinderHub reads ``LaunchQuota.total_quota`` from its config file when the process starts
(binderhub ``binderhub/app.py``; ``/health``'s "Pod quota" check reports that value,
``binderhub/health.py``). A changed HelmChart reaches it in three steps, and only then
does the federation redirector see it:

1. k3s's helm-controller runs the Job ``helm-install-binderhub`` (klipper-helm runs
   ``helm upgrade``). Its pod has no toleration for ``node.kubernetes.io/unschedulable``
   (k3s-io/helm-controller ``pkg/controllers/chart/chart.go``): on a cordoned single node
   it stays Pending.
2. The chart's ``checksum/config`` annotation changes, so the ``binder`` Deployment rolls:
   one new pod first (maxSurge 1, maxUnavailable 0), Ready at a readiness probe
   (every 5 s), then the old pod goes (binderhub ``helm-chart/binderhub``).
3. The new pod's ``/health`` reports the new quota.

``wait_for_quota`` polls ``/health`` until it reports the quota, the install Job of the
change has succeeded and the rollout is complete, and meanwhile says which step the
change is at; on timeout it names what is stuck.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.formatting import age, inert
from binderctl.models import Health
from binderctl.services import charts, mapping
from binderctl.services.binderhub import fetch_health
from binderctl.services.kube import (
    DEPLOYMENTS,
    HELMCHARTS,
    JOBS,
    PODS,
    Kube,
    Obj,
    get_or_none,
)

QUOTA_POLL_SECONDS = 1.0
DEFAULT_TIMEOUT = 600.0  # seconds: a helm upgrade over the network and one binder pod start
BINDER_DEPLOYMENT = "binder"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Before:
    """The install Job as it was before the change (a Job with another uid is new)."""

    job_uid: str | None


def reported_quota(health: Health) -> tuple[bool, int | None]:
    """(found, quota) of the "Pod quota" check of ``/health``."""
    for check in health.checks:
        if check.service == "Pod quota" and "quota" in check.detail:
            quota = check.detail["quota"]
            if quota is None or (isinstance(quota, int) and not isinstance(quota, bool)):
                return True, quota
    return False, None


def shown(quota: int | None) -> str:
    return "no limit" if quota is None else str(quota)


def _job_name(kube: Kube) -> str:
    chart = get_or_none(kube, HELMCHARTS, charts.RELEASE, charts.CHART_NAMESPACE) or {}
    return (chart.get("status") or {}).get("jobName") or f"helm-install-{charts.RELEASE}"


def before_change(kube: Kube) -> Before:
    job = get_or_none(kube, JOBS, _job_name(kube), charts.CHART_NAMESPACE)
    return Before(job["metadata"].get("uid") if job else None)


def _pod_state(pod: Obj) -> str:
    """A pod's phase, with why it does not run yet (scheduling, a waiting container)."""
    status = pod.get("status") or {}
    name = inert(pod["metadata"]["name"], 80)
    phase = status.get("phase") or "Pending"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            message = inert(condition.get("message") or condition.get("reason") or "", 160)
            cordon = " (node cordoned)" if mapping.CORDONED in message else ""
            return f"pod {name} {phase}{cordon}: {message}"
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return f"pod {name} {phase}: {inert(waiting['reason'], 60)}"
    return f"pod {name} {phase}"


def _pods_of(kube: Kube, namespace: str, selector: str) -> list[Obj]:
    pods = kube.list(PODS, namespace, labelSelector=selector)
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _job_stage(kube: Kube, before: Before) -> str | None:
    """Where the install Job is, or None once it has succeeded."""
    name = _job_name(kube)
    what = f"job {charts.CHART_NAMESPACE}/{name}"
    job = get_or_none(kube, JOBS, name, charts.CHART_NAMESPACE)
    if job is None and before.job_uid is None:
        return None  # the chart did not change and no install is pending
    if job is None or (before.job_uid and job["metadata"].get("uid") == before.job_uid):
        return f"{what}: helm-controller has not started the new install job yet"
    status = job.get("status") or {}
    if status.get("succeeded"):
        return None
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            return f"{what}: failed ({inert(condition.get('reason') or '', 60)})"
    uid = job["metadata"].get("uid", "")
    pods = _pods_of(kube, charts.CHART_NAMESPACE, f"controller-uid={uid}")
    if not pods:
        return f"{what}: no pod yet"
    newest = max(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")
    return f"{what}: {_pod_state(newest)}"


def _rollout_stage(kube: Kube) -> str | None:
    """Where the binder rollout is, or None when it is complete."""
    namespace = charts.RELEASE_NAMESPACE
    what = f"deployment {namespace}/{BINDER_DEPLOYMENT}"
    deployment = get_or_none(kube, DEPLOYMENTS, BINDER_DEPLOYMENT, namespace)
    if deployment is None:
        return f"{what}: not found"
    counts = mapping.rollout_counts(deployment)
    if not counts.waiting:
        return None
    old = max(0, (deployment.get("status") or {}).get("replicas", 0) - counts.updated)
    line = (
        f"{what}: {counts.updated} of {counts.desired} new pod(s) created, {old} old pod(s) "
        "still serving"
    )
    pending = [
        _pod_state(p)
        for p in _pods_of(kube, namespace, "component=binder")
        if (p.get("status") or {}).get("phase", "Pending") == "Pending"
    ]
    return line + (f"; {'; '.join(pending)}" if pending else "")


def stage(kube: Kube, before: Before) -> str:
    """What the change waits for: the install Job, the rollout, or BinderHub itself."""
    job = _job_stage(kube, before)
    if job is not None:
        return job
    rollout = _rollout_stage(kube)
    if rollout is not None:
        return rollout
    return "install job done, binder rolled out: waiting for the new binder pod to answer"


def wait_for_quota(
    member: MemberConfig,
    kube: Kube,
    address: str,
    quota: int | None,
    before: Before,
    *,
    progress: Progress,
    timeout: float = DEFAULT_TIMEOUT,
    poll: float = QUOTA_POLL_SECONDS,
) -> Health:
    """Wait until BinderHub's ``/health`` reports ``quota``; progress on each new step.

    Raises BinderctlError naming what is stuck when ``timeout`` seconds pass first.
    """
    started = time.monotonic()
    said = ""
    while True:
        health = fetch_health(member, address)
        found, now = reported_quota(health)
        # the old binder pod may report the quota too (a change back, after an
        # interrupted one): done only once the change itself has gone through
        settled = found and now == quota and _job_stage(kube, before) is None
        if settled and _rollout_stage(kube) is None:
            progress(f"BinderHub /health reports launch quota {shown(quota)}")
            return health
        serving = (
            f"/health still reports quota {shown(now)}"
            if found
            else f"/health: {health.error or 'no Pod quota check'}"
        )
        where = stage(kube, before)
        line = f"{where} ({serving})"
        if line != said:
            progress(line)
            said = line
        if time.monotonic() - started >= timeout:
            raise BinderctlError(
                f"BinderHub did not take launch quota {shown(quota)} within "
                f"{age(timeout)}: {serving}; stuck at {where}",
                hint="the HelmChart holds the new quota; helm-controller keeps trying. Run "
                "the command again to keep waiting, with a longer --timeout",
            )
        time.sleep(poll)


def wait_for_release(
    kube: Kube,
    before: Before,
    *,
    progress: Progress,
    timeout: float = DEFAULT_TIMEOUT,
    poll: float = QUOTA_POLL_SECONDS,
) -> None:
    """Wait until a change of the chart's values has reached BinderHub: its install Job
    has succeeded and binder has rolled out (the new pod read the new config when it
    started). For config that ``/health`` does not report (``banned_specs``)."""
    started = time.monotonic()
    said = ""
    while True:
        where = _job_stage(kube, before) or _rollout_stage(kube)
        if where is None:
            progress("install job done, binder rolled out: BinderHub runs with the new config")
            return
        if where != said:
            progress(where)
            said = where
        if time.monotonic() - started >= timeout:
            raise BinderctlError(
                f"the chart change did not reach BinderHub within {age(timeout)}: stuck at {where}",
                hint="the HelmChart holds the change; helm-controller keeps trying. Run the "
                "command again to keep waiting, with a longer --timeout",
            )
        time.sleep(poll)
