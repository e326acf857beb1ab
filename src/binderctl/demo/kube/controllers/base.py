"""What every controller shares: a queue of keys to reconcile, fed by store events and
timers, worked by one task; reconciling is synchronous, so it is atomic on the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from binderctl.demo.kube.events import Source
from binderctl.demo.kube.podutil import controller_of
from binderctl.demo.kube.store import Obj, StoreError, WatchEvent

if TYPE_CHECKING:
    from binderctl.demo.kube.controllers.plane import ControlPlane

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
Key = tuple[str, str]  # (namespace, name)


def key_of(obj: Obj) -> Key:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def controller_keys(event: WatchEvent, kind: str) -> list[Key]:
    """The (namespace, name) of the ``kind`` controlling the object, before and after."""
    keys = []
    for obj in (event.obj, event.old):
        if obj is None:
            continue
        ref = controller_of(obj)
        if ref is not None and ref.get("kind") == kind:
            keys.append((obj["metadata"].get("namespace", ""), ref["name"]))
    return keys


class Controller(Generic[K]):
    name = "controller"

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.store = plane.store
        self.source = Source(self.name)  # what its events name as their source
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._pending: set[K] = set()

    def enqueue(self, key: K) -> None:
        if key not in self._pending:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def enqueue_after(self, seconds: float, key: K) -> None:
        """Reconcile ``key`` again after ``seconds`` of simulated time."""
        self.plane.later(seconds, lambda: self.enqueue(key))

    def on_event(self, event: WatchEvent) -> None:
        raise NotImplementedError

    def resync(self) -> None:
        """Queue everything this controller looks after (start, like an informer's list)."""
        raise NotImplementedError

    def reconcile(self, key: K) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        while True:
            key = await self._queue.get()
            self._pending.discard(key)
            try:
                self.reconcile(key)
            except StoreError as err:
                log.debug("%s: %s: %s (retrying)", self.name, key, err.message)
                self.enqueue_after(1.0, key)
            except Exception:
                log.exception("%s: reconciling %s failed", self.name, key)
