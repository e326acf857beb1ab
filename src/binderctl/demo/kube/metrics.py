"""``metrics.k8s.io/v1beta1``: node and pod usage from a MetricsSource, in the shapes and
units metrics-server serves (CPU in nanocores, memory in Ki)."""

from __future__ import annotations

import time

from binderctl.demo.kube import types
from binderctl.demo.kube.events import rfc3339
from binderctl.demo.kube.fields import FieldSelector
from binderctl.demo.kube.labels import Selector
from binderctl.demo.kube.sources import MetricsSource
from binderctl.demo.kube.store import Obj, ResourceType, Store, not_found

WINDOW = "20.022s"


def cpu_quantity(cores: float) -> str:
    return f"{max(0, round(cores * 1e9))}n"


def memory_quantity(size: int) -> str:
    return f"{max(0, size) // 1024}Ki"


def _meta(obj: Obj, now: float) -> Obj:
    meta: Obj = {"name": obj["metadata"]["name"], "creationTimestamp": rfc3339(now)}
    if obj["metadata"].get("namespace"):
        meta["namespace"] = obj["metadata"]["namespace"]
    if obj["metadata"].get("labels"):
        meta["labels"] = obj["metadata"]["labels"]
    return meta


class MetricsAPI:
    def __init__(self, store: Store, source: MetricsSource) -> None:
        self.store = store
        self.source = source

    def node(self, node: Obj, now: float) -> Obj | None:
        usage = self.source.node_usage(node["metadata"]["name"])
        if usage is None:
            return None
        cpu, memory = usage
        return {
            "kind": "NodeMetrics",
            "apiVersion": types.NODE_METRICS.api_version,
            "metadata": _meta(node, now),
            "timestamp": rfc3339(now),
            "window": WINDOW,
            "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
        }

    def pod(self, pod: Obj, now: float) -> Obj | None:
        if (pod.get("status") or {}).get("phase") != "Running":
            return None
        meta = pod["metadata"]
        usage = self.source.pod_usage(meta["namespace"], meta["name"])
        if usage is None:
            return None
        return {
            "kind": "PodMetrics",
            "apiVersion": types.POD_METRICS.api_version,
            "metadata": _meta(pod, now),
            "timestamp": rfc3339(now),
            "window": WINDOW,
            "containers": [
                {
                    "name": c.name,
                    "usage": {"cpu": cpu_quantity(c.cpu), "memory": memory_quantity(c.memory)},
                }
                for c in usage
            ],
        }

    def _source(self, rt: ResourceType) -> ResourceType:
        return types.NODES if rt is types.NODE_METRICS else types.PODS

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.store.find(self._source(rt), namespace, name)
        metrics = None
        if obj is not None:
            now = time.time()
            metrics = self.node(obj, now) if rt is types.NODE_METRICS else self.pod(obj, now)
        if metrics is None:
            raise not_found(rt, name)
        return metrics

    def list(
        self, rt: ResourceType, namespace: str | None, labels: Selector, fields: FieldSelector
    ) -> Obj:
        now = time.time()
        items = []
        for obj in self.store.list(self._source(rt), namespace):
            if not (labels.matches_object(obj) and fields.matches(obj)):
                continue
            metrics = self.node(obj, now) if rt is types.NODE_METRICS else self.pod(obj, now)
            if metrics is not None:
                items.append(metrics)
        items.sort(key=lambda m: (m["metadata"].get("namespace", ""), m["metadata"]["name"]))
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.api_version,
            "metadata": {},
            "items": items,
        }
