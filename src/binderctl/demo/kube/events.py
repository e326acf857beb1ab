"""Events: recording them like client-go's event recorder, and the events.k8s.io/v1 view.

The store keeps one set of events, as core/v1 objects. ``events.k8s.io/v1`` is another
view of the very same objects (the API server converts, as the real one does), so a
warning recorded by a controller or the simulation shows in ``kubectl get events`` and
in a watch on either API.
"""

from __future__ import annotations

import time
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


class EventRecorder:
    """Records core/v1 events for one component, aggregating repeats like client-go.

    The legacy recorder (controllers, kubelet) stamps ``firstTimestamp``/``lastTimestamp``
    and counts repeats in ``count``; a ``modern`` recorder (kube-scheduler uses the
    events.k8s.io API) stamps ``eventTime`` and an ``action``, and counts repeats in
    ``series``.
    """

    def __init__(
        self, store: Store, component: str, host: str = "", *, modern: bool = False
    ) -> None:
        self.store = store
        self.component = component
        self.host = host
        self.modern = modern
        self._seen: dict[tuple[str, ...], tuple[str, str]] = {}

    def emit(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        *,
        field_path: str = "",
        action: str = "",
    ) -> Obj:
        ref = object_reference(obj, field_path)
        namespace = ref.get("namespace") or "default"
        key = (ref["uid"], ref["kind"], ref["name"], field_path, reason, message, type_)
        now = time.time()
        seen = self._seen.get(key)
        if seen is not None and self.store.find(types.EVENTS, *seen) is not None:

            def again(event: Obj) -> None:
                if self.modern:
                    series = event.get("series") or {"count": 1}
                    event["series"] = {
                        "count": series["count"] + 1,
                        "lastObservedTime": micro_time(now),
                    }
                else:
                    event["count"] = event.get("count", 1) + 1
                    event["lastTimestamp"] = rfc3339(now)

            return self.store.mutate(types.EVENTS, *seen, again)
        event: Obj = {
            "metadata": {"name": f"{ref['name']}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": type_,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        if self.modern:
            event.update(
                {"source": {}, "firstTimestamp": None, "lastTimestamp": None,
                 "eventTime": micro_time(now), "action": action}
            )  # fmt: skip
        else:
            source: Obj = {"component": self.component}
            if self.host:
                source["host"] = self.host
            event.update(
                {"source": source, "firstTimestamp": rfc3339(now), "lastTimestamp": rfc3339(now),
                 "count": 1, "eventTime": None}
            )  # fmt: skip
        self._seen[key] = (namespace, event["metadata"]["name"])
        return self.store.create(types.EVENTS, event)


def parse_time(text: str | None) -> float | None:
    """POSIX seconds of an RFC 3339 time stamp (None for a missing one)."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
