"""services/node.py through real asyncssh against the simulated node."""

from __future__ import annotations

import base64
import datetime
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest
import yaml
from kubernetes import config as kube_config

from binderctl.config import MemberConfig
from binderctl.demo.node import NodeFaults
from binderctl.demo.node.k3s import K3S_YAML
from binderctl.errors import BinderctlError, ConfigError
from binderctl.paths import write_private
from binderctl.services.node import (
    HostKeyChanged,
    Node,
    NodeAuthError,
    NodeUnreachable,
    check_ssh_key,
    forget_host_key,
    known_hosts_path,
)
from tests.node.nodekit import TIMEOUT, World, make_member, public_key, write_key

Client = Callable[..., Node]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ready(client: Node) -> None:
    client.wait_for_ssh(TIMEOUT)
    assert client.wait_for_cloud_init(TIMEOUT) == "done"
    client.wait_for_k3s(TIMEOUT)


@pytest.mark.parametrize("algorithm", ["ssh-ed25519", "ssh-rsa"])
def test_from_boot_to_a_kubeconfig_for_the_member(
    world: World, tmp_path: Path, client_for: Client, home: Path, algorithm: str
) -> None:
    member = make_member(tmp_path, key=write_key(tmp_path, algorithm))
    node = world.node(member)
    client = client_for(member, node)
    assert client.wait_for_ssh(TIMEOUT) == node.host_key_fingerprint
    assert client.wait_for_cloud_init(TIMEOUT) == "done"
    client.wait_for_k3s(TIMEOUT)
    result = client.fetch_kubeconfig()

    assert result.path == home / "data" / "alpha" / "kubeconfig"
    assert mode(result.path) == 0o600
    assert mode(result.path.parent) == 0o700
    doc = yaml.safe_load(result.path.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == f"https://{node.ip}:6443"
    assert [c["name"] for c in doc["clusters"]] == [u["name"] for u in doc["users"]] == ["alpha"]
    assert doc["contexts"] == [{"name": "alpha", "context": {"cluster": "alpha", "user": "alpha"}}]
    assert doc["current-context"] == "alpha"
    api = kube_config.new_client_from_config(config_file=str(result.path))
    assert api.configuration.host == f"https://{node.ip}:6443"
    one_year = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365)
    assert abs(result.expires - one_year) < datetime.timedelta(hours=1)


