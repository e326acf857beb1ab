"""Server-side ``Table`` output (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``)
with the columns and cells of the real printers (pkg/printers/internalversion), so
``kubectl get`` prints what it prints against a real cluster.

The server always fills the wide columns (priority 1); kubectl shows them with
``-o wide``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from binderctl.demo.kube import types
from binderctl.demo.kube.events import parse_time, v1_to_core
from binderctl.demo.kube.labels import format_labels, format_selector_spec
from binderctl.demo.kube.store import Obj, ResourceType

Cell = str | int | bool | None


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    priority: int = 0
    format: str = ""
    description: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description or self.name,
            "priority": self.priority,
        }


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration`` of k8s.io/apimachinery."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: float) -> str:
    ts = parse_time(timestamp)
    return "<unknown>" if ts is None else human_duration(now - ts)


def _age(obj: Obj, now: float) -> str:
    return since(obj["metadata"].get("creationTimestamp"), now)


def _containers(spec: Obj) -> tuple[str, str]:
    containers = spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(
        c.get("image", "") for c in containers
    )


NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column("Age", description="CreationTimestamp is the time the object was created.")
_CONTAINERS = (
    Column("Containers", priority=1, description="Names of each container in the template."),
    Column("Images", priority=1, description="Images referenced by each container."),
    Column("Selector", priority=1, description="The label selector."),
)


# -- pods ----------------------------------------------------------------------------------
def _pod_row(pod: Obj, now: float) -> tuple[list[Cell], list[Obj]]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    restarts, ready, last_restart = 0, 0, 0.0
    total = len(spec.get("containers") or [])
    initializing = False
    init_count = len(spec.get("initContainers") or [])
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        restarts += container.get("restartCount", 0)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            code = terminated.get("exitCode", 0)
            reason = f"Init:{terminated.get('reason') or f'ExitCode:{code}'}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{init_count}"
        initializing = True
        break
    initialized = any(
        c.get("type") == "Initialized" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    if not initializing or initialized:
        restarts, has_running = 0, False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += container.get("restartCount", 0)
            finished = ((container.get("lastState") or {}).get("terminated") or {}).get(
                "finishedAt"
            )
            finished_ts = parse_time(finished)
            if finished_ts and finished_ts > last_restart:
                last_restart = finished_ts
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                signal = terminated.get("signal")
                reason = (
                    f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
                )
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            reason = "Running" if pod_ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restarts_cell = str(restarts)
    if restarts and last_restart:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    pod_ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
        gates_cell = f"{sum(g.get('conditionType') in true for g in gates)}/{len(gates)}"
    cells: list[Cell] = [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts_cell,
        _age(pod, now),
        pod_ips[0]["ip"] if pod_ips else "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]
    conditions: list[Obj] = []
    if phase == "Succeeded":
        conditions = [_completed("Succeeded", "The pod has completed successfully.")]
    elif phase == "Failed":
        conditions = [_completed("Failed", "The pod failed.")]
    return cells, conditions


def _completed(reason: str, message: str) -> Obj:
    return {"type": "Completed", "status": "True", "reason": reason, "message": message}


POD_COLUMNS = (
    NAME,
    Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", description="The aggregate status of the containers in this pod."),
    Column(
        "Restarts",
        description="The number of times the containers in this pod have been restarted.",
    ),
    AGE,
    Column("IP", priority=1, description="IP address allocated to the pod."),
    Column("Node", priority=1, description="The node the pod is bound to."),
    Column("Nominated Node", priority=1, description="The node nominated by preemption."),
    Column("Readiness Gates", priority=1, description="Pod readiness gates."),
)


# -- nodes ----------------------------------------------------------------------------------
def _node_row(node: Obj, now: float) -> list[Cell]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    state = []
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            state.append("Ready" if condition.get("status") == "True" else "NotReady")
    if not state:
        state.append("Unknown")
    if spec.get("unschedulable"):
        state.append("SchedulingDisabled")
    roles = set()
    for key, value in (node["metadata"].get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for entry in status.get("addresses") or []:
            if entry.get("type") == kind:
                return entry.get("address", "")
        return "<none>"

    return [
        node["metadata"]["name"],
        ",".join(state),
        ",".join(sorted(roles)) or "<none>",
        _age(node, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


NODE_COLUMNS = (
    NAME,
    Column("Status", description="The status of the node"),
    Column("Roles", description="The roles of the node"),
    AGE,
    Column("Version", description="Kubelet Version reported by the node."),
    Column("Internal-IP", priority=1, description="List of addresses reachable to the node."),
    Column("External-IP", priority=1, description="List of addresses reachable to the node."),
    Column("OS-Image", priority=1, description="OS Image reported by the node."),
    Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
    Column("Container-Runtime", priority=1, description="ContainerRuntime Version."),
)


# -- workloads ------------------------------------------------------------------------------
def _workload_row(obj: Obj, now: float, cells: list[Cell]) -> list[Cell]:
    """NAME, the kind's own `cells`, then AGE and the wide `_CONTAINERS` columns."""
    spec = obj.get("spec") or {}
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        obj["metadata"]["name"],
        *cells,
        _age(obj, now),
        names,
        images,
        format_selector_spec(spec.get("selector")),
    ]


