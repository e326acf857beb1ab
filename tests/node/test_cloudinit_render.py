"""The cloud-init template: valid cloud-config with the files and commands a member needs."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from binderctl.config import MemberConfig, parse_config
from binderctl.errors import ConfigError
from binderctl.services.cloudinit import (
    MAX_USER_DATA_BYTES,
    check_user_data_size,
    render_cloud_init,
)

SCHEMA = json.loads((Path(__file__).parent / "data" / "schema-cloud-config-v1.json").read_text())
SYSCTL_FILE = "/etc/sysctl.d/99-binderhub-inotify.conf"
KUBELET_FILE = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-kubelet.conf"

CONFIGS = {
    "defaults (ccx63, k3s 1.31)": "",
    "small server, own thresholds": 'server_type = "cx22"\nimage_gc_high_percent = 70\n'
    "image_gc_low_percent = 50",
    "k3s 1.32 reads the drop-in": 'k3s_version = "v1.32.3+k3s1"\nmax_pods = 500',
    "k3s 2.0": 'k3s_version = "v2.0.0+k3s1"\nmax_pods = 12',
}


def member(extra: str) -> MemberConfig:
    text = f"""
[members.alpha]
binder_host = "alpha.example.org"
ssh_allowed_cidrs = ["203.0.113.0/24"]
{extra}
"""
    return parse_config(Path("config.toml"), text).member(None)


def rendered(config: MemberConfig, ip: str = "198.51.100.7") -> dict[str, Any]:
    text = render_cloud_init(config, ip)
    assert text.startswith("#cloud-config\n")
    assert len(text.encode()) < MAX_USER_DATA_BYTES
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def files(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["path"]: entry for entry in doc["write_files"]}


def k3s_install(doc: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The environment and `k3s server` flags of the install step (the last runcmd)."""
    argv = doc["runcmd"][-1]
    assert argv[0] == "env" and argv[-2:] == ["sh", "/root/k3s-install.sh"]
    env = dict(item.split("=", 1) for item in argv[1:-2])
    return env, shlex.split(env["INSTALL_K3S_EXEC"])


@pytest.mark.parametrize("extra", CONFIGS.values(), ids=CONFIGS.keys())
def test_valid_cloud_config_by_cloud_inits_own_schema(extra: str) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(rendered(member(extra)))


@pytest.mark.parametrize("extra", CONFIGS.values(), ids=CONFIGS.keys())
def test_kubelet_config_written_before_k3s_with_the_members_values(extra: str) -> None:
    config = member(extra)
    doc = rendered(config)
    kubelet = files(doc)[KUBELET_FILE]
    assert not kubelet.get("defer")
    assert yaml.safe_load(kubelet["content"]) == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "maxPods": config.max_pods,
        "imageGCHighThresholdPercent": config.image_gc_high_percent,
        "imageGCLowThresholdPercent": config.image_gc_low_percent,
    }


def test_inotify_sysctls_persist_in_sysctl_d_and_are_applied() -> None:
    doc = rendered(member(""))
    content = files(doc)[SYSCTL_FILE]["content"]
    settings = dict(line.replace(" ", "").split("=") for line in content.splitlines())
    assert settings == {
        "fs.inotify.max_user_instances": "8192",
        "fs.inotify.max_user_watches": "524288",
    }
    assert doc["runcmd"][0] == ["sysctl", "--system"]


def test_unattended_security_upgrades() -> None:
    doc = rendered(member(""))
    assert "unattended-upgrades" in doc["packages"]
    periodic = files(doc)["/etc/apt/apt.conf.d/20auto-upgrades"]["content"]
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic
    assert 'APT::Periodic::Update-Package-Lists "1";' in periodic


@pytest.mark.parametrize("extra", CONFIGS.values(), ids=CONFIGS.keys())
def test_k3s_installed_at_the_pinned_version_with_the_members_flags(extra: str) -> None:
    config = member(extra)
    doc = rendered(config, "198.51.100.7")
    download = doc["runcmd"][-2]
    assert download[0] == "curl" and download[-1] == "https://get.k3s.io"
    assert download[download.index("-o") + 1] == "/root/k3s-install.sh"
    env, flags = k3s_install(doc)
    assert env["INSTALL_K3S_VERSION"] == config.k3s_version
    assert flags[0] == "server"
    assert flags[flags.index("--tls-san") + 1] == "198.51.100.7"
    assert flags[flags.index("--write-kubeconfig-mode") + 1] == "0600"


def test_k3s_before_1_32_gets_the_kubelet_settings_as_flags_too() -> None:
    config = member('server_type = "cx22"\nk3s_version = "v1.31.4+k3s1"')
    _, flags = k3s_install(rendered(config))
    assert f"--kubelet-arg=max-pods={config.max_pods}" in flags
    assert "--kubelet-arg=image-gc-high-threshold=40" in flags
    assert "--kubelet-arg=image-gc-low-threshold=20" in flags


def test_k3s_from_1_32_reads_the_drop_in_and_gets_no_kubelet_flags() -> None:
    _, flags = k3s_install(rendered(member('k3s_version = "v1.32.3+k3s1"')))
    assert not [f for f in flags if f.startswith("--kubelet-arg")]


def test_not_an_ip_address_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"'alpha\.example\.org' is not an IP address"):
        render_cloud_init(member(""), "alpha.example.org")


def test_user_data_over_32_kib_is_refused_with_its_size() -> None:
    check_user_data_size("x" * MAX_USER_DATA_BYTES)
    with pytest.raises(ConfigError, match="is 32769 bytes; Hetzner accepts at most 32768"):
        check_user_data_size("x" * (MAX_USER_DATA_BYTES + 1))


def test_containerd_reaches_the_in_cluster_registry_at_the_node_address() -> None:
    """k3s reads registries.yaml at start: the NodePort registry over plain HTTP, at the
    address dind pushes to (binderhub's CI writes the same file for its registry)."""
    entry = files(rendered(member(""), "198.51.100.7"))["/etc/rancher/k3s/registries.yaml"]
    assert entry["permissions"] == "0600"
    assert yaml.safe_load(entry["content"]) == {
        "mirrors": {"198.51.100.7:30500": {"endpoint": ["http://198.51.100.7:30500"]}}
    }
    external = member('registry_url = "https://registry.example.org"')
    entry = files(rendered(external))["/etc/rancher/k3s/registries.yaml"]
    assert yaml.safe_load(entry["content"]) == {"mirrors": {}}


def test_bundled_traefik_is_disabled_for_the_members_own() -> None:
    _, flags = k3s_install(rendered(member("")))
    assert "--disable=traefik" in flags


@pytest.mark.parametrize(
    ("extra", "mask"),
    [("", 23), ('server_type = "cx22"', None), ("max_pods = 253", None),
     ("max_pods = 254", 23), ("max_pods = 4000", 20)],
)  # fmt: skip
def test_the_nodes_pod_range_holds_max_pods(extra: str, mask: int | None) -> None:
    """k3s gives a node a /24 (253 pod addresses) unless the controller manager is told
    a bigger mask when the node joins; a ccx63's max_pods (336) needs a /23."""
    _, flags = k3s_install(rendered(member(extra)))
    wanted = [] if mask is None else [f"--kube-controller-manager-arg=node-cidr-mask-size={mask}"]
    assert [f for f in flags if "node-cidr-mask-size" in f] == wanted
