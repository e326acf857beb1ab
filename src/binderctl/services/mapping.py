"""Kubernetes objects (JSON dicts as the API serves them) -> the models dataclasses.

The one place for this mapping: the live model applies it to watch events and the
headless commands to one-shot lists. Pure functions; they run once per watch event,
so they stay cheap (no copies, no typed client models).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from binderctl.models import (
    CRASH_REASONS,
    IMAGE_REASONS,
    UNSCHEDULABLE,
    Build,
    Component,
    ComponentName,
    Condition,
    NodeStatus,
    PodDetail,
    PodProblem,
    Session,
    Termination,
    WarningEvent,
)
from binderctl.services.kube import parse_time

Obj = dict[str, Any]
PodRole = Literal["session", "build"] | ComponentName

SESSION_COMPONENT = "singleuser-server"
BUILD_COMPONENT = "binderhub-build"
# the `component` label of each core piece's pods and workload -> our name for it
CORE_COMPONENTS: dict[str, ComponentName] = {
    "hub": "hub",
    "binder": "binder",
    "proxy": "proxy",
    "image-builder": "dind",
}
COMPONENT_LABELS: dict[ComponentName, str] = {v: k for k, v in CORE_COMPONENTS.items()}
SESSION_SELECTOR = f"component={SESSION_COMPONENT}"
BUILD_SELECTOR = f"component={BUILD_COMPONENT}"
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
# what a session pod's environment says about its repository (set by BinderHub)
BINDER_ENV = frozenset({"BINDER_REPO_URL", "BINDER_REF_URL"})
# Builds are cleaned after an hour; one still running after this is taken as hung.
STUCK_AFTER_SECONDS = 1800.0
HASH_LABEL = "pod-template-hash"  # a Deployment's pods: which ReplicaSet (revision)
REVISION = "deployment.kubernetes.io/revision"
# the scheduler's NodeUnschedulable filter: "0/1 nodes are available: 1 node(s) were
# unschedulable"
CORDONED = "were unschedulable"

_SUFFIXES = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0,
    "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip


def quantity(text: object) -> float | None:
    """A Kubernetes quantity (``100m``, ``1.5``, ``192Gi``, ``450M``) as a number."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not text:
        return None
    suffix = text[-2:] if text[-2:] in _SUFFIXES else text[-1:]
    if suffix not in _SUFFIXES or suffix[-1:].isdigit():
        suffix = ""
    try:
        return float(text[: len(text) - len(suffix)]) * _SUFFIXES[suffix]
    except ValueError:
        return None


def _bytes(text: object) -> int | None:
    value = quantity(text)
    return None if value is None else int(value)


def key_of(obj: Obj) -> str:
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else meta["name"]


def pod_role(obj: Obj) -> PodRole | None:
    """``session``, ``build``, a core component name, or None for any other pod."""
    component = (obj["metadata"].get("labels") or {}).get("component")
    if component == SESSION_COMPONENT:
        return "session"
    if component == BUILD_COMPONENT:
        return "build"
    return CORE_COMPONENTS.get(component) if component else None


def pod_phase(obj: Obj) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    return (obj.get("status") or {}).get("phase") or "Unknown"


def pod_is_active(obj: Obj) -> bool:
    """Counts against the node's max pods: scheduled and not finished."""
    status = obj.get("status") or {}
    return bool((obj.get("spec") or {}).get("nodeName")) and (
        status.get("phase") not in TERMINAL_PHASES
    )


def restarts(obj: Obj) -> int:
    statuses = (obj.get("status") or {}).get("containerStatuses") or ()
    return sum(s.get("restartCount", 0) for s in statuses)


def _binder_env(obj: Obj) -> dict[str, str]:
    """The first value of each of ``BINDER_ENV`` in the pod's containers."""
    found: dict[str, str] = {}
    for container in (obj.get("spec") or {}).get("containers") or ():
        for item in container.get("env") or ():
            name = item.get("name")
            if name in BINDER_ENV and name not in found and "value" in item:
                found[name] = item["value"]
                if len(found) == len(BINDER_ENV):
                    return found
    return found


def _image(obj: Obj) -> str:
    containers = (obj.get("spec") or {}).get("containers") or ()
    return containers[0].get("image", "") if containers else ""


def _image_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def ref_from_url(url: str) -> str:
    """The ref in a BINDER_REF_URL such as ``https://github.com/o/r/tree/<ref>``."""
    for marker in ("/tree/", "/commit/", "/-/tree/"):
        if marker in url:
            return url.rsplit(marker, 1)[1].strip("/")
    return ""


