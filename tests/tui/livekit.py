"""A running member for console tests: the Kubernetes emulator's control plane and API
server with the simulated member behind it, on a loop thread, and a kubeconfig for
binderctl where ``Kube(member)`` looks for it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from binderctl.config import MemberConfig
from binderctl.demo.kube import tls, types
from binderctl.demo.kube.controllers.plane import ControlPlane
from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.server import KubeAPIServer
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.simulation import Member, MemberOptions
from binderctl.demo.runtime import LoopThread
from binderctl.services.kube import kubeconfig_path

SPEED = 20.0
EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: where a frozen member's clock stands
CERT_END = EPOCH + 10 * 365 * 86400  # a frozen member's client certificate expires then


class LiveMember:
    def __init__(self, member: Member, store: Store, runtime: LoopThread, epoch: float) -> None:
        self.epoch = epoch  # wall time of the simulation's start
        self.member = member
        self.store = store
        self.runtime = runtime

    def pods(self, component: str) -> list[Obj]:
        def read() -> list[Obj]:
            return [
                p
                for p in self.store.list(types.PODS)
                if (p["metadata"].get("labels") or {}).get("component") == component
            ]

        return self.runtime.run(_call(read))

    def running_sessions(self) -> list[str]:
        return sorted(
            p["metadata"]["name"]
            for p in self.pods("singleuser-server")
            if (p.get("status") or {}).get("phase") == "Running"
        )

    def wait(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while not (result := check()):
            if time.monotonic() > deadline:
                raise AssertionError("the member never got there")
            time.sleep(0.05)
        return result


async def _call(function: Callable[[], Any]) -> Any:
    return function()


@contextmanager
def live_member(
    config: MemberConfig,
    *,
    sessions: int = 12,
    seed: int = 7,
    frozen: bool = False,
    **options: Any,
) -> Iterator[LiveMember]:
    """A member with ``sessions`` running; ``frozen`` stops simulated time after the start
    (for snapshots: the same seed gives the same cluster, stamped from ``epoch``)."""
    runtime = LoopThread("tui-member")
    store = Store()
    epoch = EPOCH if frozen else time.time()
    clock = SimClock(SPEED, epoch=epoch, source=(lambda: 0.0) if frozen else time.monotonic)
    options.setdefault("launches_per_minute", 0.0)
    member = Member(
        store,
        MemberOptions(sessions=sessions, quota=config.launch_quota, **options),
        seed=seed,
        clock=clock,
    )
    plane = ControlPlane(store, speed=SPEED, rng=random.Random(seed))
    lifetime = timedelta(seconds=CERT_END - time.time()) if frozen else tls.LEAF_LIFETIME
    credentials = tls.generate(ips=["127.0.0.1"], client_lifetime=lifetime)
    server = KubeAPIServer(
        store, member.logs, member.metrics, credentials=credentials, rng=random.Random(seed)
    )

    async def start() -> str:
        await plane.start()
        member.start()
        if frozen:
            member.advance(120)
        return await server.start()

    async def stop() -> None:
        await server.close_connections()
        await member.stop()
        await plane.stop()

    url = runtime.run(start())
    write_kubeconfig(kubeconfig_path(config.name), credentials, url)
    live = LiveMember(member, store, runtime, epoch)
    try:
        live.wait(lambda: len(live.running_sessions()) >= sessions)
        yield live
    finally:
        runtime.run(stop())
        runtime.stop()
