"""Rolling a core component: finding its workload, waiting for a rollout of it with
progress and the reason it cannot finish, and going back to the previous revision.

- Progress is what `kubectl rollout status` reads (``mapping.rollout_counts``; kubectl
  ``pkg/polymorphichelpers/rollout_status.go``), and the wait also wants as many Ready
  pods as desired that did not exist before the action (a restart replaces them all).
  A new pod that cannot become Ready is named with its reason (``mapping.pod_problem``);
  when waiting cannot help (``PodProblem.final``: the kubelet has backed off a pull or a
  crash, the node is cordoned) the wait ends at once with what fixes it
  (``attention.rollout_fix``), else at the timeout.
- ``rollback_plan`` is `kubectl rollout undo` (kubectl
  ``pkg/polymorphichelpers/rollback.go``, ``DeploymentRollbacker``): the ReplicaSets the
  Deployment controls, the one with the second highest ``deployment.kubernetes.io/revision``
  (the previous revision); its pod template without the ``pod-template-hash`` label
  replaces the Deployment's, and the Deployment's annotations become the ReplicaSet's
  (which the controller copied from the Deployment) but for ``ROLLBACK_KEEPS``, which
  keep the Deployment's own values; one JSON patch does both. A template that already
  matches is skipped, as kubectl skips it; a paused Deployment is refused.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from binderctl.errors import BinderctlError
from binderctl.formatting import age, image_label, inert
from binderctl.models import ComponentName, PodProblem
from binderctl.services import mapping
from binderctl.services.attention import rollout_fix
from binderctl.services.kube import (
    DAEMONSETS,
    DEPLOYMENTS,
    JSON_PATCH,
    PODS,
    REPLICASETS,
    Kube,
    KubeError,
    Obj,
    Resource,
)
from binderctl.services.rollout import RECHECK_SECONDS, Changes

DEFAULT_TIMEOUT = 300.0  # seconds: a pod start with an image pull, and its readiness probe
STOP_CHECK_SECONDS = 0.5  # how soon a wait notices that it should stop
HASH_LABEL = mapping.HASH_LABEL
# kubectl rollback.go annotationsToSkip: kept from the Deployment, not taken from the
# ReplicaSet rolled back to
ROLLBACK_KEEPS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        mapping.REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Workload:
    """A core component's Deployment (DaemonSet for dind)."""

    component: ComponentName
    resource: Resource
    obj: Obj

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def label(self) -> str:
        kind = "daemon set" if self.resource is DAEMONSETS else "deployment"
        return f"{kind} {self.namespace}/{self.name}"

    @property
    def pod_selector(self) -> str:
        return f"component={mapping.COMPONENT_LABELS[self.component]}"


def find_workload(kube: Kube, component: ComponentName) -> Workload:
    """The workload of ``component`` (by its pods' ``component`` label)."""
    resource = DAEMONSETS if component == "dind" else DEPLOYMENTS
    for obj in kube.list(resource):
        if resource is DAEMONSETS:
            obj.setdefault("kind", "DaemonSet")
        if mapping.workload_component(obj) == component:
            return Workload(component, resource, obj)
    kind = "daemon set" if resource is DAEMONSETS else "deployment"
    raise BinderctlError(
        f"no {component} {kind} found (pods labelled "
        f"component={mapping.COMPONENT_LABELS[component]})"
    )


def pods_of(kube: Kube, workload: Workload) -> list[Obj]:
    return kube.list(PODS, workload.namespace, labelSelector=workload.pod_selector)


def uids(pods: Iterable[Obj]) -> frozenset[str]:
    return frozenset(p["metadata"].get("uid", "") for p in pods)


def current_problem(pods: Iterable[Obj]) -> PodProblem | None:
    """The problem of the newest pod that has one."""
    troubled = [(p, problem) for p in pods if (problem := mapping.pod_problem(p)) is not None]
    if not troubled:
        return None
    return max(troubled, key=lambda item: item[0]["metadata"].get("creationTimestamp", ""))[1]


