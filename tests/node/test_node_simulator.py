"""The simulated node answers like a fresh Ubuntu 24.04 server with cloud-init and k3s.

Driven through services/node.py (asyncssh) and, as the outside check, OpenSSH's ``ssh``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from binderctl.config import MemberConfig
from binderctl.demo.node import NodeFaults
from binderctl.services.cloudinit import render_cloud_init
from binderctl.services.node import Node
from tests.node.nodekit import TIMEOUT, World, make_member, public_key, write_key

BROKEN = "#cloud-config\nwrite_files:\n  - path: /etc/x\n    content: [unclosed\n"


@pytest.mark.skipif(shutil.which("ssh") is None, reason="OpenSSH client (ssh) not installed")
def test_openssh_client_logs_in_as_root_with_the_authorized_key_only(
    world: World, member: MemberConfig, tmp_path: Path
) -> None:
    node = world.node(member)
    known_hosts = tmp_path / "openssh_known_hosts"

    def ssh(user: str, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "ssh", "-p", str(node.port), "-i", str(member.ssh_key_path),
                "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=accept-new",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "ConnectTimeout=10", "-o", "ConnectionAttempts=20",
                f"{user}@{node.ip}", command,
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )  # fmt: skip

    done = ssh("root", "cloud-init status --wait --long")
    assert done.returncode == 0, done.stderr
    assert "\nstatus: done\nextended_status: done\n" in done.stdout
    assert "detail: DataSourceHetzner\nerrors: []\nrecoverable_errors: {}\n" in done.stdout
    assert node.host_key.export_public_key().decode().split()[1] in known_hosts.read_text()
    refused = ssh("ubuntu", "true")
    assert refused.returncode == 255
    assert "Permission denied (publickey)" in refused.stderr


def test_status_while_k3s_is_still_starting(
    world: World, member: MemberConfig, client_for: Callable[..., Node]
) -> None:
    node = world.node(member, faults=NodeFaults(k3s_start_delay=60))
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    status = client.run("cloud-init status", check=False)
    assert (status.exit_status, status.stdout) == (0, "status: running\n")
    details = json.loads(client.run("cloud-init status --format json").stdout)
    assert details["status"] == details["extended_status"] == "running"
    assert details["detail"] == "DataSourceHetzner"
    state = client.run("systemctl is-active k3s", check=False)
    assert (state.exit_status, state.stdout) == (3, "activating\n")


def test_broken_user_data_degrades_cloud_init_and_installs_nothing(
    world: World, member: MemberConfig, client_for: Callable[..., Node]
) -> None:
    node = world.node(member, user_data=BROKEN)
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    status = client.run("cloud-init status --wait --long", check=False)
    assert status.exit_status == 2
    assert "status: done\nextended_status: degraded done\n" in status.stdout
    assert "recoverable_errors:\nWARNING:\n\t- Failed loading yaml blob. Invalid format" in (
        status.stdout
    )
    assert client.run("systemctl is-active k3s", check=False).stdout == "inactive\n"
    missing = client.run("k3s --version", check=False)
    assert (missing.exit_status, missing.stderr) == (127, "bash: line 1: k3s: command not found\n")
    assert world.starter.clusters == []


def test_failing_k3s_install_is_a_cloud_init_error(
    world: World, member: MemberConfig, client_for: Callable[..., Node]
) -> None:
    node = world.node(member, faults=NodeFaults(k3s_start_fails=True))
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    status = client.run("cloud-init status --wait --format json", check=False)
    details = json.loads(status.stdout)
    assert status.exit_status == 1
    assert (details["status"], details["extended_status"]) == ("error", "error - done")
    assert details["errors"] == [
        "('scripts_user', RuntimeError('Runparts: 1 failures (runcmd) in 1 attempted commands'))"
    ]
    assert client.run("systemctl is-active k3s", check=False).stdout == "failed\n"


@pytest.mark.parametrize("version", ["v1.31.4+k3s1", "v1.32.3+k3s1"])
def test_the_members_kubelet_settings_reach_k3s(
    world: World, tmp_path: Path, client_for: Callable[..., Node], version: str
) -> None:
    member = make_member(
        tmp_path,
        key=write_key(tmp_path),
        extra=f'k3s_version = "{version}"\nmax_pods = 420\nimage_gc_high_percent = 60\n'
        "image_gc_low_percent = 30",
    )
    node = world.node(member)
    client_for(member, node).wait_for_k3s(TIMEOUT)
    params = world.starter.clusters[0].params
    assert (params.version, params.max_pods) == (version, 420)
    assert (params.image_gc_high_percent, params.image_gc_low_percent) == (60, 30)
    assert (params.tls_sans, params.write_kubeconfig_mode) == ((node.ip,), "0600")


def test_k3s_before_1_32_ignores_the_drop_in_file(
    world: World, tmp_path: Path, client_for: Callable[..., Node]
) -> None:
    """Why the template passes kubelet flags to older k3s: without them, 110 pods."""
    member = make_member(
        tmp_path, key=write_key(tmp_path), extra='k3s_version = "v1.32.3+k3s1"\nmax_pods = 420'
    )
    ip_placeholder = "198.51.100.1"
    user_data = render_cloud_init(member, ip_placeholder).replace("v1.32.3+k3s1", "v1.31.4+k3s1")
    node = world.node(member, user_data=user_data)
    client_for(member, node).wait_for_k3s(TIMEOUT)
    assert world.starter.clusters[0].params.max_pods == 110


def test_commands_answer_as_on_ubuntu(
    world: World, member: MemberConfig, client_for: Callable[..., Node]
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    client.wait_for_k3s(TIMEOUT)
    assert client.run("uname -a").stdout.startswith("Linux alpha-node 6.8.0-")
    assert client.run("stat -c '%a %U:%G' /etc/rancher/k3s/k3s.yaml").stdout == "600 root:root\n"
    unknown = client.run("kubeadm init", check=False)
    assert (unknown.exit_status, unknown.stderr) == (
        127,
        "bash: line 1: kubeadm: command not found\n",
    )
    piped = client.run("cat /etc/rancher/k3s/k3s.yaml | head -1", check=False)
    assert piped.exit_status == 2 and "not supported" in piped.stderr
    journal = client.run("journalctl -u k3s -n 2 --no-pager").stdout.splitlines()
    assert journal[-1].endswith(
        " alpha-node systemd[1]: Started k3s.service - Lightweight Kubernetes."
    )
    assert 'level=info msg="k3s is up and running"' in journal[-2]
    df = client.run("df -B1 --output=size,used,avail,target /var/lib/rancher").stdout.splitlines()
    assert df[0].split() == ["1B-blocks", "Used", "Avail", "Mounted", "on"]
    missing = client.run("df -B1 --output=size /nonexistent", check=False)
    assert (missing.exit_status, missing.stderr) == (
        1,
        "df: /nonexistent: No such file or directory\n",
    )


def test_k3s_certificate_rotate_takes_effect_at_the_next_start(
    world: World, member: MemberConfig, client_for: Callable[..., Node]
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    client.wait_for_k3s(TIMEOUT)
    before = client.run("cat /etc/rancher/k3s/k3s.yaml").stdout
    rotate = client.run("k3s certificate rotate")
    assert "please restart k3s server or agent to rotate certificates" in rotate.stderr
    assert client.run("cat /etc/rancher/k3s/k3s.yaml").stdout == before
    client.run("systemctl restart k3s")
    assert client.run("cat /etc/rancher/k3s/k3s.yaml").stdout != before
    assert world.starter.clusters[0].rotations == 1


def test_only_the_authorized_keys_may_log_in(
    world: World, member: MemberConfig, tmp_path: Path, client_for: Callable[..., Node]
) -> None:
    other = write_key(tmp_path, name="other")
    node = world.node(member, authorized=[public_key(member.ssh_key_path), public_key(other)])
    client_for(make_member(tmp_path, key=other), node).wait_for_ssh(TIMEOUT)


def test_power_cycle_boots_the_same_disk_without_rerunning_the_user_data(
    world: World, member: MemberConfig, client_for: Callable[..., Node]
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    client.wait_for_k3s(TIMEOUT)
    fingerprint = node.host_key_fingerprint
    world.loop.run(node.stop())
    assert world.starter.clusters[0].running is False
    world.loop.run(node.start())
    assert client.wait_for_ssh(TIMEOUT) == fingerprint
    assert client.wait_for_cloud_init(TIMEOUT) == "done"
    client.wait_for_k3s(TIMEOUT)
    assert len(world.starter.clusters) == 1 and world.starter.clusters[0].running
    log = client.run("cat /var/log/cloud-init-output.log").stdout
    assert log.count(f"[INFO]  Using {member.k3s_version} as release") == 1
    assert log.count("running 'modules:final'") == 2
