"""An emulated cluster for tests: the kit's ``KubeStack`` (API server and control plane)
on a loop thread, a node agent standing in for the simulated kubelet, and helpers to
create the objects a member has (a node, the hub deployment, session pods)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config

from binderctl.demo.cluster import KubeStack
from binderctl.demo.kube import types
from binderctl.demo.kube.memlogs import MemoryLogs
from binderctl.demo.kube.sources import ContainerUsage
from binderctl.demo.kube.store import Obj
from tests.kit.k3s import RunningStack, run_stack
from tests.kube.kube_agent import NodeAgent

T = TypeVar("T")
NODE = "member-node"
HUB_LABELS = {"app": "jupyterhub", "component": "hub", "release": "binderhub"}


@dataclass
class StaticMetrics:
    """A MetricsSource with fixed figures (tests set them)."""

    nodes: dict[str, tuple[float, int]] = field(default_factory=dict)
    pods: dict[tuple[str, str], list[ContainerUsage]] = field(default_factory=dict)

    def node_usage(self, node: str) -> tuple[float, int] | None:
        return self.nodes.get(node)

    def pod_usage(self, namespace: str, pod: str) -> Sequence[ContainerUsage] | None:
        return self.pods.get((namespace, pod))


def node_object(name: str = NODE, *, pods: int = 110, ip: str = "10.0.0.2") -> Obj:
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": "true",
                "node-role.kubernetes.io/master": "true",
            },
        },
        "spec": {"podCIDR": "10.42.0.0/24", "podCIDRs": ["10.42.0.0/24"]},
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": str(pods)},
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": str(pods)},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "b",
                "containerRuntimeVersion": "containerd://1.7.23-k3s2",
                "kernelVersion": "6.8.0-49-generic",
                "kubeProxyVersion": "v1.32.4+k3s1",
                "kubeletVersion": "v1.32.4+k3s1",
                "machineID": "m",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.1 LTS",
                "systemUUID": "s",
            },
        },
    }


def pod_object(
    name: str,
    namespace: str = "default",
    *,
    labels: dict[str, str] | None = None,
    containers: Sequence[str] = ("notebook",),
    node: str | None = None,
    grace: int = 30,
) -> Obj:
    spec: Obj = {
        "terminationGracePeriodSeconds": grace,
        "containers": [
            {"name": c, "image": "quay.io/jupyter/base-notebook:2025-01-06"} for c in containers
        ],
    }
    if node:
        spec["nodeName"] = node
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": spec,
    }


def session_labels(user: str) -> dict[str, str]:
    return {
        "app": "jupyterhub",
        "component": "singleuser-server",
        "release": "binderhub",
        "hub.jupyter.org/username": user,
    }


def deployment_object(
    name: str, namespace: str, labels: dict[str, str], containers: list[Obj], replicas: int = 1
) -> Obj:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"terminationGracePeriodSeconds": 30, "containers": containers},
            },
        },
    }


def hub_deployment(namespace: str = "binderhub") -> Obj:
    return deployment_object(
        "hub",
        namespace,
        HUB_LABELS,
        [
            {
                "name": "hub",
                "image": "quay.io/jupyterhub/k8s-hub:4.0.0",
                "ports": [{"containerPort": 8081, "name": "http"}],
                "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
            },
            {"name": "culler", "image": "quay.io/jupyterhub/k8s-hub:4.0.0"},
        ],
    )


class Cluster:
    """A running emulator with a node agent; ``do`` runs code on its loop."""

    def __init__(self, tmp: Path, *, speed: float | None = 100.0, bookmark_interval: float = 60.0):
        self.logs = MemoryLogs()
        self.metrics = StaticMetrics()
        stack = KubeStack(self.logs, self.metrics, speed=speed, bookmark_interval=bookmark_interval)
        self.running: RunningStack[KubeStack] = run_stack(stack, tmp / "kubeconfig")
        self.store = self.running.store
        self.kubeconfig = self.running.kubeconfig
        self.server = stack.server
        self.agent = self.do(lambda: NodeAgent(self.store))
        self.api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)

    def raw(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        accept: str = "application/json",
        content_type: str | None = None,
        text: bool = False,
    ) -> tuple[int, Any, dict[str, str]]:
        """A request as the client sends it; (status, JSON, or ``text``, headers)."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        request = self.api_client.param_serialize(
            method, path, header_params=headers, body=body, auth_settings=[]
        )
        response = self.api_client.call_api(*request).response
        data = response.data
        decoded = data.decode() if text else json.loads(data)
        return response.status, decoded, dict(response.headers)

    def do(self, fn: Callable[[], T]) -> T:
        return self.running.on_loop(fn)

    def run(self, coro: Any) -> Any:
        return self.running.loop.run(coro)

    def create(self, rt: Any, obj: Obj) -> Obj:
        """Create through the API server's own verbs (defaults, validation, admission)."""
        namespace = obj["metadata"].get("namespace") if rt.namespaced else None
        return self.do(lambda: self.server.registry.create(rt, namespace, obj))

    def add_node(self, name: str = NODE, **kwargs: Any) -> Obj:
        return self.do(lambda: self.store.create(types.NODES, node_object(name, **kwargs)))

    def add_namespace(self, name: str) -> Obj:
        return self.create(types.NAMESPACES, {"metadata": {"name": name}})

    def pod(self, namespace: str, name: str) -> Obj | None:
        return self.do(lambda: self.store.find(types.PODS, namespace, name))

    def pods(self, namespace: str | None = None) -> list[Obj]:
        return self.do(lambda: list(self.store.list(types.PODS, namespace)))

    def running_pods(self, namespace: str, **labels: str) -> list[Obj]:
        return [
            p
            for p in self.pods(namespace)
            if p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")
            and all(p["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
        ]

    def close(self) -> None:
        self.api_client.close()
        self.running.stop()


def sleep_on_loop(cluster: Cluster, seconds: float) -> None:
    cluster.run(asyncio.sleep(seconds))
