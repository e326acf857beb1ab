"""What a drill reaches of the demo world: the member's k3s, its node, the federation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from binderctl.config import load_config
from binderctl.errors import BinderctlError

if TYPE_CHECKING:
    from binderctl.demo.cluster import EmulatedK3s
    from binderctl.demo.member.simulation import Member
    from binderctl.demo.node.machine import SimulatedNode
    from binderctl.demo.world import DemoWorld


class Scene:
    """Accessors used on the world's loop; each raises ``BinderctlError`` when the member
    is not up yet (a drill needs a provisioned member)."""

    def __init__(self, world: DemoWorld) -> None:
        self.world = world

    @property
    def pod_headroom(self) -> int:
        return load_config(self.world.config_path).federation.check.pod_headroom

    @property
    def cluster(self) -> EmulatedK3s:
        try:
            return self.world.cluster()
        except RuntimeError as exc:
            raise BinderctlError(str(exc)) from None

    @property
    def member(self) -> Member:
        return self.cluster.member

    @property
    def node(self) -> SimulatedNode:
        fleet = self.world.fleet
        name = self.cluster.params.node_name
        for node in fleet.nodes.values() if fleet else ():
            if node.name == name:
                return node
        raise BinderctlError(f"the demo member's node {name} is not running")
