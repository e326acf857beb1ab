"""The cloud-init user data that turns a fresh Ubuntu server into a k3s node for a member."""

from __future__ import annotations

import ipaddress
import json
from string import Template

from binderctl.config import MemberConfig, k3s_release
from binderctl.errors import ConfigError
from binderctl.paths import assets_dir
from binderctl.services.charts import in_cluster_registry, uses_in_cluster_registry

TEMPLATE_NAME = "cloud-init.yaml"
# Hetzner's limit on a server's user_data.
MAX_USER_DATA_BYTES = 32 * 1024
INOTIFY_MAX_USER_INSTANCES = 8192
INOTIFY_MAX_USER_WATCHES = 524288
KUBECONFIG_MODE = "0600"
# k3s reads the kubelet drop-in directory from this minor on; older ones need the flags.
KUBELET_DROPIN_SINCE = (1, 32)
# kube-controller-manager gives each node a /24 of k3s's 10.42.0.0/16 unless told
# otherwise (--node-cidr-mask-size), and only when the node joins (k3s-io/k3s#697,
# #10442); CNI host-local hands out the range less its network, broadcast and gateway.
DEFAULT_NODE_CIDR_MASK = 24
POD_RANGE_OVERHEAD = 3


def node_cidr_mask(max_pods: int) -> int:
    """The node's pod range for ``max_pods``: a /24 (253 pods) unless it needs more."""
    mask = DEFAULT_NODE_CIDR_MASK
    while 2 ** (32 - mask) - POD_RANGE_OVERHEAD < max_pods:
        mask -= 1
    return mask


def k3s_server_flags(member: MemberConfig, public_ip: str) -> list[str]:
    """The ``k3s server`` flags for ``INSTALL_K3S_EXEC``."""
    flags = ["server", "--tls-san", public_ip, "--write-kubeconfig-mode", KUBECONFIG_MODE]
    # mybinder's runbook disables the bundled traefik: the member installs its own with
    # websocket-safe timeouts (services/charts.py, INGRESS).
    flags.append("--disable=traefik")
    mask = node_cidr_mask(member.max_pods)
    if mask != DEFAULT_NODE_CIDR_MASK:  # else maxPods past ~250 fail: no pod address left
        flags.append(f"--kube-controller-manager-arg=node-cidr-mask-size={mask}")
    try:
        major, minor, _ = k3s_release(member.k3s_version)
    except ValueError as exc:
        raise ConfigError(f"k3s_version: {exc}") from None
    if (major, minor) < KUBELET_DROPIN_SINCE:
        flags += [
            f"--kubelet-arg=max-pods={member.max_pods}",
            f"--kubelet-arg=image-gc-high-threshold={member.image_gc_high_percent}",
            f"--kubelet-arg=image-gc-low-threshold={member.image_gc_low_percent}",
        ]
    return flags


def registries_yaml(member: MemberConfig, public_ip: str) -> str:
    """k3s's ``registries.yaml``: the in-cluster registry over HTTP (none otherwise)."""
    if not uses_in_cluster_registry(member):
        return "mirrors: {}\n"
    registry = in_cluster_registry(public_ip)
    return f'mirrors:\n  "{registry}":\n    endpoint:\n      - "http://{registry}"\n'


def check_user_data_size(user_data: str) -> None:
    size = len(user_data.encode())
    if size > MAX_USER_DATA_BYTES:
        raise ConfigError(
            f"the rendered cloud-init user data is {size} bytes; Hetzner accepts at most "
            f"{MAX_USER_DATA_BYTES} bytes (32 KiB)"
        )


def render_cloud_init(member: MemberConfig, public_ip: str) -> str:
    """The ``#cloud-config`` user data for ``member``'s server at ``public_ip``."""
    try:
        address = str(ipaddress.ip_address(public_ip))
    except ValueError:
        raise ConfigError(
            f"{public_ip[:60]!r} is not an IP address; the server's public IPv4 is needed"
        ) from None
    template = Template((assets_dir() / TEMPLATE_NAME).read_text(encoding="utf-8"))
    exec_flags = " ".join(k3s_server_flags(member, address))
    user_data = template.substitute(
        member=member.name,
        inotify_instances=INOTIFY_MAX_USER_INSTANCES,
        inotify_watches=INOTIFY_MAX_USER_WATCHES,
        max_pods=member.max_pods,
        image_gc_high=member.image_gc_high_percent,
        image_gc_low=member.image_gc_low_percent,
        registries_yaml=json.dumps(registries_yaml(member, address)),
        install_version=json.dumps(f"INSTALL_K3S_VERSION={member.k3s_version}"),
        install_exec=json.dumps(f"INSTALL_K3S_EXEC={exec_flags}"),
    )
    check_user_data_size(user_data)
    return user_data
