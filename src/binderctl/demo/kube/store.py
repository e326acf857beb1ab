"""The object store behind the Kubernetes API emulator.

Objects are plain JSON dicts as the API serves them. Every write bumps one global
``resourceVersion`` counter, is appended to a bounded event history (too old a version
to watch from gives ``Gone``, like etcd compaction), and is pushed to the watchers and
to the listeners (the simulated member reacts to API writes through them).

Everything runs on one asyncio loop, so there is no locking.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    )  # fmt: skip
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # e.g. "status", "scale", "log", "eviction"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def singular(self) -> str:
        return self.kind.lower()


class StoreError(Exception):
    """An API error: HTTP code, Kubernetes ``reason`` and message."""

    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}


def not_found(rt: ResourceType, name: str) -> StoreError:
    resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    return StoreError(
        404,
        "NotFound",
        f'{resource} "{name}" not found',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


@dataclass
class WatchEvent:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    rt: ResourceType
    obj: Obj
    old: Obj | None = None  # the previous state, for MODIFIED events


@dataclass(eq=False)  # hashable by identity: the store keeps a set of them
class Watcher:
    rt: ResourceType
    namespace: str | None
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)

    def matches(self, event: WatchEvent) -> bool:
        if event.rt.key != self.rt.key:
            return False
        ns = event.obj["metadata"].get("namespace")
        return self.namespace is None or ns == self.namespace


Listener = Callable[[WatchEvent], None]


class Store:
    def __init__(self, history: int = 5000) -> None:
        self.types: dict[tuple[str, str], ResourceType] = {}
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._rv = 1
        self._history: deque[WatchEvent] = deque(maxlen=history)
        self._compacted_rv = 1
        self._watchers: set[Watcher] = set()
        self._listeners: list[Listener] = []

    # -- types -----------------------------------------------------------------------
    def register(self, rt: ResourceType) -> None:
        self.types[rt.key] = rt
        self._objects.setdefault(rt.key, {})

    def type_for(self, group: str, plural: str) -> ResourceType | None:
        return self.types.get((group, plural))

    # -- reads -----------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self._objects[rt.key].get((namespace or "", name))
        if obj is None:
            raise not_found(rt, name)
        return obj

    def find(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        return self._objects[rt.key].get((namespace or "", name))

    def list(self, rt: ResourceType, namespace: str | None = None) -> list[Obj]:
        objects = self._objects[rt.key]
        if namespace is None:
            return list(objects.values())
        return [o for (ns, _), o in objects.items() if ns == namespace]

    # -- writes ----------------------------------------------------------------------
    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _publish(self, kind: str, rt: ResourceType, obj: Obj, old: Obj | None = None) -> None:
        event = WatchEvent(int(obj["metadata"]["resourceVersion"]), kind, rt, obj, old)
        full = len(self._history) == self._history.maxlen
        self._history.append(event)
        if full:
            self._compacted_rv = self._history[0].resource_version - 1
        for watcher in list(self._watchers):
            if watcher.matches(event):
                watcher.queue.put_nowait(event)
        for listener in list(self._listeners):
            listener(event)

    def create(self, rt: ResourceType, obj: Obj) -> Obj:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name")
        if not name:
            raise StoreError(422, "Invalid", f"{rt.kind}: metadata.name: Required value")
        namespace = meta.get("namespace") if rt.namespaced else None
        if rt.namespaced and not namespace:
            raise StoreError(422, "Invalid", f"{rt.kind}: metadata.namespace: Required value")
        key = (namespace or "", name)
        if key in self._objects[rt.key]:
            resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
            raise StoreError(
                409,
                "AlreadyExists",
                f'{resource} "{name}" already exists',
                {"name": name, "group": rt.group, "kind": rt.plural},
            )
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_rfc3339())
        meta["generation"] = 1
        meta["resourceVersion"] = self._next_rv()
        self._objects[rt.key][key] = obj
        self._publish("ADDED", rt, obj)
        return obj

    def replace(self, rt: ResourceType, obj: Obj, *, check_version: bool = True) -> Obj:
        """Store ``obj`` in place of the existing object (optimistic concurrency)."""
        meta = obj.setdefault("metadata", {})
        namespace = meta.get("namespace") if rt.namespaced else None
        current = self.get(rt, namespace, meta.get("name", ""))
        wanted = meta.get("resourceVersion")
        if check_version and wanted and wanted != current["metadata"]["resourceVersion"]:
            raise StoreError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rt.plural} "{meta["name"]}": the object '
                "has been modified; please apply your changes to the latest version and try again",
            )
        for immutable in ("uid", "creationTimestamp"):
            meta[immutable] = current["metadata"][immutable]
        generation = current["metadata"].get("generation", 1)
        if obj.get("spec") != current.get("spec"):
            generation += 1
        meta["generation"] = generation
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        meta["resourceVersion"] = self._next_rv()
        self._objects[rt.key][(namespace or "", meta["name"])] = obj
        self._publish("MODIFIED", rt, obj, current)
        return obj

    def mutate(
        self, rt: ResourceType, namespace: str | None, name: str, change: Callable[[Obj], None]
    ) -> Obj:
        """Apply ``change`` to a copy of the object and store it (for the simulation)."""
        updated = copy.deepcopy(self.get(rt, namespace, name))
        change(updated)
        return self.replace(rt, updated, check_version=False)

    def delete(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.get(rt, namespace, name)
        del self._objects[rt.key][(namespace or "", name)]
        gone = copy.copy(obj)
        gone["metadata"] = {**obj["metadata"], "resourceVersion": self._next_rv()}
        self._publish("DELETED", rt, gone)
        return gone

    # -- watching --------------------------------------------------------------------
    def watch(self, rt: ResourceType, namespace: str | None, since: int | None) -> Watcher:
        """A watcher fed with every change after ``since`` (None or 0: from now).

        Raises ``StoreError(410)`` when ``since`` is older than the retained history.
        """
        watcher = Watcher(rt, namespace)
        if since:
            if since < self._compacted_rv:
                raise StoreError(
                    410,
                    "Expired",
                    f"too old resource version: {since} ({self._compacted_rv})",
                )
            for event in self._history:
                if event.resource_version > since and watcher.matches(event):
                    watcher.queue.put_nowait(event)
        self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def compact(self) -> None:
        """Forget the event history, so any older resourceVersion gets 410 Gone."""
        self._history.clear()
        self._compacted_rv = self._rv

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def load(self, rt: ResourceType, objects: Iterable[Obj]) -> None:
        for obj in objects:
            self.create(rt, obj)
