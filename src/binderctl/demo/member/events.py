"""Kubernetes Events as the kubelet, the scheduler and controllers record them.

Repeats of the same (object, reason, message) within the TTL bump ``count`` and
``lastTimestamp`` of one Event, like the client-go event correlator. Events expire after
the API server's default TTL of one hour (simulated), and there are never more than
``limit`` of them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from binderctl.demo.kube import types
from binderctl.demo.kube.events import object_reference, rfc3339
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.timeline import Timeline

EVENT_TTL = 3600.0


@dataclass(frozen=True)
class Source:
    component: str  # kubelet, default-scheduler, helm-controller, ...
    host: str | None = None


class EventRecorder:
    def __init__(
        self, store: Store, timeline: Timeline, clock: SimClock, limit: int = 3000
    ) -> None:
        self._store = store
        self._timeline = timeline
        self._clock = clock
        self._limit = limit
        # correlation key -> (namespace, event name); oldest first
        self._recent: OrderedDict[tuple[str, ...], tuple[str, str]] = OrderedDict()
        self._serial = 0

    def _now(self) -> float:
        return self._clock.wall(self._timeline.now)

    def emit(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        source: Source,
        field_path: str | None = None,
    ) -> None:
        involved = object_reference(obj, field_path or "")
        namespace = involved.get("namespace") or "default"
        key = (namespace, involved["kind"], involved["name"], involved["uid"], reason, message)
        stamp = rfc3339(self._now())
        known = self._recent.get(key)
        if known is not None and self._store.find(types.EVENTS, *known) is not None:

            def bump(event: Obj) -> None:
                event["count"] = event.get("count", 1) + 1
                event["lastTimestamp"] = stamp

            self._store.mutate(types.EVENTS, known[0], known[1], bump)
            self._recent.move_to_end(key)
            self._timeline.after(EVENT_TTL, lambda: self._expire(key))
            return
        self._serial += 1
        name = f"{involved['name']}.{int(self._now() * 1e9) + self._serial:x}"
        event = {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "creationTimestamp": stamp,
            },
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": source.component}
            | ({"host": source.host} if source.host else {}),
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": source.component,
            "reportingInstance": source.host or "",
        }
        self._store.create(types.EVENTS, event)
        self._recent[key] = (namespace, name)
        self._timeline.after(EVENT_TTL, lambda: self._expire(key))
        while len(self._recent) > self._limit:
            _, (ns, old) = self._recent.popitem(last=False)
            self._delete(ns, old)

    def _expire(self, key: tuple[str, ...]) -> None:
        known = self._recent.get(key)
        if known is None:
            return
        event = self._store.find(types.EVENTS, *known)
        if event is not None:
            last = event.get("lastTimestamp") or ""
            if last > rfc3339(self._now() - EVENT_TTL / self._clock.speed):
                return  # bumped since; a later timer expires it
        del self._recent[key]
        self._delete(*known)

    def _delete(self, namespace: str, name: str) -> None:
        if self._store.find(types.EVENTS, namespace, name) is not None:
            self._store.delete(types.EVENTS, namespace, name)