# -- a rollout's progress ------------------------------------------------------------------
@dataclass(frozen=True)
class RolloutState:
    waiting: str  # what for, in words; "" once the rollout is done
    problem: PodProblem | None  # a new pod that cannot become Ready

    @property
    def done(self) -> bool:
        return not self.waiting


def rollout_state(
    workload: Obj, pods: list[Obj], before: frozenset[str], *, fresh: bool = False
) -> RolloutState:
    """How far the rollout after an action is: ``before`` are the uids of the pods there
    were (a problem is looked for in the others); ``fresh`` wants as many Ready pods as
    desired among the others (dind's pods are deleted, its template stays)."""
    counts = mapping.rollout_counts(workload)
    new = [
        p
        for p in pods
        if p["metadata"].get("uid") not in before and not p["metadata"].get("deletionTimestamp")
    ]
    problem = current_problem(new)
    if counts.waiting:
        return RolloutState(counts.waiting, problem)
    ready = sum(1 for p in new if mapping.is_ready(p))
    if fresh and ready < counts.desired:
        return RolloutState(f"{ready} of {counts.desired} new pods ready", problem)
    return RolloutState("", None)


def stuck_error(
    component: ComponentName, problem: PodProblem, revision: int, what: str
) -> BinderctlError:
    fix = rollout_fix(component, problem, revision)[1]
    return BinderctlError(
        f"{what} cannot finish: the new {component} pod {inert(problem.pod, 80)} "
        f"{inert(problem.describe(), 400)}",
        hint=f"{fix}; the rollout goes on by itself once that is fixed",
    )


def wait_for_rollout(
    kube: Kube,
    workload: Workload,
    before: frozenset[str],
    *,
    timeout: float,
    progress: Progress,
    what: str,
    fresh: bool = False,
    stop: threading.Event | None = None,
) -> str:
    """Until the rollout of ``workload`` after an action is done (``rollout_state``; its
    outcome in words); BinderctlError with the reason when a new pod cannot become Ready
    and waiting cannot help, when ``timeout`` seconds pass first, or when ``stop`` is set
    (the console closes)."""
    deadline = time.monotonic() + timeout
    watched = (
        (workload.resource, {"fieldSelector": f"metadata.name={workload.name}"}),
        (PODS, {"labelSelector": workload.pod_selector}),
    )
    said = ""
    with Changes(kube, watched) as changes:
        while True:
            obj = kube.get(workload.resource, workload.name, workload.namespace)
            state = rollout_state(obj, pods_of(kube, workload), before, fresh=fresh)
            if state.done:
                counts = mapping.rollout_counts(obj)
                return (
                    f"{workload.label} rolled out: {counts.updated}/{counts.desired} pods "
                    f"updated, {counts.available} available"
                )
            revision = 0 if workload.resource is DAEMONSETS else mapping.revision_of(obj)
            problem = state.problem
            if problem is not None and problem.final:
                raise stuck_error(workload.component, problem, revision, what)
            line = f"{workload.label}: waiting for {state.waiting}"
            if problem is not None:
                line += f"; pod {inert(problem.pod, 80)} {inert(problem.describe(), 300)}"
            if line != said:
                progress(line)
                said = line
            left = deadline - time.monotonic()
            if left <= 0:
                hint = "the rollout goes on in the cluster: `binderctl status` shows it"
                if problem is not None:
                    hint = rollout_fix(workload.component, problem, revision)[1]
                raise BinderctlError(
                    f"{what} did not finish within {age(timeout)}: {line}", hint=hint
                )
            if stop is not None and stop.is_set():
                raise BinderctlError(
                    f"stopped waiting for {what}: {line}",
                    hint="the rollout goes on in the cluster: `binderctl status` shows it",
                )
            changes.wait(min(RECHECK_SECONDS if stop is None else STOP_CHECK_SECONDS, left))


# -- rollback ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RollbackPlan:
    """Going back from the Deployment's ``current`` revision to the template of
    ``target``; ``operations`` is the JSON patch (empty: skipped, it already matches)."""

    deployment: str  # namespace/name
    current: int
    target: int
    image: str  # the current template's
    target_image: str
    operations: tuple[Obj, ...]

    @property
    def skipped(self) -> bool:
        return not self.operations


