"""The Node object a k3s server registers: labels, capacity, conditions, node info."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from binderctl.demo.kube.store import Obj
from binderctl.demo.member.hardware import Hardware

CONTAINERD = "containerd://1.7.23-k3s2"
KERNEL = "6.8.0-51-generic"
OS_IMAGE = "Ubuntu 24.04.1 LTS"

# (type, reason and message when fine, reason and message when not)
CONDITIONS: dict[str, tuple[str, str, str, str]] = {
    "MemoryPressure": (
        "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
        "KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
    ),
    "DiskPressure": (
        "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
        "KubeletHasDiskPressure", "kubelet has disk pressure",
    ),
    "PIDPressure": (
        "KubeletHasSufficientPID", "kubelet has sufficient PID available",
        "KubeletHasInsufficientPID", "kubelet has insufficient PID available",
    ),
    "Ready": (
        "KubeletReady", "kubelet is posting ready status",
        "KubeletNotReady", "container runtime is down",
    ),
}  # fmt: skip


RESERVED_POD_IPS = 1  # the range's first address is the cni0 bridge's gateway


def pod_cidr(mask: int) -> str:
    """The node's pod range: k3s's cluster CIDR 10.42.0.0/16 cut at the controller
    manager's ``--node-cidr-mask-size`` (a /24 unless k3s was told otherwise)."""
    return f"10.42.0.0/{mask}"


def condition(kind: str, bad: bool, stamp: str, since: str) -> dict[str, str]:
    good_reason, good_message, bad_reason, bad_message = CONDITIONS[kind]
    healthy = kind == "Ready"
    status = bad != healthy
    return {
        "type": kind,
        "status": "True" if status else "False",
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": since,
        "reason": bad_reason if bad else good_reason,
        "message": bad_message if bad else good_message,
    }


def node_object(
    name: str,
    ip: str,
    hardware: Hardware,
    max_pods: int,
    k3s_version: str,
    stamp: str,
    rng: random.Random,
    cidr: str,
) -> Obj:
    arch = hardware.architecture
    conditions = [condition(kind, False, stamp, stamp) for kind in CONDITIONS]
    info: dict[str, Any] = {
        "architecture": arch,
        "bootID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "containerRuntimeVersion": CONTAINERD,
        "kernelVersion": KERNEL,
        "kubeProxyVersion": k3s_version,
        "kubeletVersion": k3s_version,
        "machineID": f"{rng.getrandbits(128):032x}",
        "operatingSystem": "linux",
        "osImage": OS_IMAGE,
        "systemUUID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": stamp,
            "labels": {
                "beta.kubernetes.io/arch": arch,
                "beta.kubernetes.io/instance-type": "k3s",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": arch,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": "true",
                "node-role.kubernetes.io/master": "true",
                "node.kubernetes.io/instance-type": "k3s",
            },
            "annotations": {
                "flannel.alpha.coreos.com/backend-type": "vxlan",
                "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                "flannel.alpha.coreos.com/public-ip": ip,
                "k3s.io/hostname": name,
                "k3s.io/internal-ip": ip,
                "k3s.io/node-args": json.dumps(["server"]),
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "providerID": f"k3s://{name}"},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "allocatable": hardware.allocatable(max_pods),
            "capacity": hardware.capacity(max_pods),
            "conditions": conditions,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": info,
        },
    }
