"""The resource types the emulator serves."""

from __future__ import annotations

from binderctl.demo.kube.store import ResourceType

_STATUS = ("status",)
_READ = ("get", "list")

NAMESPACES = ResourceType(
    "", "v1", "Namespace", "namespaces", False, ("ns",), subresources=("status", "finalize")
)
NODES = ResourceType("", "v1", "Node", "nodes", False, ("no",), subresources=_STATUS)
PODS = ResourceType(
    "", "v1", "Pod", "pods", True, ("po",), categories=("all",),
    subresources=("status", "log", "eviction", "binding"),
)  # fmt: skip
EVENTS = ResourceType("", "v1", "Event", "events", True, ("ev",))
SERVICES = ResourceType(
    "", "v1", "Service", "services", True, ("svc",), categories=("all",), subresources=_STATUS
)
CONFIGMAPS = ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",))
SECRETS = ResourceType("", "v1", "Secret", "secrets", True)
DEPLOYMENTS = ResourceType(
    "apps", "v1", "Deployment", "deployments", True, ("deploy",), categories=("all",),
    subresources=("scale", "status"),
)  # fmt: skip
REPLICASETS = ResourceType(
    "apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), categories=("all",),
    subresources=("scale", "status"),
)  # fmt: skip
DAEMONSETS = ResourceType(
    "apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), categories=("all",),
    subresources=_STATUS,
)  # fmt: skip
JOBS = ResourceType("batch", "v1", "Job", "jobs", True, categories=("all",), subresources=_STATUS)
EVENTS_V1 = ResourceType("events.k8s.io", "v1", "Event", "events", True, ("ev",))
HELMCHARTS = ResourceType("helm.cattle.io", "v1", "HelmChart", "helmcharts", True)
PODDISRUPTIONBUDGETS = ResourceType(
    "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",),
    subresources=_STATUS,
)  # fmt: skip
LEASES = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True)
# Served once the system-upgrade-controller has registered its CRD (not in ALL).
PLANS = ResourceType(
    "upgrade.cattle.io", "v1", "Plan", "plans", True, subresources=_STATUS
)  # fmt: skip
NODE_METRICS = ResourceType("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=_READ)
POD_METRICS = ResourceType("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=_READ)

ALL: tuple[ResourceType, ...] = (
    NAMESPACES, NODES, PODS, EVENTS, SERVICES, CONFIGMAPS, SECRETS,
    DEPLOYMENTS, REPLICASETS, DAEMONSETS, JOBS, EVENTS_V1, HELMCHARTS, PODDISRUPTIONBUDGETS,
    LEASES,
)  # fmt: skip
