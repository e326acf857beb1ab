"""Waiting for the charts to install and every deployment and daemonset to roll out.

The wait is driven by watches: HelmCharts, Jobs, Deployments and DaemonSets (what
readiness is computed from) are followed with ``watch.Reflector`` threads, and
readiness is computed again only after one of them changed, at most every
``MIN_GAP`` seconds, and every ``RECHECK_SECONDS`` in any case (a watch may be down).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.services import charts, mapping
from binderctl.services.kube import (
    DAEMONSETS,
    DEPLOYMENTS,
    HELMCHARTS,
    JOBS,
    PODS,
    Kube,
    Obj,
    Resource,
)
from binderctl.services.watch import Reflector

WATCHED = (HELMCHARTS, JOBS, DEPLOYMENTS, DAEMONSETS)
MIN_GAP = 0.2  # seconds between two readiness checks, however busy the watches are
RECHECK_SECONDS = 5.0  # check again after this long even if no watch reported a change
STOP_SECONDS = 2.0  # how long the watch threads get to end when the wait is over


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
    for source in charts.sources(member):
        name = source.name
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


def _rolled_out(workload: Obj) -> tuple[bool, str]:
    """Done as `kubectl rollout status` judges it (a daemon set with no pod to run is
    not), and its ready count."""
    counts = mapping.rollout_counts(workload)
    done = not counts.waiting and (counts.desired > 0 or not mapping.is_daemon_set(workload))
    return done, f"{counts.ready}/{counts.desired} ready"


def readiness(kube: Kube, member: MemberConfig, also: tuple[str, ...] = ()) -> Readiness:
    """The charts' install jobs, then every deployment and daemonset of their namespaces
    (and of the namespaces ``also`` names: ``kube-system`` for k3s's own)."""
    pending = _install_jobs(kube, member)
    ready: list[str] = []
    if pending:
        return Readiness(ready, pending)
    for namespace in (*also, *charts.target_namespaces(member)):
        waiting: dict[str, str] = {}
        for kind, resource in (("deployment", DEPLOYMENTS), ("daemonset", DAEMONSETS)):
            for obj in kube.list(resource, namespace):
                if resource is DAEMONSETS:
                    obj.setdefault("kind", "DaemonSet")
                ok, why = _rolled_out(obj)
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


Watched = Sequence[tuple[Resource, Mapping[str, str]]]  # a collection and its query
CHART_COLLECTIONS: Watched = tuple((resource, {}) for resource in WATCHED)


class Changes:
    """Watches what readiness is computed from (``watched``: the charts' by default);
    ``wait`` returns once something changed."""

    def __init__(self, kube: Kube, watched: Watched = CHART_COLLECTIONS) -> None:
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._reflectors = [
            Reflector(
                kube,
                resource.plural,
                resource,
                on_sync=lambda objs: self._changed.set(),
                on_event=lambda kind, obj: self._changed.set(),
                on_state=lambda name, state, error: None,
                stop=self._stop,
                **query,
            )
            for resource, query in watched
        ]
        self._threads = [
            threading.Thread(target=r.run, name=f"binderctl-rollout-{r.name}", daemon=True)
            for r in self._reflectors
        ]

    def __enter__(self) -> Changes:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for reflector in self._reflectors:
            reflector.interrupt()
        deadline = time.monotonic() + STOP_SECONDS  # daemon threads: do not wait for long
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def wait(self, timeout: float) -> bool:
        """Until a change is reported (True) or ``timeout`` passed (False); forgets the
        changes seen so far."""
        changed = self._changed.wait(max(0.0, timeout))
        self._changed.clear()
        return changed


def wait_for_rollout(
    kube: Kube,
    member: MemberConfig,
    timeout: float,
    progress: Callable[[str], None],
) -> Readiness:
    deadline = time.monotonic() + timeout
    shown = ""
    with Changes(kube) as changes:
        while True:
            checked = time.monotonic()
            state = readiness(kube, member)
            if state.done:
                return state
            message = f"{len(state.ready)} ready; waiting for {', '.join(sorted(state.pending))}"
            if message != shown:
                progress(message)
                shown = message
            if checked >= deadline:
                details = "; ".join(f"{what}: {why}" for what, why in sorted(state.pending.items()))
                raise BinderctlError(
                    f"not ready after {int(timeout)}s: {details}",
                    hint="check `binderctl events` and `binderctl logs` for what is named here",
                )
            changes.wait(min(RECHECK_SECONDS, deadline - time.monotonic()))
            time.sleep(max(0.0, min(checked + MIN_GAP, deadline) - time.monotonic()))
