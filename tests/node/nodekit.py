"""Helpers for the node tests: members with keys in tmp_path, simulated nodes on a loop thread."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from binderctl.config import MemberConfig, parse_config
from binderctl.demo.node import NodeFaults, NodeTimings, SimulatedNode
from binderctl.demo.node.starter import LocalK3sStarter
from binderctl.demo.runtime import LoopThread
from binderctl.paths import write_private
from binderctl.services.cloudinit import render_cloud_init

FAST = NodeTimings(boot=0.05, cloud_init=0.05, k3s_start=0.05)
TIMEOUT = 20.0


def make_member(tmp_path: Path, *, key: Path, port: int = 22, extra: str = "") -> MemberConfig:
    text = f"""
[members.alpha]
binder_host = "alpha.example.org"
ssh_allowed_cidrs = ["203.0.113.0/24"]
ssh_key = "{key}"
ssh_port = {port}
{extra}
"""
    return parse_config(tmp_path / "config.toml", text).member(None)


def write_key(directory: Path, algorithm: str = "ssh-ed25519", name: str = "id") -> Path:
    key = asyncssh.generate_private_key(algorithm, comment=f"{name}@test")
    path = directory / name
    write_private(path, key.export_private_key())
    path.with_name(f"{name}.pub").write_bytes(key.export_public_key())
    return path


def public_key(path: Path) -> str:
    return path.with_name(f"{path.name}.pub").read_text()


@dataclass
class World:
    loop: LoopThread
    starter: LocalK3sStarter
    nodes: list[SimulatedNode]

    def node(
        self,
        member: MemberConfig,
        *,
        user_data: str | None = None,
        authorized: list[str] | None = None,
        faults: NodeFaults | None = None,
    ) -> SimulatedNode:
        """A started node for ``member``, on a loopback address of its own, any free port."""
        ip = f"127.{random.randint(2, 254)}.{random.randint(0, 255)}.{random.randint(10, 250)}"
        node = SimulatedNode(
            "alpha-node",
            ip,
            render_cloud_init(member, ip) if user_data is None else user_data,
            authorized if authorized is not None else [public_key(member.ssh_key_path)],
            None,
            self.starter,
            FAST,
            faults=faults,
        )
        self.loop.run(node.start(0))
        self.nodes.append(node)
        return node
