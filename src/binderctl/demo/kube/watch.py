"""Watch streams: the events a ``?watch=true`` request receives.

A watch from a ``resourceVersion`` replays the retained history after it (410 Gone as an
ERROR event when it is older than the history); without one (or with "0") it starts
with synthetic ADDED events for what exists. Selectors are applied to both the old and
the new state, so an object that stops matching arrives as DELETED and one that starts
matching as ADDED, like the real watch cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from binderctl.demo.kube.apierrors import bad_request, status_failure
from binderctl.demo.kube.fields import FieldSelector
from binderctl.demo.kube.labels import Selector
from binderctl.demo.kube.registry import View
from binderctl.demo.kube.store import Obj, ResourceType, Store, StoreError, Watcher, WatchEvent

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass
class WatchRequest:
    rt: ResourceType
    view: View
    namespace: str | None
    labels: Selector
    fields: FieldSelector
    resource_version: str = ""
    allow_bookmarks: bool = False
    send_initial_events: bool | None = None
    timeout: float | None = None


class WatchSession:
    """One open watch; ``events()`` yields ``{"type", "object"}`` dicts until it ends."""

    def __init__(self, store: Store, request: WatchRequest, bookmark_interval: float) -> None:
        self.store = store
        self.request = request
        self.bookmark_interval = bookmark_interval
        self.watcher: Watcher | None = None

    def _matches(self, obj: Obj) -> bool:
        return self.request.labels.matches_object(obj) and self.request.fields.matches(obj)

    def _bookmark(self, *, initial_end: bool = False) -> Obj:
        metadata: Obj = {
            "resourceVersion": str(self.store.resource_version),
            "creationTimestamp": None,
        }
        if initial_end:
            metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
        rt = self.request.rt
        return {
            "type": "BOOKMARK",
            "object": {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": metadata},
        }

    def _translate(self, event: WatchEvent) -> Obj | None:
        out = self.request.view.out
        obj = out(event.obj)
        now = self._matches(obj)
        if event.type != "MODIFIED":
            return {"type": event.type, "object": obj} if now else None
        before = event.old is not None and self._matches(out(event.old))
        if now:
            return {"type": "MODIFIED" if before else "ADDED", "object": obj}
        if before and event.old is not None:
            gone = out(event.old)
            gone = {
                **gone,
                "metadata": {**gone["metadata"], "resourceVersion": str(event.resource_version)},
            }
            return {"type": "DELETED", "object": gone}
        return None

    def open(self) -> list[Obj]:
        """Start watching; returns the events to send first (may end with an ERROR)."""
        request = self.request
        rv = request.resource_version
        initial = request.send_initial_events
        if initial is None:
            initial = rv in ("", "0")
        since: int | None = None
        if not initial and rv not in ("", "0"):
            if not rv.isdigit():
                return [_error(bad_request(f"invalid resource version: {rv}"))]
            since = int(rv)
        try:
            self.watcher = self.store.watch(request.view.backing, request.namespace, since)
        except StoreError as err:
            return [_error(err)]
        first: list[Obj] = []
        if initial:
            for obj in self.store.list(request.view.backing, request.namespace):
                served = request.view.out(obj)
                if self._matches(served):
                    first.append({"type": "ADDED", "object": served})
            if request.send_initial_events and request.allow_bookmarks:
                first.append(self._bookmark(initial_end=True))
        return first

    def close(self) -> None:
        if self.watcher is not None:
            self.store.unwatch(self.watcher)
            self.watcher.queue.put_nowait(None)

    async def events(self, first: list[Obj]) -> AsyncIterator[Obj]:
        """The events after ``first`` (what ``open`` returned), until the watch ends."""
        for event in first:
            yield event
            if event["type"] == "ERROR":
                return
        assert self.watcher is not None
        queue = self.watcher.queue
        deadline = None if self.request.timeout is None else time.monotonic() + self.request.timeout
        next_bookmark = time.monotonic() + self.bookmark_interval
        while True:
            now = time.monotonic()
            wait = next_bookmark - now if self.request.allow_bookmarks else None
            if deadline is not None:
                left = deadline - now
                if left <= 0:
                    return
                wait = left if wait is None else min(wait, left)
            try:
                item = (
                    await asyncio.wait_for(queue.get(), wait)
                    if wait is not None
                    else await queue.get()
                )
            except TimeoutError:
                if self.request.allow_bookmarks and time.monotonic() >= next_bookmark:
                    next_bookmark = time.monotonic() + self.bookmark_interval
                    if queue.empty():
                        yield self._bookmark()
                continue
            if item is None:
                return
            translated = self._translate(item)
            if translated is not None:
                yield translated


def _error(err: StoreError) -> Obj:
    return {"type": "ERROR", "object": status_failure(err)}
