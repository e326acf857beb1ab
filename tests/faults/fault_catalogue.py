"""What can go wrong while a member is provisioned, drawn at random and armed on a world.

``draw(rng, ...)`` picks one to three faults: Hetzner API errors (500/502/503/504), a
429 with ``RateLimit-Reset``, an answer held beyond the client's timeout, a dropped
connection (before or after the request took effect), a server create action that ends
in ``error``, a slow API, on the node SSH connections refused or cut, a slow SSH
banner and a k3s that takes longer than usual, and on the member's Kubernetes API a
dropped request (before or after it took effect), slow answers, restarts of the API
server and a compacted watch history (410 Gone) while charts are applied and rolled out.
``FaultPlan.arm(world)`` sets the emulators' knobs, ``disarm()`` clears them for the
resume; every fault counts how often it actually hit.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from binderctl.demo.hetzner.events import ServerEvent, ServerInfo
from binderctl.demo.hetzner.faults import ScriptedFailure
from binderctl.demo.kube.server import Drop, KubeAPIServer
from binderctl.demo.node.machine import SimulatedNode
from binderctl.demo.world import DemoWorld
from tests.kit.worlds import on_loop

# The calls the pipeline makes to the Hetzner API (path below /v1, as a regex).
CALLS: tuple[tuple[str, str], ...] = (
    ("GET", "/server_types"),
    ("GET", "/images"),
    ("GET", "/ssh_keys"),
    ("POST", "/ssh_keys"),
    ("GET", "/firewalls"),
    ("POST", "/firewalls"),
    ("GET", "/primary_ips"),
    ("POST", "/primary_ips"),
    ("GET", "/servers"),
    ("POST", "/servers"),
    ("GET", r"/servers/\d+/actions"),
    ("GET", r"/actions/\d+"),
)
# The calls the charts and rollout steps make to the member's Kubernetes API.
KUBE_CALLS: tuple[tuple[str, str], ...] = (
    ("GET", r"/apis/helm\.cattle\.io/v1/namespaces/kube-system/helmcharts/.+"),
    ("POST", r"/apis/helm\.cattle\.io/v1/namespaces/kube-system/helmcharts"),
    ("PATCH", r"/apis/helm\.cattle\.io/v1/namespaces/kube-system/helmcharts/.+"),
    ("GET", r"/apis/apps/v1/.*"),
    ("GET", r"/apis/batch/v1/.*"),
    ("GET", r"/api/v1/.*"),
)
SERVER_ERRORS = (500, 502, 503, 504)
Kind = Literal[
    "http-5xx", "rate-limit", "timeout", "reset", "action-error", "slow-api",
    "ssh-refused", "ssh-cut", "slow-banner", "slow-k3s",
    "kube-drop", "kube-slow", "kube-restart", "kube-410",
]  # fmt: skip
HTTP_KINDS: tuple[Kind, ...] = ("http-5xx", "rate-limit", "timeout", "reset")
OTHER_KINDS: tuple[Kind, ...] = (
    "action-error", "slow-api", "ssh-refused", "ssh-cut", "slow-banner", "slow-k3s",
)  # fmt: skip
KUBE_KINDS: tuple[Kind, ...] = ("kube-drop", "kube-slow", "kube-restart", "kube-410")


@dataclass
class Fault:
    kind: Kind
    where: str

    def arm(self, world: DemoWorld) -> None:
        """Set the knob (on the emulators' loop)."""

    def on_node(self, node: SimulatedNode) -> None:
        """Called on the loop when the member's node is powered on, while armed."""

    def disarm(self, world: DemoWorld) -> None:
        """Clear the knob (on the emulators' loop)."""

    def hits(self, world: DemoWorld) -> int:
        raise NotImplementedError


@dataclass
class HttpFault(Fault):
    """One scripted failure of the Hetzner emulator (``faults.fail``)."""

    method: str = "GET"
    path: str = ""
    options: dict[str, object] = field(default_factory=dict)
    scripted: ScriptedFailure | None = None

    def arm(self, world: DemoWorld) -> None:
        self.scripted = world.hetzner.faults.fail(self.method, self.path, **self.options)

    def disarm(self, world: DemoWorld) -> None:
        if self.scripted in world.hetzner.faults.scripted:
            world.hetzner.faults.scripted.remove(self.scripted)

    def hits(self, world: DemoWorld) -> int:
        s = self.scripted
        return 0 if s is None else max(0, min(s.seen - s.nth + 1, s.times))


@dataclass
class ActionFault(Fault):
    """Every ``create_server`` action ends in ``error`` (the server is left off)."""

    def arm(self, world: DemoWorld) -> None:
        world.hetzner.faults.failing_actions.add("create_server")

    def disarm(self, world: DemoWorld) -> None:
        world.hetzner.faults.failing_actions.discard("create_server")

    def hits(self, world: DemoWorld) -> int:
        actions = world.hetzner.project.actions.values()
        return sum(1 for a in actions if a.command == "create_server" and a.status == "error")


@dataclass
class SlowApi(Fault):
    latency: float = 0.1

    def arm(self, world: DemoWorld) -> None:
        world.hetzner.faults.latency = self.latency

    def disarm(self, world: DemoWorld) -> None:
        world.hetzner.faults.latency = 0.0

    def hits(self, world: DemoWorld) -> int:
        return 1


CUT_EVERY = 0.05  # seconds between looks for open SSH connections to cut
# node fault kind -> the ``NodeFaults`` knob it sets ("ssh-cut" calls drop_connections)
NODE_KNOBS = {
    "ssh-refused": "drop_new_connections",
    "slow-banner": "banner_delay",
    "slow-k3s": "k3s_start_delay",
}


@dataclass
class NodeFault(Fault):
    """A fault of the member's simulated node, set when the node powers on."""

    amount: float = 0.0
    nodes: list[SimulatedNode] = field(default_factory=list)
    fired: int = 0
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def on_node(self, node: SimulatedNode) -> None:
        self.nodes.append(node)
        if self.kind == "ssh-cut":
            self._cut_later(node)
        elif self.kind == "ssh-refused":
            node.faults.drop_new_connections = int(self.amount)
        else:
            setattr(node.faults, NODE_KNOBS[self.kind], self.amount)

    def _cut_later(self, node: SimulatedNode) -> None:
        self.timers.append(asyncio.get_running_loop().call_later(CUT_EVERY, self._cut, node))

    def _cut(self, node: SimulatedNode) -> None:
        """Cut the open connections once some are open, ``amount`` times in all."""
        if node.drop_connections():
            self.fired += 1
        if self.fired < self.amount:
            self._cut_later(node)

    def disarm(self, world: DemoWorld) -> None:
        for timer in self.timers:
            timer.cancel()
        for node in self.nodes:
            if self.kind == "ssh-refused":
                self.fired += int(self.amount) - node.faults.drop_new_connections
                node.faults.drop_new_connections = 0
            elif self.kind != "ssh-cut":
                self.fired += 1
                setattr(node.faults, NODE_KNOBS[self.kind], 0.0)
        self.nodes.clear()

    def hits(self, world: DemoWorld) -> int:
        return self.fired


@dataclass
class KubeFault(Fault):
    """A fault of the member's Kubernetes API server, set once k3s is up on the node."""

    amount: float = 0.0
    method: str = ""
    path: str = ""
    after: bool = True
    drop: Drop | None = None
    servers: list[KubeAPIServer] = field(default_factory=list)
    fired: int = 0
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    def on_node(self, node: SimulatedNode) -> None:
        self._later(self._when_up, node)

    def _later(self, step: Callable[[SimulatedNode], None], node: SimulatedNode) -> None:
        self.timers.append(asyncio.get_running_loop().call_later(CUT_EVERY, step, node))

    def _when_up(self, node: SimulatedNode) -> None:
        cluster = node.k3s.cluster
        if cluster is None:
            self._later(self._when_up, node)
            return
        server = cluster.server
        self.servers.append(server)
        if self.kind == "kube-drop":
            self.drop = server.faults.drop(
                self.method, self.path, after=self.after, times=int(self.amount)
            )
        elif self.kind == "kube-slow":
            server.faults.latency = self.amount
        else:
            self._later(self._strike, node)

    def _strike(self, node: SimulatedNode) -> None:
        """Restart the API server (or compact its history and drop the watches) once a
        client has a watch open, ``amount`` times in all."""
        server = self.servers[-1]
        if server.open_streams:
            if self.kind == "kube-410":
                server.faults.compact()
                server.faults.drop_watches()
            else:
                asyncio.get_running_loop().create_task(server.faults.restart())
            self.fired += 1
        if self.fired < self.amount:
            self._later(self._strike, node)

    def disarm(self, world: DemoWorld) -> None:
        for timer in self.timers:
            timer.cancel()
        for server in self.servers:
            if self.kind == "kube-slow":
                self.fired += server.faults.delayed  # the requests it held back
                server.faults.latency, server.faults.delayed = 0.0, 0
            if self.drop in server.faults.drops:
                server.faults.drops.remove(self.drop)
        self.servers.clear()

    def hits(self, world: DemoWorld) -> int:
        if self.drop is not None:
            return min(self.drop.seen, self.drop.times)
        return self.fired


def _kube(rng: random.Random, kind: Kind) -> KubeFault:
    if kind == "kube-drop":
        method, path = rng.choice(KUBE_CALLS)
        times = rng.randint(1, 3)
        after = method != "GET" and rng.random() < 0.5
        when = " after it took effect" if after else ""
        where = f"Kubernetes {method} {path} dropped x{times}{when}"
        return KubeFault(kind, where, float(times), method, path, after)
    if kind == "kube-slow":
        latency = round(rng.uniform(0.05, 0.3), 2)
        return KubeFault(kind, f"every Kubernetes answer {latency}s late", latency)
    times = rng.randint(1, 3)
    what = "API server restarted" if kind == "kube-restart" else "watch history compacted"
    return KubeFault(kind, f"Kubernetes {what} {times} times during watches", float(times))


def _http(rng: random.Random, kind: Kind, timeout: float | None) -> HttpFault:
    method, path = rng.choice(CALLS)
    nth = rng.randint(1, 2)
    options: dict[str, object] = {"nth": nth, "after": method == "POST" and rng.random() < 0.5}
    if kind == "http-5xx":
        status = rng.choice(SERVER_ERRORS)
        options.update(status=status, times=rng.choice((1, 2, 6)))
        label = str(status)
    elif kind == "rate-limit":
        options.update(status=429, times=rng.choice((1, 3, 6)))
        label = "429"
    elif kind == "timeout":
        assert timeout is not None
        # held past the client's read timeout; the effect (if any) happens first
        options.update(status=None, delay=timeout + 0.5, after=True, times=rng.choice((1, 6)))
        label = "timeout"
    else:
        options.update(reset=True)
        label = "reset"
    when = " after it took effect" if options["after"] else ""
    where = f"{label} on {method} {path} #{nth} x{options.get('times', 1)}{when}"
    return HttpFault(kind, where, method, path, options)


def _other(rng: random.Random, kind: Kind) -> Fault:
    if kind == "action-error":
        return ActionFault(kind, "create_server ends in error")
    if kind == "slow-api":
        latency = round(rng.uniform(0.05, 0.3), 2)
        return SlowApi(kind, f"every answer {latency}s late", latency)
    amount = {
        "ssh-refused": float(rng.randint(1, 5)),
        "ssh-cut": float(rng.randint(1, 3)),
        "slow-banner": round(rng.uniform(0.5, 2.0), 2),
        "slow-k3s": round(rng.uniform(1.0, 6.0), 1),
    }[kind]
    where = {
        "ssh-refused": f"next {int(amount)} SSH connections reset",
        "ssh-cut": f"open SSH connections cut {int(amount)} times",
        "slow-banner": f"SSH banner {amount}s late",
        "slow-k3s": f"k3s starts {amount}s late",
    }[kind]
    return NodeFault(kind, where, amount)


class FaultPlan:
    """The faults of one run; arming, disarming and counting run on the emulators' loop."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        self._world: DemoWorld | None = None

    def describe(self) -> str:
        return "; ".join(f.where for f in self.faults)

    def arm(self, world: DemoWorld) -> None:
        def arm() -> None:
            world.hetzner.hooks.add(ServerEvent.RUNNING, self._running)
            for fault in self.faults:
                fault.arm(world)
            self._world = world

        on_loop(world, arm)

    async def _running(self, server: ServerInfo) -> None:
        world = self._world
        node = world.fleet.nodes.get(server.id) if world and world.fleet else None
        if node is not None:
            for fault in self.faults:
                fault.on_node(node)

    def disarm(self, world: DemoWorld) -> None:
        def disarm() -> None:
            self._world = None
            for fault in self.faults:
                fault.disarm(world)

        on_loop(world, disarm)

    def hits(self, world: DemoWorld) -> dict[Kind, int]:
        def count() -> dict[Kind, int]:
            counts: dict[Kind, int] = {}
            for fault in self.faults:
                counts[fault.kind] = counts.get(fault.kind, 0) + fault.hits(world)
            return counts

        return on_loop(world, count)


def draw(rng: random.Random, *, client_timeout: float | None) -> FaultPlan:
    """One to three faults; ``client_timeout`` None leaves out held answers (the CLI's
    client waits a minute, too long for a campaign)."""
    kinds: list[Kind] = [*HTTP_KINDS, *OTHER_KINDS, *KUBE_KINDS]
    if client_timeout is None:
        kinds.remove("timeout")
    chosen = [rng.choice(kinds) for _ in range(rng.randint(1, 3))]
    return FaultPlan([_fault(rng, kind, client_timeout) for kind in chosen])


def _fault(rng: random.Random, kind: Kind, client_timeout: float | None) -> Fault:
    if kind in HTTP_KINDS:
        return _http(rng, kind, client_timeout)
    if kind in KUBE_KINDS:
        return _kube(rng, kind)
    return _other(rng, kind)
