"""kube-scheduler: binds pending pods to a node that fits, or leaves them Pending with a
``FailedScheduling`` warning worded like the real scheduler's.

Filters run per node in the real order, and a node fails on the first one that rejects
the pod: NodeUnschedulable (cordon), TaintToleration, NodeAffinity (nodeSelector,
required node affinity), NodeResourcesFit (``status.allocatable`` pods, cpu, memory).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller, Key, key_of
from binderctl.demo.kube.events import Source
from binderctl.demo.kube.podutil import is_terminal, set_condition
from binderctl.demo.kube.quantity import parse_quantity
from binderctl.demo.kube.store import Obj, WatchEvent

if TYPE_CHECKING:
    from binderctl.demo.kube.controllers.plane import ControlPlane

SCHEDULER = "default-scheduler"
_UNRESOLVABLE = "Preemption is not helpful for scheduling"
_NO_VICTIMS = "No preemption victims found for incoming pod"


@dataclass(frozen=True)
class Usage:
    node: str
    cpu: float
    memory: float


def _requests(pod: Obj) -> tuple[float, float]:
    cpu = memory = 0.0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        try:
            cpu += parse_quantity(wanted.get("cpu", 0))
            memory += parse_quantity(wanted.get("memory", 0))
        except ValueError:
            continue
    return cpu, memory


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key")
        if toleration.get("operator") == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def untolerated_taint(tolerations: list[Obj], node: Obj) -> Obj | None:
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return taint
    return None


def _term_matches(term: Obj, node: Obj) -> bool:
    labels = node["metadata"].get("labels") or {}
    for expression in term.get("matchExpressions") or []:
        if not _expression(expression, labels.get(expression.get("key", ""))):
            return False
    for expression in term.get("matchFields") or []:
        value = node["metadata"]["name"] if expression.get("key") == "metadata.name" else None
        if not _expression(expression, value):
            return False
    return bool(term.get("matchExpressions") or term.get("matchFields"))


def _expression(expression: Obj, value: str | None) -> bool:
    values = expression.get("values") or []
    match expression.get("operator"):
        case "In":
            return value in values
        case "NotIn":
            return value not in values
        case "Exists":
            return value is not None
        case "DoesNotExist":
            return value is None
        case "Gt" | "Lt":
            if value is None or not value.lstrip("-").isdigit() or not values:
                return False
            bound = int(values[0])
            return int(value) > bound if expression["operator"] == "Gt" else int(value) < bound
    return False


def affinity_matches(spec: Obj, node: Obj) -> bool:
    labels = node["metadata"].get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    return not terms or any(_term_matches(term, node) for term in terms)


def _allocatable(node: Obj, name: str) -> float | None:
    status = node.get("status") or {}
    value = (status.get("allocatable") or {}).get(name, (status.get("capacity") or {}).get(name))
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except ValueError:
        return None


class Scheduler(Controller[Key]):
    name = SCHEDULER

    def __init__(self, plane: ControlPlane) -> None:
        super().__init__(plane)
        self._usage: dict[tuple[str, str], Usage] = {}
        # Unschedulable pods: how many attempts failed, and when the backoff lets them retry.
        self._unschedulable: dict[Key, tuple[int, float]] = {}
        self._retrying: set[Key] = set()
        # kube-scheduler records through events.k8s.io, as "default-scheduler-<host>".
        self.source = Source(SCHEDULER, f"{SCHEDULER}-{plane.host}", modern=True)

    # -- bookkeeping ---------------------------------------------------------------------
    def _account(self, pod: Obj | None, key: tuple[str, str]) -> None:
        node = (pod.get("spec") or {}).get("nodeName") if pod is not None else None
        if pod is None or not node or is_terminal(pod):
            self._usage.pop(key, None)
        else:
            cpu, memory = _requests(pod)
            self._usage[key] = Usage(node, cpu, memory)

    def _wants_scheduling(self, pod: Obj) -> bool:
        spec = pod.get("spec") or {}
        return (
            not spec.get("nodeName")
            and spec.get("schedulerName", SCHEDULER) == SCHEDULER
            and not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase", "Pending") == "Pending"
        )

    def _retry_unschedulable(self) -> None:
        """Cluster changed: another attempt for every unschedulable pod, once its backoff
        (1 s, doubling up to 10 s, like the scheduler's pod backoff) is over."""
        now = asyncio.get_running_loop().time()
        for key, (_, due) in list(self._unschedulable.items()):
            if key in self._retrying:
                continue
            self._retrying.add(key)
            if due <= now:
                self.enqueue(key)
            else:
                self.plane.later((due - now) * self.plane.speed, partial(self.enqueue, key))

    def on_event(self, event: WatchEvent) -> None:
        if event.rt is types.NODES:
            self._retry_unschedulable()
            return
        if event.rt is not types.PODS:
            return
        key = key_of(event.obj)
        had = self._usage.get(key)
        self._account(None if event.type == "DELETED" else event.obj, key)
        if had is not None and self._usage.get(key) != had:
            self._retry_unschedulable()
        if event.type == "DELETED":
            self._unschedulable.pop(key, None)
        elif self._wants_scheduling(event.obj):
            self.enqueue(key)

    def resync(self) -> None:
        for pod in self.store.list(types.PODS):
            self._account(pod, key_of(pod))
        for pod in self.store.list(types.PODS):
            if self._wants_scheduling(pod):
                self.enqueue(key_of(pod))

    # -- scheduling --------------------------------------------------------------------------
    def _filter(self, pod: Obj, node: Obj, cpu: float, memory: float) -> list[tuple[str, bool]]:
        """Why ``node`` cannot take ``pod``: (reason, resolvable by preemption) pairs."""
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        if (node.get("spec") or {}).get("unschedulable") and not tolerates(
            tolerations, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        ):
            return [("node(s) were unschedulable", False)]
        taint = untolerated_taint(tolerations, node)
        if taint is not None:
            shown = f"{{{taint.get('key')}: {taint.get('value', '')}}}"
            return [(f"node(s) had untolerated taint {shown}", False)]
        if not affinity_matches(spec, node):
            return [("node(s) didn't match Pod's node affinity/selector", False)]
        name = node["metadata"]["name"]
        on_node = [u for u in self._usage.values() if u.node == name]
        reasons = []
        pods_max = _allocatable(node, "pods")
        if pods_max is not None and len(on_node) + 1 > pods_max:
            reasons.append(("Too many pods", True))
        cpu_max = _allocatable(node, "cpu")
        if cpu and cpu_max is not None and sum(u.cpu for u in on_node) + cpu > cpu_max + 1e-9:
            reasons.append(("Insufficient cpu", True))
        memory_max = _allocatable(node, "memory")
        if (
            memory
            and memory_max is not None
            and sum(u.memory for u in on_node) + memory > memory_max
        ):
            reasons.append(("Insufficient memory", True))
        return reasons

    def reconcile(self, key: Key) -> None:
        namespace, name = key
        attempt = key in self._retrying
        self._retrying.discard(key)
        pod = self.store.find(types.PODS, namespace, name)
        if pod is None or not self._wants_scheduling(pod):
            self._unschedulable.pop(key, None)
            return
        nodes = sorted(self.store.list(types.NODES), key=lambda n: n["metadata"]["name"])
        cpu, memory = _requests(pod)
        feasible: list[Obj] = []
        counts: dict[str, int] = {}
        preemption: dict[str, int] = {}
        for node in nodes:
            reasons = self._filter(pod, node, cpu, memory)
            if not reasons:
                feasible.append(node)
                continue
            for reason, _ in reasons:
                counts[reason] = counts.get(reason, 0) + 1
            verdict = _NO_VICTIMS if all(r for _, r in reasons) else _UNRESOLVABLE
            preemption[verdict] = preemption.get(verdict, 0) + 1
        if feasible:
            self._bind(pod, min(feasible, key=lambda n: self._load(n["metadata"]["name"])))
            self._unschedulable.pop(key, None)
            return
        attempts = self._unschedulable.get(key, (0, 0.0))[0] + 1
        backoff = min(10.0, 2.0 ** (attempts - 1)) / self.plane.speed
        self._unschedulable[key] = (attempts, asyncio.get_running_loop().time() + backoff)
        if not nodes:
            message = "no nodes available to schedule pods"
        else:
            total = len(nodes)
            why = ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))
            pre = ", ".join(sorted(f"{n} {r}" for r, n in preemption.items()))
            message = (
                f"0/{total} nodes are available: {why}. preemption: 0/{total} nodes are "
                f"available: {pre}."
            )
        self._unschedulable_status(pod, message, attempt=attempt)

    def _load(self, node: str) -> int:
        return sum(1 for u in self._usage.values() if u.node == node)

    def _bind(self, pod: Obj, node: Obj) -> None:
        node_name = node["metadata"]["name"]
        meta = pod["metadata"]

        def bind(obj: Obj) -> None:
            obj["spec"]["nodeName"] = node_name
            set_condition(obj.setdefault("status", {}), "PodScheduled", "True", probe_time=True)

        bound = self.store.mutate(types.PODS, meta["namespace"], meta["name"], bind)
        self.plane.events.emit(
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node_name}",
            self.source,
            action="Binding",
        )

    def _unschedulable_status(self, pod: Obj, message: str, *, attempt: bool) -> None:
        meta = pod["metadata"]
        current = next(
            (
                c
                for c in (pod.get("status") or {}).get("conditions") or []
                if c.get("type") == "PodScheduled"
            ),
            None,
        )
        if current is None or current.get("message") != message or current.get("status") != "False":

            def mark(obj: Obj) -> None:
                set_condition(
                    obj.setdefault("status", {}),
                    "PodScheduled",
                    "False",
                    "Unschedulable",
                    message,
                    probe_time=True,
                )

            pod = self.store.mutate(types.PODS, meta["namespace"], meta["name"], mark)
        elif not attempt:
            return
        self.plane.events.emit(
            pod, "Warning", "FailedScheduling", message, self.source, action="Scheduling"
        )
