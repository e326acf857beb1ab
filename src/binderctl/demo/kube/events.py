"""Events: recording them like client-go's event recorder, expiring them like the API
server's ``--event-ttl``, and the events.k8s.io/v1 view.

The store keeps one set of events, as core/v1 objects. ``events.k8s.io/v1`` is another
view of the very same objects (the API server converts, as the real one does), so a
warning recorded by a controller or the simulation shows in ``kubectl get events`` and
in a watch on either API.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store

# (core field, events.k8s.io field)
_RENAMED = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
)
_SAME = ("reportingInstance", "action", "reason", "related", "type", "eventTime", "series")


def core_to_v1(event: Obj) -> Obj:
    """A core/v1 Event as events.k8s.io/v1 shows it."""
    out: Obj = {
        "kind": "Event",
        "apiVersion": types.EVENTS_V1.api_version,
        "metadata": event["metadata"],
        "eventTime": event.get("eventTime"),
    }
    for core, v1 in _RENAMED:
        if event.get(core) not in (None, "", {}):
            out[v1] = event[core]
    for key in _SAME:
        if event.get(key) not in (None, ""):
            out[key] = event[key]
    return out


def v1_to_core(event: Obj) -> Obj:
    out: Obj = {"kind": "Event", "apiVersion": "v1", "metadata": event.get("metadata", {})}
    for core, v1 in _RENAMED:
        if event.get(v1) not in (None, ""):
            out[core] = event[v1]
    for key in _SAME:
        if event.get(key) not in (None, ""):
            out[key] = event[key]
    out.setdefault("eventTime", None)
    return out


def object_reference(obj: Obj, field_path: str = "") -> Obj:
    meta = obj["metadata"]
    ref: Obj = {
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "apiVersion": obj["apiVersion"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def micro_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# kube-apiserver's --event-ttl (default 1h): an event is deleted this long after it was
# last written; simulated seconds where the recorder's ``later`` runs simulated time.
EVENT_TTL = 3600.0
# The most events one recorder keeps (the oldest go first): bounds a busy demo's memory.
EVENT_LIMIT = 3000


@dataclass(frozen=True)
class Source:
    """Who records an event (client-go's EventSource). A ``modern`` source records
    through events.k8s.io, as kube-scheduler does: it stamps ``eventTime`` and an
    ``action`` and counts repeats in ``series``; the others (controllers, kubelet,
    helm-controller) stamp ``firstTimestamp``/``lastTimestamp`` and count in ``count``."""

    component: str
    host: str = ""
    modern: bool = False


@dataclass(eq=False)
class _Recorded:
    namespace: str
    name: str
    writes: int = 1


class EventRecorder:
    """Records core/v1 events into the store like client-go's recorder (a repeat of the
    same object, reason and message from the same source bumps one event) and deletes
    each one ``EVENT_TTL`` after its last write, as the API server does.

    ``now`` gives the wall-clock time stamped into events; ``later(seconds, callback)``
    calls back after ``seconds`` of the caller's time (simulated time for the member and
    the control plane).
    """

    def __init__(
        self,
        store: Store,
        now: Callable[[], float],
        later: Callable[[float, Callable[[], None]], object],
        *,
        limit: int = EVENT_LIMIT,
    ) -> None:
        self._store = store
        self._now = now
        self._later = later
        self._limit = limit
        self._recent: OrderedDict[tuple[str, ...], _Recorded] = OrderedDict()  # oldest first
        self._serial = 0

    def emit(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        source: Source,
        field_path: str = "",
        *,
        action: str = "",
    ) -> Obj:
        ref = object_reference(obj, field_path)
        namespace = ref.get("namespace") or "default"
        involved = (namespace, ref["kind"], ref["name"], ref["uid"], field_path)
        key: tuple[str, ...] = (source.component, source.host, *involved, type_, reason, message)
        now = self._now()
        recorded = self._recent.get(key)
        if recorded is not None and self._stored(recorded):
            event = self._store.mutate(
                types.EVENTS, recorded.namespace, recorded.name, lambda e: _repeat(e, source, now)
            )
            recorded.writes += 1
        else:
            fresh = self._new(ref, namespace, type_, reason, message, source, action, now)
            event = self._store.create(types.EVENTS, fresh)
            recorded = self._recent[key] = _Recorded(namespace, event["metadata"]["name"])
        self._recent.move_to_end(key)
        while len(self._recent) > self._limit:
            _, oldest = self._recent.popitem(last=False)
            self._delete(oldest)
        writes = recorded.writes
        self._later(EVENT_TTL, lambda: self._expire(key, recorded, writes))
        return event

    def _new(
        self,
        ref: Obj,
        namespace: str,
        type_: str,
        reason: str,
        message: str,
        source: Source,
        action: str,
        now: float,
    ) -> Obj:
        self._serial += 1
        name = f"{ref['name']}.{int(now * 1e9) + self._serial:x}"
        # client-go names an event by its time in nanoseconds; recorders that share a
        # stopped clock (snapshot tests) would give two events one name
        while self._store.find(types.EVENTS, namespace, name) is not None:
            self._serial += 1
            name = f"{ref['name']}.{int(now * 1e9) + self._serial:x}"
        event: Obj = {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "creationTimestamp": rfc3339(now),
            },
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": type_,
            "reportingComponent": source.component,
            "reportingInstance": source.host,
        }
        if source.modern:
            event.update(
                {"source": {}, "firstTimestamp": None, "lastTimestamp": None,
                 "eventTime": micro_time(now), "action": action}
            )  # fmt: skip
        else:
            stamp = rfc3339(now)
            origin: Obj = {"component": source.component}
            if source.host:
                origin["host"] = source.host
            event.update(
                {"source": origin, "firstTimestamp": stamp, "lastTimestamp": stamp,
                 "count": 1, "eventTime": None}
            )  # fmt: skip
        return event

    def _expire(self, key: tuple[str, ...], recorded: _Recorded, writes: int) -> None:
        """The TTL of write number ``writes`` of ``recorded`` has run out: unless the event
        was written again since (a later timer expires it), it goes."""
        if self._recent.get(key) is recorded and recorded.writes == writes:
            del self._recent[key]
            self._delete(recorded)

    def _stored(self, recorded: _Recorded) -> bool:
        return self._store.find(types.EVENTS, recorded.namespace, recorded.name) is not None

    def _delete(self, recorded: _Recorded) -> None:
        if self._stored(recorded):
            self._store.delete(types.EVENTS, recorded.namespace, recorded.name)


def _repeat(event: Obj, source: Source, now: float) -> None:
    if source.modern:
        series = event.get("series") or {"count": 1}
        event["series"] = {"count": series["count"] + 1, "lastObservedTime": micro_time(now)}
    else:
        event["count"] = event.get("count", 1) + 1
        event["lastTimestamp"] = rfc3339(now)


def parse_time(text: str | None) -> float | None:
    """POSIX seconds of an RFC 3339 time stamp (None for a missing one)."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
