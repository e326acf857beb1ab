"""Strategic-merge-patch metadata of the built-in kinds (the ``patchStrategy`` and
``patchMergeKey`` struct tags of k8s.io/api), for the fields the emulator's objects use.

A schema maps a field name to a nested schema (a map), a ``MergeList`` (a list of maps
merged by a key) or ``SET`` (a list of scalars merged as a set). Lists not named here are
replaced whole, as Kubernetes does for lists without a patch strategy (``tolerations``,
``containerStatuses``, ``taints``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from binderctl.demo.kube import types
from binderctl.demo.kube.store import ResourceType

SET = "set"


@dataclass(frozen=True)
class MergeList:
    key: str
    item: Schema = field(default_factory=dict)


Schema = dict[str, Union["Schema", MergeList, str]]

_CONDITIONS: Schema = {"conditions": MergeList("type")}
META: Schema = {"finalizers": SET, "ownerReferences": MergeList("uid")}
CONTAINER: Schema = {
    "ports": MergeList("containerPort"),
    "env": MergeList("name"),
    "volumeMounts": MergeList("mountPath"),
    "volumeDevices": MergeList("devicePath"),
}
POD_SPEC: Schema = {
    "containers": MergeList("name", CONTAINER),
    "initContainers": MergeList("name", CONTAINER),
    "ephemeralContainers": MergeList("name", CONTAINER),
    "volumes": MergeList("name"),
    "imagePullSecrets": MergeList("name"),
    "hostAliases": MergeList("ip"),
    "topologySpreadConstraints": MergeList("topologyKey"),
    "schedulingGates": MergeList("name"),
    "resourceClaims": MergeList("name"),
}
_TEMPLATE: Schema = {"metadata": META, "spec": POD_SPEC}
_WORKLOAD: Schema = {"metadata": META, "spec": {"template": _TEMPLATE}, "status": _CONDITIONS}

SCHEMAS: dict[tuple[str, str], Schema] = {
    types.PODS.key: {
        "metadata": META,
        "spec": POD_SPEC,
        "status": {**_CONDITIONS, "podIPs": MergeList("ip"), "hostIPs": MergeList("ip")},
    },
    types.NODES.key: {
        "metadata": META,
        "spec": {"podCIDRs": SET},
        "status": {**_CONDITIONS, "addresses": MergeList("type")},
    },
    types.SERVICES.key: {
        "metadata": META,
        "spec": {"ports": MergeList("port")},
        "status": _CONDITIONS,
    },
    types.NAMESPACES.key: {"metadata": META, "status": _CONDITIONS},
    types.DEPLOYMENTS.key: _WORKLOAD,
    types.REPLICASETS.key: _WORKLOAD,
    types.DAEMONSETS.key: _WORKLOAD,
    types.JOBS.key: _WORKLOAD,
    types.PODDISRUPTIONBUDGETS.key: {"metadata": META, "status": _CONDITIONS},
    types.EVENTS.key: {"metadata": META},
    types.EVENTS_V1.key: {"metadata": META},
    types.CONFIGMAPS.key: {"metadata": META},
    types.SECRETS.key: {"metadata": META},
    types.LEASES.key: {"metadata": META},
}


def schema_for(rt: ResourceType) -> Schema | None:
    """The schema of a built-in kind; None for custom resources (no strategic merge)."""
    return SCHEMAS.get(rt.key)