@dataclass(frozen=True)
class SessionIdentity:
    """What does not change in a session pod's life (its spec and creation time)."""

    user: str
    repo: str
    ref: str
    started: float
    cpu_limit: float | None = None  # cores: the sum of the containers' limits


def cpu_limit(obj: Obj) -> float | None:
    """The pod's CPU limit in cores (its containers' limits added), None if one has none."""
    total = 0.0
    for container in (obj.get("spec") or {}).get("containers") or ():
        limit = quantity(((container.get("resources") or {}).get("limits") or {}).get("cpu"))
        if limit is None:
            return None
        total += limit
    return total or None


def session_identity(obj: Obj) -> SessionIdentity:
    meta = obj["metadata"]
    env = _binder_env(obj)
    image = _image(obj)
    tag = _image_tag(image)
    return SessionIdentity(
        # KubeSpawner: the name as the hub knows it is the annotation; the label is a
        # slug of it (hashed when the name holds "--")
        user=(meta.get("annotations") or {}).get("hub.jupyter.org/username")
        or (meta.get("labels") or {}).get("hub.jupyter.org/username", ""),
        repo=env.get("BINDER_REPO_URL") or (image[: -len(tag) - 1] if tag else image),
        ref=ref_from_url(env.get("BINDER_REF_URL", "")) or tag,
        started=parse_time(meta.get("creationTimestamp")) or 0.0,
        cpu_limit=cpu_limit(obj),
    )


def session_state(obj: Obj) -> tuple[str, int]:
    """What changes in a session pod's life: (phase, restarts)."""
    return pod_phase(obj), restarts(obj)


def session_row(
    obj: Obj, identity: SessionIdentity, usage: tuple[float, int] | None = None
) -> Session:
    meta = obj["metadata"]
    phase, restart_count = session_state(obj)
    return Session(
        pod=meta["name"],
        namespace=meta.get("namespace", ""),
        user=identity.user,
        repo=identity.repo,
        ref=identity.ref,
        started=identity.started,
        phase=phase,
        cpu=usage[0] if usage else None,
        memory=usage[1] if usage else None,
        restarts=restart_count,
    )


def session_from_pod(obj: Obj, usage: tuple[float, int] | None = None) -> Session:
    return session_row(obj, session_identity(obj), usage)


def _builder_arg(obj: Obj, flag: str) -> str:
    for container in (obj.get("spec") or {}).get("containers") or ():
        args = list(container.get("args") or ()) + list(container.get("command") or ())
        for index, arg in enumerate(args):
            if arg == flag and index + 1 < len(args):
                return str(args[index + 1])
            if isinstance(arg, str) and arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return ""


def build_started(obj: Obj) -> float:
    meta = obj["metadata"]
    status = obj.get("status") or {}
    return parse_time(status.get("startTime")) or parse_time(meta.get("creationTimestamp")) or 0.0


def is_stuck(phase: str, started: float, now: float, stuck_after: float) -> bool:
    return phase == "Running" and now - started > stuck_after


def build_from_pod(obj: Obj, now: float, stuck_after: float = STUCK_AFTER_SECONDS) -> Build:
    meta = obj["metadata"]
    phase = pod_phase(obj)
    started = build_started(obj)
    ref = _builder_arg(obj, "--ref") or _image_tag(_builder_arg(obj, "--image"))
    return Build(
        pod=meta["name"],
        namespace=meta.get("namespace", ""),
        repo=(meta.get("annotations") or {}).get("binder-repo", ""),
        ref=ref,
        phase=phase,
        started=started,
        stuck=is_stuck(phase, started, now, stuck_after),
    )


def is_ready(obj: Obj) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_problem(obj: Obj) -> PodProblem | None:
    """What keeps a pod from becoming Ready that waiting will not fix, as `kubectl rollout
    status` warns: the scheduler's Unschedulable, or a container waiting to be pulled,
    created or restarted after a crash. None for a pod that is Ready, going, or starting."""
    meta = obj["metadata"]
    if meta.get("deletionTimestamp") or is_ready(obj):
        return None
    status = obj.get("status") or {}
    for condition in status.get("conditions") or ():
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == UNSCHEDULABLE
        ):
            message = condition.get("message") or ""
            return PodProblem(meta["name"], UNSCHEDULABLE, message, cordoned=CORDONED in message)
    for container in (*(status.get("initContainerStatuses") or ()),
                      *(status.get("containerStatuses") or ())):  # fmt: skip
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason") or ""
        if reason in IMAGE_REASONS or reason in CRASH_REASONS:
            image = container.get("image") or ""
            return PodProblem(meta["name"], reason, waiting.get("message") or "", image)
    return None