def _deployment_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return _workload_row(
        obj,
        now,
        [
            f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0),
        ],
    )


DEPLOYMENT_COLUMNS = (
    NAME,
    Column("Ready", description="Number of the pod with ready state"),
    Column(
        "Up-to-date",
        description="Non-terminated pods with the desired template spec.",
    ),
    Column("Available", description="Total number of available pods targeted by this deployment."),
    AGE,
    *_CONTAINERS,
)


def _replicaset_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return _workload_row(
        obj,
        now,
        [
            spec.get("replicas", 1),
            status.get("replicas", 0),
            status.get("readyReplicas", 0),
        ],
    )


REPLICASET_COLUMNS = (
    NAME,
    Column("Desired", "integer", description="Replicas is the number of desired replicas."),
    Column(
        "Current",
        "integer",
        description="Replicas is the most recently observed number of replicas.",
    ),
    Column("Ready", "integer", description="The number of ready replicas for this replica set."),
    AGE,
    *_CONTAINERS,
)


def _daemonset_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    return _workload_row(
        obj,
        now,
        [
            status.get("desiredNumberScheduled", 0),
            status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0),
            status.get("updatedNumberScheduled", 0),
            status.get("numberAvailable", 0),
            format_labels(pod_spec.get("nodeSelector")),
        ],
    )


DAEMONSET_COLUMNS = (
    NAME,
    Column(
        "Desired",
        "integer",
        description="The total number of nodes that should be running the daemon pod.",
    ),
    Column(
        "Current", "integer", description="The number of nodes running at least one daemon pod."
    ),
    Column("Ready", "integer", description="The number of nodes with a ready daemon pod."),
    Column(
        "Up-to-date", "integer", description="The number of nodes running the updated daemon pod."
    ),
    Column("Available", "integer", description="The number of nodes with an available daemon pod."),
    Column("Node Selector", description="NodeSelector of the pod template."),
    AGE,
    *_CONTAINERS,
)


def _job_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end or now) - start)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif obj["metadata"].get("deletionTimestamp"):
        state = "Terminating"
    elif conditions.get("Suspended") == "True":
        state = "Suspended"
    elif conditions.get("FailureTarget") == "True":
        state = "FailureTarget"
    else:
        state = "Running"
    return _workload_row(
        obj,
        now,
        [
            state,
            completions,
            duration,
        ],
    )


JOB_COLUMNS = (
    NAME,
    Column("Status", description="Status of the job."),
    Column("Completions", description="The number of pods which reached phase Succeeded."),
    Column("Duration", description="Time required to complete the job."),
    AGE,
    *_CONTAINERS,
)