def _revision(rs: Obj) -> int | None:
    """kubectl's ``deploymentutil.Revision``: 0 without the annotation, None (skipped)
    when it is not a number."""
    text = (rs["metadata"].get("annotations") or {}).get(mapping.REVISION)
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        return None


def controlled_by(obj: Obj, owner: Obj) -> bool:
    uid = owner["metadata"].get("uid")
    return any(
        bool(ref.get("controller")) and ref.get("uid") == uid
        for ref in obj["metadata"].get("ownerReferences") or ()
    )


def _pruned(value: Any) -> Any:
    """``value`` with empty maps and lists left out: the API's semantic equality holds a
    nil map equal to an empty one."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [], None)}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _without_hash(template: Obj | None) -> Obj:
    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return template


def equal_ignore_hash(one: Obj | None, other: Obj | None) -> bool:
    same: bool = _pruned(_without_hash(one)) == _pruned(_without_hash(other))
    return same


def _image(template: Obj) -> str:
    return mapping.template_image({"spec": {"template": template}})


def rollback_plan(deployment: Obj, replica_sets: Iterable[Obj]) -> RollbackPlan:
    """`kubectl rollout undo` of ``deployment`` given the ReplicaSets of its namespace."""
    meta = deployment["metadata"]
    name = meta["name"]
    latest: tuple[int, Obj | None] = (-1, None)
    previous: tuple[int, Obj | None] = (-1, None)
    for rs in replica_sets:
        revision = _revision(rs)
        if revision is None or not controlled_by(rs, deployment):
            continue
        if latest[0] < revision:
            latest, previous = (revision, rs), latest
        elif previous[0] < revision:
            previous = (revision, rs)
    target_revision, target = previous
    if target is None:
        raise BinderctlError(
            f'no rollout history found for deployment "{inert(name, 80)}"',
            hint="a deployment that has rolled out once has no previous revision to go back to",
        )
    spec = deployment.get("spec") or {}
    if spec.get("paused"):
        raise BinderctlError(
            f"you cannot rollback a paused deployment; resume it first with 'kubectl rollout "
            f"resume deployment/{inert(name, 80)}' and try again"
        )
    current = spec.get("template") or {}
    template = (target.get("spec") or {}).get("template") or {}
    plan = RollbackPlan(
        f"{meta['namespace']}/{name}",
        mapping.revision_of(deployment),
        target_revision,
        _image(current),
        _image(template),
        (),
    )
    if equal_ignore_hash(template, current):
        return plan
    annotations = {
        key: value
        for key, value in (meta.get("annotations") or {}).items()
        if key in ROLLBACK_KEEPS
    }
    for key, value in (target["metadata"].get("annotations") or {}).items():
        if key not in ROLLBACK_KEEPS:
            annotations[key] = value
    operations = (
        {"op": "replace", "path": "/spec/template", "value": _without_hash(template)},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    )
    return replace(plan, operations=operations)


def replica_sets_of(kube: Kube, deployment: Obj) -> list[Obj]:
    """The ReplicaSets the Deployment's selector matches (kubectl lists them so, then
    keeps those it controls)."""
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    namespace = deployment["metadata"]["namespace"]
    return kube.list(REPLICASETS, namespace, labelSelector=selector or None)


def plan_rollback(kube: Kube, workload: Workload) -> RollbackPlan:
    return rollback_plan(workload.obj, replica_sets_of(kube, workload.obj))


def apply_rollback(kube: Kube, workload: Workload, plan: RollbackPlan) -> None:
    try:
        kube.patch(
            DEPLOYMENTS,
            workload.name,
            list(plan.operations),
            namespace=workload.namespace,
            content_type=JSON_PATCH,
        )
    except KubeError as exc:
        raise BinderctlError(
            f"failed restoring revision {plan.target}: {exc.message}", hint=exc.hint
        ) from None


def describe_plan(plan: RollbackPlan) -> str:
    return (
        f"deployment {plan.deployment}: revision {plan.current} ({image_label(plan.image)}) "
        f"-> the template of revision {plan.target} ({image_label(plan.target_image)})"
    )