def test_host_key_pinned_on_first_contact(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    client_for(member, node).wait_for_ssh(TIMEOUT)
    path = known_hosts_path(member)
    algorithm, data = node.host_key.export_public_key().decode().split()[:2]
    assert path.read_text() == f"[{node.ip}]:{node.port} {algorithm} {data}\n"
    assert mode(path) == 0o600


def test_changed_host_key_refused_until_forgotten_deliberately(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    old = client.wait_for_ssh(TIMEOUT)
    world.loop.run(node.rebuild())
    with pytest.raises(HostKeyChanged) as refused:
        client.wait_for_ssh(TIMEOUT)
    text = str(refused.value)
    assert f"the SSH host key of {node.ip}:{node.port} has changed" in text
    assert f"pinned {old}, offered {node.host_key_fingerprint}" in text
    assert "binderctl node forget-host-key --member alpha" in text

    pinned = replace(member, ssh_port=node.port)
    assert forget_host_key(pinned, node.ip)
    assert not forget_host_key(pinned, node.ip)
    assert client.wait_for_ssh(TIMEOUT) == node.host_key_fingerprint
    assert (
        node.host_key.export_public_key().decode().split()[1]
        in known_hosts_path(member).read_text()
    )


def test_a_pinned_key_of_a_type_the_server_no_longer_offers_is_a_change(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    rsa = asyncssh.generate_private_key("ssh-rsa").export_public_key().decode()
    write_private(known_hosts_path(member), f"[{node.ip}]:{node.port} {rsa}")
    with pytest.raises(HostKeyChanged, match="offered a key of another type"):
        client_for(member, node).wait_for_ssh(TIMEOUT)


def test_accepting_a_new_host_key_on_request_repins_it(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    client_for(member, node).wait_for_ssh(TIMEOUT)
    world.loop.run(node.rebuild())
    accepting = client_for(member, node, accept_new_host_key=True)
    assert accepting.wait_for_ssh(TIMEOUT) == node.host_key_fingerprint
    assert client_for(member, node).wait_for_ssh(TIMEOUT) == node.host_key_fingerprint
    assert len(known_hosts_path(member).read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda key: key.unlink(), r"the SSH private key .*/id does not exist"),
        (lambda key: (key.unlink(), key.mkdir()), r"the SSH key .*/id is a directory"),
        (lambda key: key.write_text("not a key\n"), r".*/id is not a private key binderctl"),
        (lambda key: key.with_name("id.pub").write_text("ssh-ed25519 AAAA\n"), r"not an OpenSSH"),
        (
            lambda key: key.with_name("id.pub").write_text(
                public_key(write_key(key.parent, name="o"))
            ),
            r"id.pub does not belong to the private key",
        ),
    ],
    ids=["missing", "directory", "garbage", "bad public key", "mismatched public key"],
)
def test_unusable_key_is_a_clear_error_before_any_connection(
    world: World,
    member: MemberConfig,
    client_for: Client,
    prepare: Callable[[Path], object],
    message: str,
) -> None:
    node = world.node(member)
    prepare(member.ssh_key_path)
    with pytest.raises(ConfigError, match=message):
        check_ssh_key(member)
    with pytest.raises(ConfigError, match=message):
        client_for(member, node).wait_for_ssh(TIMEOUT)
    assert not known_hosts_path(member).exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_key(member: MemberConfig) -> None:
    member.ssh_key_path.chmod(0)
    with pytest.raises(ConfigError, match=r"cannot read the SSH private key .*Permission denied"):
        check_ssh_key(member)


def test_key_path_through_a_file_cannot_be_read(member: MemberConfig, tmp_path: Path) -> None:
    beyond = make_member(tmp_path, key=member.ssh_key_path / "id")
    with pytest.raises(ConfigError, match=r"cannot read the SSH private key .*Not a directory"):
        check_ssh_key(beyond)


def test_a_key_the_server_does_not_know_is_refused_by_name(
    world: World, member: MemberConfig, tmp_path: Path, client_for: Client
) -> None:
    node = world.node(member)
    stranger = make_member(tmp_path, key=write_key(tmp_path, name="stranger"))
    fingerprint = check_ssh_key(stranger).fingerprint
    refused = rf"does not accept key .*/stranger \({re.escape(fingerprint)}\) for root"
    with pytest.raises(NodeAuthError, match=refused):
        client_for(stranger, node).wait_for_ssh(TIMEOUT)


def test_nothing_listening_is_unreachable_with_the_reason(
    member: MemberConfig, client_for: Client, world: World
) -> None:
    node = world.node(member)
    world.loop.run(node.stop())
    with pytest.raises(NodeUnreachable, match=r"did not become reachable .*refused"):
        client_for(member, node).wait_for_ssh(0.3)


def test_dropped_connections_are_retried(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member, faults=NodeFaults(drop_new_connections=3))
    client_for(member, node).wait_for_ssh(TIMEOUT)
    assert node.faults.drop_new_connections == 0


def test_a_banner_that_never_comes_times_out(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member, faults=NodeFaults(banner_delay=60))
    client = client_for(member, node, connect_timeout=0.2)
    with pytest.raises(NodeUnreachable, match=r"no SSH answer from .* within"):
        client.wait_for_ssh(0.5)


def test_cloud_init_timeout_shows_the_last_lines_of_its_log(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member, faults=NodeFaults(k3s_start_delay=60))
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    with pytest.raises(BinderctlError) as timed_out:
        client.wait_for_cloud_init(0.5)
    text = str(timed_out.value)
    assert "did not finish within" in text
    assert "the last lines of /var/log/cloud-init-output.log:" in text
    assert "  | [INFO]  systemd: Starting k3s" in text


def test_k3s_timeout_shows_its_journal(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member, faults=NodeFaults(k3s_start_delay=60))
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    with pytest.raises(BinderctlError) as timed_out:
        client.wait_for_k3s(0.5)
    assert "k3s on" in str(timed_out.value) and "is activating after" in str(timed_out.value)
    assert "systemd[1]: Starting k3s.service - Lightweight Kubernetes..." in str(timed_out.value)


def test_failed_k3s_fails_cloud_init_and_k3s_with_the_logs(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member, faults=NodeFaults(k3s_start_fails=True))
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    with pytest.raises(BinderctlError) as cloud_init:
        client.wait_for_cloud_init(TIMEOUT)
    text = str(cloud_init.value)
    assert "ended error - done" in text and "Runparts: 1 failures (runcmd)" in text
    assert "  | Job for k3s.service failed because the control process exited" in text
    with pytest.raises(BinderctlError) as k3s:
        client.wait_for_k3s(TIMEOUT)
    assert "failed; the last lines of its journal" in str(k3s.value)
    assert "bind: address already in use" in str(k3s.value)


def test_broken_user_data_fails_the_cloud_init_wait(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member, user_data="#cloud-config\nruncmd: [unclosed\n")
    client = client_for(member, node)
    client.wait_for_ssh(TIMEOUT)
    with pytest.raises(
        BinderctlError, match="ended degraded done:\n  - WARNING: Failed loading yaml"
    ):
        client.wait_for_cloud_init(TIMEOUT)


def test_disk_usage_and_image_prune(world: World, member: MemberConfig, client_for: Client) -> None:
    node = world.node(member)
    client = client_for(member, node)
    ready(client)
    cluster = world.starter.clusters[0]
    unused = cluster.unused_image_bytes
    before = client.disk_usage()
    assert (before.mount, before.total) == ("/", cluster.disk_total)
    assert before.used == cluster.used_by_system + unused
    pruned = client.prune_images()
    assert (pruned.images_removed, pruned.bytes_freed) == (3, unused)
    assert pruned.disk.used == cluster.used_by_system
    again = client.prune_images()
    assert (again.images_removed, again.bytes_freed) == (0, 0)


def test_certificate_rotation_gives_a_fresh_kubeconfig(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    ready(client)
    first = client.fetch_kubeconfig()
    rotated = client.rotate_certificates(TIMEOUT)
    assert rotated.path == first.path and mode(rotated.path) == 0o600
    assert rotated.certificate_sha256 != first.certificate_sha256
    cluster = world.starter.clusters[0]
    assert (cluster.rotations, cluster.restarts, cluster.running) == (1, 1, True)
    journal = client.run("journalctl -u k3s --no-pager").stdout
    assert "Stopped k3s.service" in journal
    assert journal.index("Stopped k3s.service") < journal.rindex("Started k3s.service")


def test_sysctls_from_sysctl_d_survive_a_reboot_and_sysctl_w_does_not(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    ready(client)
    names = ["fs.inotify.max_user_watches", "fs.inotify.max_user_instances"]
    client.run("sysctl -w fs.inotify.max_queued_events=32768")
    client.reboot(TIMEOUT)
    values = client.sysctl([*names, "fs.inotify.max_queued_events"])
    assert values == {
        "fs.inotify.max_user_watches": "524288",
        "fs.inotify.max_user_instances": "8192",
        "fs.inotify.max_queued_events": "16384",
    }
    assert world.starter.clusters[0].restarts == 1
    assert "\n-- Boot " in client.run("journalctl -u k3s --no-pager").stdout


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[str]:
    tools = [shutil.which(name) for name in ("ssh-agent", "ssh-add", "ssh-keygen")]
    if None in tools:
        pytest.skip("OpenSSH's ssh-agent, ssh-add and ssh-keygen are needed")
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(socket_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not socket_path.exists():
            if agent.poll() is not None:
                pytest.skip("ssh-agent did not start")
        yield str(socket_path)
    finally:
        agent.terminate()
        agent.wait()


def encrypted_key(directory: Path) -> Path:
    path = directory / "enc"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "correct horse", "-C", "enc", "-f", str(path)],
        check=True,
    )
    return path


def ssh_add(agent: str, key: Path) -> None:
    askpass = key.with_name("askpass.sh")
    askpass.write_text("#!/bin/sh\necho 'correct horse'\n")
    askpass.chmod(0o700)
    env = {**os.environ, "SSH_AUTH_SOCK": agent, "SSH_ASKPASS": str(askpass)}
    env.update(SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    subprocess.run(["ssh-add", str(key)], env=env, stdin=subprocess.DEVNULL, check=True,
                   capture_output=True)  # fmt: skip


def test_encrypted_key_is_used_through_ssh_agent(
    world: World, tmp_path: Path, client_for: Client, ssh_agent: str
) -> None:
    member = make_member(tmp_path, key=encrypted_key(tmp_path))
    assert check_ssh_key(member).encrypted
    node = world.node(member)
    with pytest.raises(ConfigError, match="is encrypted and no ssh-agent is running") as no_agent:
        client_for(member, node, agent_path="").wait_for_ssh(TIMEOUT)
    assert f"ssh-add {member.ssh_key_path}" in str(no_agent.value)
    with pytest.raises(ConfigError, match="is encrypted and ssh-agent does not hold it"):
        client_for(member, node, agent_path=ssh_agent).wait_for_ssh(TIMEOUT)
    ssh_add(ssh_agent, member.ssh_key_path)
    client = client_for(member, node, agent_path=ssh_agent)
    assert client.wait_for_ssh(TIMEOUT) == node.host_key_fingerprint


def test_encrypted_key_without_its_public_half(tmp_path: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is needed to make an encrypted OpenSSH key")
    key = encrypted_key(tmp_path)
    key.with_name("enc.pub").unlink()
    with pytest.raises(ConfigError, match=r"is encrypted and its public key .*enc\.pub is missing"):
        check_ssh_key(make_member(tmp_path, key=key))


def test_kubeconfig_contents_never_leak(
    world: World, member: MemberConfig, client_for: Client
) -> None:
    node = world.node(member)
    client = client_for(member, node)
    ready(client)
    result = client.fetch_kubeconfig()
    stored = yaml.safe_load(result.path.read_text())
    key_data = stored["users"][0]["user"]["client-key-data"]
    private = base64.b64decode(key_data).decode()
    assert "PRIVATE KEY" in private
    for text in (repr(result), str(result), known_hosts_path(member).read_text()):
        assert key_data not in text and private not in text

    async def corrupt() -> None:
        node.fs.write(K3S_YAML, f"users: [{{token: {key_data}}}\n  bad: [", mode=0o600)

    world.loop.run(corrupt())
    with pytest.raises(BinderctlError) as broken:
        client.fetch_kubeconfig()
    assert "is not valid YAML" in str(broken.value)
    assert key_data not in str(broken.value) and broken.value.__cause__ is None