# -- core -----------------------------------------------------------------------------------
def _service_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    kind = spec.get("type", "ClusterIP")
    external_ips = spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif kind == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        lb = sorted(
            {i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")}
        )
        external = ",".join([*lb, *external_ips]) or "<pending>"
    elif kind == "ExternalName":
        external = spec.get("externalName", "")
    else:
        external = "<unknown>"
    ports = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol", "TCP")
        if port.get("nodePort"):
            ports.append(f"{port['port']}:{port['nodePort']}/{protocol}")
        else:
            ports.append(f"{port.get('port')}/{protocol}")
    cluster_ips = spec.get("clusterIPs") or []
    return [
        obj["metadata"]["name"],
        kind,
        cluster_ips[0] if cluster_ips else "<none>",
        external,
        ",".join(ports) or "<none>",
        _age(obj, now),
        format_labels(spec.get("selector")),
    ]


SERVICE_COLUMNS = (
    NAME,
    Column("Type", description="type determines how the Service is exposed."),
    Column("Cluster-IP", description="clusterIP is the IP address of the service."),
    Column(
        "External-IP",
        description="IP addresses for which nodes also accept traffic for this service.",
    ),
    Column("Port(s)", description="The list of ports that are exposed by this service."),
    AGE,
    Column(
        "Selector",
        priority=1,
        description="Route service traffic to pods with labels matching this selector.",
    ),
)


def _event_source(event: Obj) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def _event_row(event: Obj, now: float) -> list[Cell]:
    first = since(event.get("firstTimestamp"), now)
    if not event.get("firstTimestamp"):
        first = since(event.get("eventTime"), now)
    last = since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = event.get("count") or 0
    series = event.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count", 0)
    elif count == 0:
        count = 1
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        _event_source(event),
        (event.get("message") or "").strip(),
        first,
        count,
        event["metadata"]["name"],
    ]


EVENT_COLUMNS = (
    Column(
        "Last Seen",
        description="The time at which the most recent occurrence of this event was recorded.",
    ),
    Column("Type", description="Type of this event (Normal, Warning)."),
    Column(
        "Reason",
        description="A short, machine understandable reason for the transition.",
    ),
    Column("Object", description="The object that this event is about."),
    Column("Subobject", priority=1, description="The field of the object the event is about."),
    Column("Source", priority=1, description="The component reporting this event."),
    Column("Message", description="A human-readable description of the status of this operation."),
    Column("First Seen", priority=1, description="The time at which the event was first recorded."),
    Column("Count", priority=1, description="The number of times this event has occurred."),
    Column(
        "Name", priority=1, format="name", description="Name must be unique within a namespace."
    ),
)


def _namespace_row(obj: Obj, now: float) -> list[Cell]:
    return [obj["metadata"]["name"], (obj.get("status") or {}).get("phase", ""), _age(obj, now)]


def _configmap_row(obj: Obj, now: float) -> list[Cell]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [obj["metadata"]["name"], count, _age(obj, now)]


def _secret_row(obj: Obj, now: float) -> list[Cell]:
    return [
        obj["metadata"]["name"],
        obj.get("type", ""),
        len(obj.get("data") or {}),
        _age(obj, now),
    ]


def _pdb_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [
        obj["metadata"]["name"],
        "N/A" if min_available is None else str(min_available),
        "N/A" if max_unavailable is None else str(max_unavailable),
        status.get("disruptionsAllowed", 0),
        _age(obj, now),
    ]


def _lease_row(obj: Obj, now: float) -> list[Cell]:
    holder = (obj.get("spec") or {}).get("holderIdentity") or ""
    return [obj["metadata"]["name"], holder, _age(obj, now)]


def _helmchart_row(obj: Obj, now: float) -> list[Cell]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        status.get("jobName"),
        spec.get("chart"),
        spec.get("targetNamespace"),
        spec.get("version"),
        spec.get("repo"),
        spec.get("helmVersion"),
        spec.get("bootstrap"),
    ]


def _generic_row(obj: Obj, now: float) -> list[Cell]:
    return [obj["metadata"]["name"], _age(obj, now)]