@dataclass(frozen=True)
class ComponentPod:
    """What a core component's row needs from one of its pods."""

    component: ComponentName
    restarts: int
    started: float | None
    running: bool
    name: str = ""
    created: float = 0.0
    ready: bool = False
    image: str = ""  # its first container's
    problem: PodProblem | None = None


def component_pod(obj: Obj, component: ComponentName) -> ComponentPod:
    status = obj.get("status") or {}
    meta = obj["metadata"]
    return ComponentPod(
        component=component,
        restarts=restarts(obj),
        started=parse_time(status.get("startTime")),
        running=status.get("phase") == "Running" and not meta.get("deletionTimestamp"),
        name=meta["name"],
        created=parse_time(meta.get("creationTimestamp")) or 0.0,
        ready=is_ready(obj) and not meta.get("deletionTimestamp"),
        image=_image(obj),
        problem=pod_problem(obj),
    )


def workload_component(obj: Obj) -> ComponentName | None:
    """Which core piece a Deployment/DaemonSet runs, by its pods' ``component`` label
    (the chart does not always label the workload itself)."""
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    labels = template.get("labels") or obj["metadata"].get("labels") or {}
    return CORE_COMPONENTS.get(labels.get("component", ""))


def is_daemon_set(workload: Obj) -> bool:
    return workload.get("kind") == "DaemonSet" or "desiredNumberScheduled" in (
        workload.get("status") or {}
    )


@dataclass(frozen=True)
class RolloutCounts:
    """A workload's rollout as `kubectl rollout status` reads it (kubectl
    ``polymorphichelpers/rollout_status.go``): ``waiting`` says for what, "" once done."""

    desired: int
    updated: int
    ready: int
    available: int
    waiting: str


def rollout_counts(workload: Obj) -> RolloutCounts:
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    observed = status.get("observedGeneration", 0) >= workload["metadata"].get("generation", 0)
    if is_daemon_set(workload):
        desired = status.get("desiredNumberScheduled", 0)
        updated = status.get("updatedNumberScheduled", 0)
        available = status.get("numberAvailable", 0)
        counts = (desired, updated, status.get("numberReady", 0), available)
        if not observed:
            return RolloutCounts(*counts, "the daemon set's new template to be observed")
        if updated < desired:
            return RolloutCounts(*counts, f"{updated} of {desired} new pods updated")
        if available < desired:
            return RolloutCounts(*counts, f"{available} of {desired} updated pods available")
        return RolloutCounts(*counts, "")
    desired = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    counts = (desired, updated, status.get("readyReplicas", 0), available)
    old = status.get("replicas", 0) - updated
    if not observed:
        return RolloutCounts(*counts, "the deployment's new template to be observed")
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Progressing" and (
            condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return RolloutCounts(*counts, "a rollout past its progress deadline")
    if updated < desired:
        return RolloutCounts(*counts, f"{updated} of {desired} new pods updated")
    if old > 0:
        return RolloutCounts(*counts, f"{old} old pod(s) pending termination")
    if available < updated:
        return RolloutCounts(*counts, f"{available} of {updated} updated pods available")
    return RolloutCounts(*counts, "")


def template_image(workload: Obj) -> str:
    template = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = template.get("containers") or ()
    return containers[0].get("image", "") if containers else ""


def revision_of(obj: Obj) -> int:
    """A Deployment's or ReplicaSet's ``deployment.kubernetes.io/revision`` (0: none)."""
    text = (obj["metadata"].get("annotations") or {}).get(REVISION, "")
    return int(text) if text.isdigit() else 0


def newest_problem(pods: list[ComponentPod]) -> PodProblem | None:
    troubled = [p for p in pods if p.problem is not None]
    return max(troubled, key=lambda p: p.created).problem if troubled else None


def component_from(
    name: ComponentName, workload: Obj | None, pods: list[ComponentPod]
) -> Component:
    """A core component's row from its Deployment/DaemonSet and its pods."""
    running = [p for p in pods if p.running]
    starts = [p.started for p in running if p.started is not None]
    images = tuple(sorted({p.image for p in pods if p.ready}))
    row = Component(
        name=name,
        ready=len(running),
        desired=0,
        restarts=sum(p.restarts for p in pods),
        started=min(starts) if starts else None,
        image="",
        desired_known=False,
        running=images,
        problem=newest_problem(pods),
    )
    if workload is None:
        return row
    counts = rollout_counts(workload)
    return replace(
        row,
        ready=counts.ready,
        desired=counts.desired,
        updated=counts.updated,
        available=counts.available,
        image=template_image(workload),
        desired_known=True,
        waiting=counts.waiting,
        revision=0 if is_daemon_set(workload) else revision_of(workload),
    )


