"""The resource types the emulator serves."""

from __future__ import annotations

from binderctl.demo.kube.store import ResourceType

NAMESPACES = ResourceType("", "v1", "Namespace", "namespaces", False, ("ns",))
NODES = ResourceType("", "v1", "Node", "nodes", False, ("no",))
PODS = ResourceType("", "v1", "Pod", "pods", True, ("po",), categories=("all",))
EVENTS = ResourceType("", "v1", "Event", "events", True, ("ev",))
SERVICES = ResourceType("", "v1", "Service", "services", True, ("svc",), categories=("all",))
CONFIGMAPS = ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",))
SECRETS = ResourceType("", "v1", "Secret", "secrets", True)
DEPLOYMENTS = ResourceType(
    "apps", "v1", "Deployment", "deployments", True, ("deploy",), categories=("all",)
)
REPLICASETS = ResourceType(
    "apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), categories=("all",)
)
DAEMONSETS = ResourceType(
    "apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), categories=("all",)
)
JOBS = ResourceType("batch", "v1", "Job", "jobs", True, categories=("all",))
EVENTS_V1 = ResourceType("events.k8s.io", "v1", "Event", "events", True, ("ev",))
HELMCHARTS = ResourceType("helm.cattle.io", "v1", "HelmChart", "helmcharts", True)
NODE_METRICS = ResourceType(
    "metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=("get", "list")
)
POD_METRICS = ResourceType(
    "metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=("get", "list")
)

ALL: tuple[ResourceType, ...] = (
    NAMESPACES, NODES, PODS, EVENTS, SERVICES, CONFIGMAPS, SECRETS,
    DEPLOYMENTS, REPLICASETS, DAEMONSETS, JOBS, EVENTS_V1, HELMCHARTS,
)  # fmt: skip