Row = Callable[[Obj, float], Any]


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    row: Row
    with_conditions: bool = False
    convert: Callable[[Obj], Obj] | None = None  # to the form the printer reads


_PRINTERS: dict[tuple[str, str], Printer] = {
    types.PODS.key: Printer(POD_COLUMNS, _pod_row, with_conditions=True),
    types.NODES.key: Printer(NODE_COLUMNS, _node_row),
    types.DEPLOYMENTS.key: Printer(DEPLOYMENT_COLUMNS, _deployment_row),
    types.REPLICASETS.key: Printer(REPLICASET_COLUMNS, _replicaset_row),
    types.DAEMONSETS.key: Printer(DAEMONSET_COLUMNS, _daemonset_row),
    types.JOBS.key: Printer(JOB_COLUMNS, _job_row),
    types.SERVICES.key: Printer(SERVICE_COLUMNS, _service_row),
    types.EVENTS.key: Printer(EVENT_COLUMNS, _event_row),
    # Both event APIs print from the same internal type, so they show the same columns.
    types.EVENTS_V1.key: Printer(EVENT_COLUMNS, _event_row, convert=v1_to_core),
    types.NAMESPACES.key: Printer(
        (NAME, Column("Status", description="The status of the namespace"), AGE), _namespace_row
    ),
    types.CONFIGMAPS.key: Printer(
        (NAME, Column("Data", description="Number of data entries."), AGE), _configmap_row
    ),
    types.SECRETS.key: Printer(
        (
            NAME,
            Column("Type", description="Used to facilitate programmatic handling of secret data."),
            Column("Data", description="Number of data entries."),
            AGE,
        ),
        _secret_row,
    ),
    types.PODDISRUPTIONBUDGETS.key: Printer(
        (
            NAME,
            Column(
                "Min Available", description="The minimum number of pods that must be available."
            ),
            Column(
                "Max Unavailable", description="The maximum number of pods that may be unavailable."
            ),
            Column(
                "Allowed Disruptions",
                "integer",
                description="Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ),
        _pdb_row,
    ),
    types.LEASES.key: Printer(
        (NAME, Column("Holder", description="The holder of the lease."), AGE), _lease_row
    ),
    # The HelmChart CRD's additionalPrinterColumns (k3s-io/helm-controller pkg/crd).
    types.HELMCHARTS.key: Printer(
        (
            NAME,
            Column("Job"),
            Column("Chart"),
            Column("TargetNamespace"),
            Column("Version"),
            Column("Repo"),
            Column("HelmVersion"),
            Column("Bootstrap", "boolean"),
        ),
        _helmchart_row,
    ),
}
_GENERIC = Printer((NAME, AGE), _generic_row)


def partial_metadata(obj: Obj, api_version: str) -> Obj:
    """The ``PartialObjectMetadata`` form of an object."""
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj["metadata"]}


def to_table(
    rt: ResourceType,
    objects: Iterable[Obj],
    *,
    resource_version: str,
    include_object: str = "Metadata",
    api_version: str = "meta.k8s.io/v1",
    continue_token: str = "",
    remaining: int | None = None,
    no_headers: bool = False,
) -> Obj:
    """A ``Table`` of ``objects`` (already in the form served for ``rt``)."""
    printer = _PRINTERS.get(rt.key, _GENERIC)
    now = time.time()
    rows = []
    for obj in objects:
        produced = printer.row(printer.convert(obj) if printer.convert else obj, now)
        cells, conditions = produced if printer.with_conditions else (produced, [])
        row: Obj = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        if include_object == "Object":
            row["object"] = obj
        elif include_object == "Metadata":
            row["object"] = partial_metadata(obj, api_version)
        rows.append(row)
    metadata: Obj = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    if remaining:
        metadata["remainingItemCount"] = remaining
    table: Obj = {"kind": "Table", "apiVersion": api_version, "metadata": metadata}
    if not no_headers:
        table["columnDefinitions"] = [c.definition() for c in printer.columns]
    table["rows"] = rows
    return table
