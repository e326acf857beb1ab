"""Defaults the API server fills in on create, as the real defaulting functions and
admission plugins do (pods get a restart policy, a scheduler, tolerations; deployments
a strategy; services a cluster IP...)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, ResourceType, Store

SERVICE_CIDR = ipaddress.ip_network("10.43.0.0/16")  # k3s's default service CIDR
_NODE_PORTS = range(30000, 32768)
_DEFAULT_TOLERATIONS = [
    {
        "key": f"node.kubernetes.io/{key}",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    }
    for key in ("not-ready", "unreachable")
]


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _container(container: Obj) -> None:
    if not isinstance(container.get("image", ""), str):
        return
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _image_pull_policy(container.get("image", "")))
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        source = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(source, dict):
            source.setdefault("apiVersion", "v1")


def pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for key in ("initContainers", "containers"):
        containers = spec.get(key)
        for container in containers if isinstance(containers, list) else []:
            if isinstance(container, dict):
                _container(container)


def _requests(container: Obj) -> dict[str, str]:
    resources = container.get("resources") or {}
    return {**(resources.get("limits") or {}), **(resources.get("requests") or {})}


def qos_class(spec: Obj) -> str:
    containers = [
        c
        for listed in (spec.get("initContainers"), spec.get("containers"))
        for c in (listed if isinstance(listed, list) else [])
        if isinstance(c, dict)
    ]
    if all(not _requests(c) and not (c.get("resources") or {}).get("limits") for c in containers):
        return "BestEffort"
    for container in containers:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        requests = _requests(container)
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name) != limits[name]:
                return "Burstable"
    return "Guaranteed"


def _pod(store: Store, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    # Admission: ServiceAccount, DefaultTolerationSeconds, Priority.
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    tolerations = spec.setdefault("tolerations", [])
    for default in _DEFAULT_TOLERATIONS:
        if not any(t.get("key") == default["key"] for t in tolerations):
            tolerations.append(dict(default))
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status["qosClass"] = qos_class(spec)


def _template(obj: Obj) -> None:
    template = obj.setdefault("spec", {}).setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))


def _deployment(store: Store, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)
    obj.setdefault("status", {})


def _replicaset(store: Store, obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)
    obj.setdefault("status", {"replicas": 0})


def _daemonset(store: Store, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(obj)
    obj.setdefault(
        "status",
        {
            "currentNumberScheduled": 0,
            "desiredNumberScheduled": 0,
            "numberMisscheduled": 0,
            "numberReady": 0,
        },
    )


def _job(store: Store, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    uid = obj["metadata"]["uid"]
    name = obj["metadata"]["name"]
    if not spec.get("manualSelector"):
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
        )
    _template(obj)
    obj.setdefault("status", {})


def _free_cluster_ip(store: Store) -> str:
    used = {s.get("spec", {}).get("clusterIP") for s in store.list(types.SERVICES) if s.get("spec")}
    for address in SERVICE_CIDR.hosts():
        if str(address) not in used:
            return str(address)
    raise RuntimeError("the service CIDR is full")


def _service(store: Store, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = _free_cluster_ip(store)
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    used_ports = {
        p.get("nodePort") for s in store.list(types.SERVICES) for p in s["spec"].get("ports") or []
    }
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
        if spec["type"] in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            port["nodePort"] = next(p for p in _NODE_PORTS if p not in used_ports)
            used_ports.add(port["nodePort"])
    if spec["type"] == "LoadBalancer":
        spec.setdefault("externalTrafficPolicy", "Cluster")
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {"loadBalancer": {}})


def _namespace(store: Store, obj: Obj) -> None:
    meta = obj["metadata"]
    meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}


def _secret(store: Store, obj: Obj) -> None:
    obj.setdefault("type", "Opaque")


def _pdb(store: Store, obj: Obj) -> None:
    obj["status"] = {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }


_DEFAULTERS: dict[tuple[str, str], Callable[[Store, Obj], None]] = {
    types.PODS.key: _pod,
    types.DEPLOYMENTS.key: _deployment,
    types.REPLICASETS.key: _replicaset,
    types.DAEMONSETS.key: _daemonset,
    types.JOBS.key: _job,
    types.SERVICES.key: _service,
    types.NAMESPACES.key: _namespace,
    types.SECRETS.key: _secret,
    types.PODDISRUPTIONBUDGETS.key: _pdb,
}


def apply_defaults(store: Store, rt: ResourceType, obj: Obj) -> None:
    """Fill in defaults on a new object (``metadata.uid`` already set)."""
    defaulter = _DEFAULTERS.get(rt.key)
    if defaulter is not None:
        defaulter(store, obj)
