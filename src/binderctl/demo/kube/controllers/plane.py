"""The control plane: the controllers of kube-controller-manager and kube-scheduler that
the emulator needs, driven by store listeners and running on the emulator loop.

``speed`` scales every delay (a grace period of 30 s passes in 30 / speed real seconds).
The node side (running containers, Ready conditions, container exits) is not here: the
simulated member's kubelet does it (see docs/internals.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.base import Controller
from binderctl.demo.kube.controllers.daemonsets import DaemonSetController
from binderctl.demo.kube.controllers.deployments import DeploymentController
from binderctl.demo.kube.controllers.disruption import DisruptionController
from binderctl.demo.kube.controllers.garbage import GarbageCollector
from binderctl.demo.kube.controllers.jobs import JobController
from binderctl.demo.kube.controllers.namespaces import NamespaceController
from binderctl.demo.kube.controllers.nodes import NodeTaintController
from binderctl.demo.kube.controllers.replicasets import ReplicaSetController
from binderctl.demo.kube.controllers.scheduler import Scheduler
from binderctl.demo.kube.controllers.termination import PodTerminator
from binderctl.demo.kube.events import EventRecorder
from binderctl.demo.kube.registry import Registry
from binderctl.demo.kube.store import Obj, ResourceType, Store, WatchEvent

Ref = tuple[tuple[str, str], str, str]  # (type key, namespace, name)


class OwnerIndex:
    """Which objects name which owner (by uid) in their ownerReferences."""

    def __init__(self) -> None:
        self._by_owner: dict[str, set[Ref]] = {}

    @staticmethod
    def _owners(obj: Obj | None) -> set[str]:
        if obj is None:
            return set()
        return {r["uid"] for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid")}

    def update(self, event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        ref: Ref = (event.rt.key, meta.get("namespace", ""), meta["name"])
        before = self._owners(event.old)
        after = set() if event.type == "DELETED" else self._owners(event.obj)
        if event.type == "DELETED":
            before |= self._owners(event.obj)
        for uid in before - after:
            refs = self._by_owner.get(uid)
            if refs is not None:
                refs.discard(ref)
                if not refs:
                    del self._by_owner[uid]
        for uid in after:
            self._by_owner.setdefault(uid, set()).add(ref)

    def dependents(self, uid: str) -> set[Ref]:
        return set(self._by_owner.get(uid, ()))


class ControlPlane:
    def __init__(
        self,
        store: Store,
        *,
        speed: float = 1.0,
        rng: random.Random | None = None,
        host: str = "k3s-server",
        now: Callable[[], float] = time.time,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        for rt in types.ALL:
            if store.type_for(rt.group, rt.plural) is None:
                store.register(rt)
        self.store = store
        self.speed = speed
        self.host = host  # where the control plane runs (the node's hostname on k3s)
        self.rng = rng or random.Random()
        self.registry = Registry(store, self.rng)
        self.owners = OwnerIndex()
        self.events = EventRecorder(store, now, self.later)  # ``now``: the events' time
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.scheduler = Scheduler(self)
        self.controllers: list[Controller] = [
            self.scheduler,
            ReplicaSetController(self),
            DeploymentController(self),
            DaemonSetController(self),
            JobController(self),
            GarbageCollector(self),
            PodTerminator(self),
            NamespaceController(self),
            NodeTaintController(self),
            DisruptionController(self),
        ]

    def later(self, seconds: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` after ``seconds`` of simulated time."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(handle)
            callback()

        handle = loop.call_later(max(0.0, seconds) / self.speed, fire)
        self._timers.add(handle)

    def owned(self, owner: Obj, rt: ResourceType) -> list[Obj]:
        """The objects of type ``rt`` whose ownerReferences name ``owner``."""
        found = []
        for key, namespace, name in self.owners.dependents(owner["metadata"].get("uid", "")):
            if key == rt.key:
                obj = self.store.find(rt, namespace or None, name)
                if obj is not None:
                    found.append(obj)
        return found

    def _dispatch(self, event: WatchEvent) -> None:
        self.owners.update(event)
        for controller in self.controllers:
            controller.on_event(event)

    async def start(self) -> None:
        for rt in list(self.store.types.values()):
            for obj in self.store.list(rt):
                self.owners.update(WatchEvent(0, "ADDED", rt, obj))
        self.store.add_listener(self._dispatch)
        for controller in self.controllers:
            controller.resync()
            self._tasks.append(asyncio.create_task(controller.run(), name=controller.name))

    async def stop(self) -> None:
        self.store.remove_listener(self._dispatch)
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
