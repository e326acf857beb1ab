"""A simulated Hetzner server (Ubuntu 24.04, cloud-init, k3s) that answers over real SSH."""

from binderctl.demo.node.k3s import K3sCluster, K3sParams, K3sStarter
from binderctl.demo.node.machine import SimulatedNode
from binderctl.demo.node.settings import NodeFaults, NodeTimings

__all__ = ["K3sCluster", "K3sParams", "K3sStarter", "NodeFaults", "NodeTimings", "SimulatedNode"]
