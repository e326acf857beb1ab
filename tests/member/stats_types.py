"""The kubelet's stats summary types, transcribed from kubernetes
``staging/src/k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go`` (kubernetes/kubernetes
commit 054d429d9f8bc8de4fc82e6cf2281e12a13fe1f2): each type's JSON fields, the field's
type, and whether it is always written (no ``omitempty``). ``check`` walks a served
document against them: no field the type lacks, every field it always writes, and the
JSON kind of each value (``metav1.Time`` is an RFC 3339 string, ``*uint64`` a count)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

TIME, UINT, INT, STR, FLOAT = "metav1.Time", "uint64", "int64", "string", "float64"
Field = tuple[Any, bool]  # the type (a name, or [name] for a list), always written

_INTERFACE: dict[str, Field] = {
    "name": (STR, True),
    "rxBytes": (UINT, False),
    "rxErrors": (UINT, False),
    "txBytes": (UINT, False),
    "txErrors": (UINT, False),
}
_FS: dict[str, Field] = {
    "time": (TIME, True),
    "availableBytes": (UINT, False),
    "capacityBytes": (UINT, False),
    "usedBytes": (UINT, False),
    "inodesFree": (UINT, False),
    "inodes": (UINT, False),
    "inodesUsed": (UINT, False),
}
TYPES: dict[str, dict[str, Field]] = {
    "Summary": {"node": ("NodeStats", True), "pods": (["PodStats"], True)},
    "NodeStats": {
        "nodeName": (STR, True),
        "systemContainers": (["ContainerStats"], False),
        "startTime": (TIME, True),
        "cpu": ("CPUStats", False),
        "memory": ("MemoryStats", False),
        "network": ("NetworkStats", False),
        "fs": ("FsStats", False),
        "runtime": ("RuntimeStats", False),
        "rlimit": ("RlimitStats", False),
    },
    "RlimitStats": {"time": (TIME, True), "maxpid": (INT, False), "curproc": (INT, False)},
    "RuntimeStats": {"imageFs": ("FsStats", False)},
    "ProcessStats": {"process_count": (UINT, False)},
    "PodStats": {
        "podRef": ("PodReference", True),
        "startTime": (TIME, True),
        "containers": (["ContainerStats"], True),
        "cpu": ("CPUStats", False),
        "memory": ("MemoryStats", False),
        "network": ("NetworkStats", False),
        "volume": (["VolumeStats"], False),
        "ephemeral-storage": ("FsStats", False),
        "process_stats": ("ProcessStats", False),
    },
    "ContainerStats": {
        "name": (STR, True),
        "startTime": (TIME, True),
        "cpu": ("CPUStats", False),
        "memory": ("MemoryStats", False),
        "accelerators": (["AcceleratorStats"], False),
        "rootfs": ("FsStats", False),
        "logs": ("FsStats", False),
        "userDefinedMetrics": (["UserDefinedMetric"], False),
    },
    "PodReference": {"name": (STR, True), "namespace": (STR, True), "uid": (STR, True)},
    "InterfaceStats": _INTERFACE,
    # InterfaceStats inline: the default interface's fields beside time and the list
    "NetworkStats": {
        "time": (TIME, True),
        **_INTERFACE,
        "interfaces": (["InterfaceStats"], False),
    },
    "CPUStats": {
        "time": (TIME, True),
        "usageNanoCores": (UINT, False),
        "usageCoreNanoSeconds": (UINT, False),
    },
    "MemoryStats": {
        "time": (TIME, True),
        "availableBytes": (UINT, False),
        "usageBytes": (UINT, False),
        "workingSetBytes": (UINT, False),
        "rssBytes": (UINT, False),
        "pageFaults": (UINT, False),
        "majorPageFaults": (UINT, False),
    },
    "FsStats": _FS,
    "VolumeStats": {
        **_FS,
        "name": (STR, False),
        "pvcRef": ("PVCReference", False),
    },
    "PVCReference": {"name": (STR, True), "namespace": (STR, True)},
    "AcceleratorStats": {
        "make": (STR, True),
        "model": (STR, True),
        "id": (STR, True),
        "memoryTotal": (UINT, True),
        "memoryUsed": (UINT, True),
        "dutyCycle": (UINT, True),
    },
    "UserDefinedMetric": {
        "name": (STR, True),
        "type": (STR, True),
        "units": (STR, True),
        "labels": ("map[string]string", False),
        "time": (TIME, True),
        "value": (FLOAT, True),
    },
}


def check(value: Any, kind: Any, path: str = "$") -> list[str]:
    """What in ``value`` does not fit ``kind`` (empty: it fits)."""
    if isinstance(kind, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [p for i, item in enumerate(value) for p in check(item, kind[0], f"{path}[{i}]")]
    if kind == TIME:
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return [f"{path}: {value!r} is not an RFC 3339 time"]
        return [] if isinstance(value, str) and value.endswith("Z") else [f"{path}: not UTC"]
    if kind in (UINT, INT):
        ok = isinstance(value, int) and not isinstance(value, bool) and (kind == INT or value >= 0)
        return [] if ok else [f"{path}: {value!r} is not a {kind}"]
    if kind == STR:
        return [] if isinstance(value, str) else [f"{path}: {value!r} is not a string"]
    if kind == FLOAT:
        return [] if isinstance(value, int | float) else [f"{path}: not a number"]
    if kind == "map[string]string":
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        return [] if ok else [f"{path}: not a map of strings"]
    fields = TYPES[kind]
    if not isinstance(value, dict):
        return [f"{path}: expected a {kind} object"]
    problems = [f"{path}.{key}: not a field of {kind}" for key in value if key not in fields]
    problems += [
        f"{path}.{key}: {kind} always has it" for key, (_, always) in fields.items()
        if always and key not in value
    ]  # fmt: skip
    for key, item in value.items():
        if key in fields:
            problems += check(item, fields[key][0], f"{path}.{key}")
    return problems