def node_status(
    obj: Obj,
    *,
    usage: tuple[float, int] | None,
    pods_used: int,
    disk: tuple[int, int] | None = None,
) -> NodeStatus:
    """``usage`` (cpu cores, memory bytes) from metrics; ``disk`` (used, capacity) bytes
    from the kubelet's summary, else the capacity from ephemeral-storage."""
    status = obj.get("status") or {}
    capacity = status.get("capacity") or {}
    allocatable = status.get("allocatable") or {}
    pods_max = _bytes(allocatable.get("pods") or capacity.get("pods")) or 0
    return NodeStatus(
        name=obj["metadata"]["name"],
        cpu_capacity=quantity(capacity.get("cpu")) or 0.0,
        memory_capacity=_bytes(capacity.get("memory")) or 0,
        cpu_allocatable=quantity(allocatable.get("cpu")) or 0.0,
        memory_allocatable=_bytes(allocatable.get("memory")) or 0,
        pods_max=pods_max,
        pods_used=pods_used,
        cpu_usage=usage[0] if usage else None,
        memory_usage=usage[1] if usage else None,
        disk_capacity=disk[1] if disk else _bytes(capacity.get("ephemeral-storage")),
        disk_usage=disk[0] if disk else None,
        conditions={
            c.get("type", "?"): c.get("status", "Unknown") for c in status.get("conditions") or ()
        },
        cordoned=bool((obj.get("spec") or {}).get("unschedulable")),
        kubelet_version=str((status.get("nodeInfo") or {}).get("kubeletVersion") or ""),
    )


def event_from(obj: Obj) -> WarningEvent:
    """An event (core/v1, or events.k8s.io/v1's names for the same fields)."""
    meta = obj["metadata"]
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    first = parse_time(obj.get("firstTimestamp")) or parse_time(obj.get("eventTime"))
    when = (
        parse_time(obj.get("lastTimestamp"))
        or parse_time((obj.get("series") or {}).get("lastObservedTime"))
        or first
        or parse_time(meta.get("creationTimestamp"))
        or 0.0
    )
    return WarningEvent(
        time=when,
        namespace=meta.get("namespace", ""),
        object=f"{involved.get('kind', '?')}/{involved.get('name', '?')}",
        reason=obj.get("reason", ""),
        message=obj.get("message") or obj.get("note") or "",
        count=obj.get("count") or (obj.get("series") or {}).get("count") or 1,
        first_seen=first,
        name=meta.get("name", ""),
        type=obj.get("type") or "Normal",
    )


def warning_from_event(obj: Obj) -> WarningEvent | None:
    return event_from(obj) if obj.get("type") == "Warning" else None


def termination(obj: Obj) -> Termination | None:
    """The latest end of a container of the pod: its last state, or its state now."""
    ends = []
    for status in (obj.get("status") or {}).get("containerStatuses") or ():
        for state in (status.get("state") or {}, status.get("lastState") or {}):
            ended = state.get("terminated")
            if ended:
                ends.append(
                    Termination(
                        ended.get("reason") or "",
                        ended.get("exitCode"),
                        parse_time(ended.get("finishedAt")),
                        ended.get("message") or "",
                    )
                )
    return max(ends, key=lambda t: t.finished or 0.0) if ends else None


def pod_detail(obj: Obj) -> PodDetail:
    meta = obj["metadata"]
    labels = meta.get("labels") or {}
    return PodDetail(
        name=meta["name"],
        phase=pod_phase(obj),
        ready=is_ready(obj),
        restarts=restarts(obj),
        image=_image(obj),
        created=parse_time(meta.get("creationTimestamp")) or 0.0,
        node=(obj.get("spec") or {}).get("nodeName") or "",
        revision=labels.get(HASH_LABEL) or labels.get("controller-revision-hash") or "",
        problem=pod_problem(obj),
        last_termination=termination(obj),
    )


def conditions_of(obj: Obj) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            c.get("type", "?"),
            c.get("status", "Unknown"),
            c.get("reason") or "",
            c.get("message") or "",
            parse_time(c.get("lastTransitionTime")),
        )
        for c in (obj.get("status") or {}).get("conditions") or ()
    )


def metrics_usage(item: Obj) -> tuple[float, int]:
    """(cpu, memory) of a metrics.k8s.io NodeMetrics or PodMetrics item."""
    if "containers" in item:
        cpu, memory = 0.0, 0
        for container in item.get("containers") or ():
            usage = container.get("usage") or {}
            cpu += quantity(usage.get("cpu")) or 0.0
            memory += _bytes(usage.get("memory")) or 0
        return cpu, memory
    usage = item.get("usage") or {}
    return quantity(usage.get("cpu")) or 0.0, _bytes(usage.get("memory")) or 0
