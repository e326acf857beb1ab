"""List-then-watch of one kind of object, kept going through drops and ``410 Gone``.

Reads the watch stream raw (``Kube.open``) and decodes each line itself (``kube.decode``):
the kubernetes client's typed deserialisation of every event would be the bottleneck
on a busy member. After an error the objects are listed again, so the
consumer converges to the truth; a stream the server simply ended resumes from the
last resourceVersion it delivered (a ``410`` then forces a re-list).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from binderctl.models import ConnectionState
from binderctl.services.kube import Kube, KubeError, Obj, Resource, decode

WATCH_SECONDS = 240  # the server ends each watch after this; we resume from there
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 15.0
DISCONNECTED_AFTER = 3  # consecutive failures before "reconnecting" becomes "disconnected"


def iter_batches(response: Any) -> Iterator[list[bytes]]:
    """The non-empty lines of a streamed HTTP body, a list per chunk as it arrives."""
    pending = b""
    for chunk in response.stream(amt=None, decode_content=False):
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        if lines:
            yield [line for line in lines if line]
    if pending:
        yield [pending]


def iter_lines(response: Any) -> Iterator[bytes]:
    for batch in iter_batches(response):
        yield from batch


def backoff(failures: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** max(0, failures - 1))


class Reflector:
    """Keeps a consumer in step with one collection: ``on_sync`` gets every full list,
    ``on_event`` every watch event after it; ``on_state`` the connection state."""

    def __init__(
        self,
        kube: Kube,
        name: str,
        resource: Resource,
        *,
        on_sync: Callable[[list[Obj]], None],
        on_event: Callable[[str, Obj], None],
        on_state: Callable[[str, ConnectionState, str | None], None],
        stop: threading.Event,
        **query: Any,
    ) -> None:
        self.kube = kube
        self.name = name
        self._resource = resource
        self._query = query
        self._on_sync = on_sync
        self._on_event = on_event
        self._on_state = on_state
        self._stop = stop
        self._response: Any = None
        self.synced = threading.Event()

    def run(self) -> None:
        resource_version: str | None = None
        failures = 0
        self._on_state(self.name, "connecting", None)
        while not self._stop.is_set():
            try:
                if resource_version is None:
                    listing = self.kube.list_document(self._resource, **self._query)
                    resource_version = listing["metadata"]["resourceVersion"]
                    self._on_sync(listing.get("items") or [])
                    self.synced.set()
                    failures = 0
                    self._on_state(self.name, "connected", None)
                started = time.monotonic()
                resource_version, delivered = self._watch(resource_version)
                if not delivered and time.monotonic() - started < 1.0:
                    failures += 1  # a server that ends every stream at once
                    self._stop.wait(backoff(failures))
            except KubeError as exc:
                if self._stop.is_set():
                    break
                resource_version = None
                if exc.status == 410:
                    continue
                failures += 1
                state: ConnectionState = (
                    "disconnected" if failures >= DISCONNECTED_AFTER else "reconnecting"
                )
                self._on_state(self.name, state, exc.message)
                self._stop.wait(backoff(failures))

    def _watch(self, resource_version: str) -> tuple[str | None, bool]:
        """Follow one watch stream; returns where to resume (None: re-list) and
        whether it delivered anything."""
        query = {
            **self._query,
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": WATCH_SECONDS,
        }
        response = self.kube.open(
            "GET", self._resource, query=query, timeout=(5.0, WATCH_SECONDS + 30.0)
        )
        self._response = response
        delivered = False
        on_event = self._on_event
        try:
            with self.kube.errors():
                for line in iter_lines(response):
                    try:
                        event = decode(line)
                        kind = event["type"]
                        obj = event["object"]
                        if kind == "ERROR":
                            if obj.get("code") == 410:
                                return None, delivered
                            raise KubeError(
                                f"watch of {self.name} failed: {obj.get('message', obj)}",
                                status=int(obj.get("code") or 0),
                            )
                        resource_version = obj["metadata"]["resourceVersion"]
                    except (KeyError, TypeError, AttributeError) as exc:
                        raise KubeError(f"watch of {self.name}: malformed event ({exc})") from None
                    delivered = True
                    if kind != "BOOKMARK":
                        on_event(kind, obj)
        finally:
            self._response = None
            response.release_conn()
        return resource_version, delivered

    def interrupt(self) -> None:
        """Unblock a read in progress (used when stopping)."""
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # best effort while stopping
                response.shutdown()
