"""The demo world's servers come alive: each server the Hetzner emulator runs becomes a
simulated node (SSH on its own loopback address) with k3s behind it."""

from __future__ import annotations

import asyncio

from binderctl.demo.cluster import ClusterFactory, memory_gib
from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.hetzner.events import ServerEvent, ServerInfo
from binderctl.demo.node.machine import SimulatedNode
from binderctl.demo.node.settings import NodeTimings


class Fleet:
    def __init__(
        self,
        hetzner: HetznerEmulator,
        clusters: ClusterFactory,
        ssh_port: int,
        timings: NodeTimings | None = None,
    ) -> None:
        self.clusters = clusters
        self.ssh_port = ssh_port
        self.timings = timings or NodeTimings()
        self.nodes: dict[int, SimulatedNode] = {}
        hooks = hetzner.hooks
        hooks.add(ServerEvent.RUNNING, self._running)
        hooks.add(ServerEvent.POWERED_ON, self._powered_on)
        hooks.add(ServerEvent.POWERED_OFF, self._off)
        hooks.add(ServerEvent.REBOOTED, self._rebooted)
        hooks.add(ServerEvent.DELETED, self._deleted)

    async def _running(self, server: ServerInfo) -> None:
        """A new server runs. A power-on or reboot also ends in RUNNING, after its own
        event has already booted the node: booting it again would bind SSH twice."""
        if server.id not in self.nodes:
            await self._powered_on(server)

    async def _powered_on(self, server: ServerInfo) -> None:
        node = self.nodes.get(server.id)
        if node is None:
            if server.ipv4 is None:
                return
            node = SimulatedNode(
                server.name,
                server.ipv4,
                server.user_data,
                server.ssh_public_keys,
                None,
                self.clusters,
                self.timings,
                memory_gib=memory_gib(server.server_type),
            )
            self.nodes[server.id] = node
        await node.start(self.ssh_port)

    async def _off(self, server: ServerInfo) -> None:
        node = self.nodes.get(server.id)
        if node is not None:
            await node.stop()

    async def _rebooted(self, server: ServerInfo) -> None:
        node = self.nodes.get(server.id)
        if node is not None:
            await node.reboot()

    async def _deleted(self, server: ServerInfo) -> None:
        node = self.nodes.pop(server.id, None)
        if node is not None:
            await node.stop()
            await self.clusters.stop(node.name)

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes.values()))
        self.nodes.clear()
        await self.clusters.stop()
