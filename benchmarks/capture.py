"""A watch stream recorded off the demo member's API server, for replaying it later.

The pods are listed, a raw watch is opened from that list's resourceVersion, and the
member is made busy (``make_busy``, e.g. sessions arriving); every line the API server
sends is kept as it came, until the stream has been quiet for a while.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from binderctl.services.kube import PODS, Kube, KubeError
from binderctl.services.watch import iter_lines

QUIET_SECONDS = 2.0
CAPTURE_LIMIT_SECONDS = 300.0


@dataclass(frozen=True)
class Capture:
    listing: bytes  # the pod list the watch starts from
    resource_version: str
    events: list[bytes]  # watch events, one JSON document each, as the server sent them

    @property
    def last_resource_version(self) -> str:
        return str(json.loads(self.events[-1])["object"]["metadata"]["resourceVersion"])


def capture_pod_watch(kube: Kube, make_busy: Callable[[], None]) -> Capture:
    answer = kube.open("GET", PODS)
    listing = answer.data
    answer.release_conn()
    resource_version = json.loads(listing)["metadata"]["resourceVersion"]
    query = {"watch": "true", "resourceVersion": resource_version, "timeoutSeconds": 3600}
    response = kube.open("GET", PODS, query=query, timeout=(5.0, CAPTURE_LIMIT_SECONDS))
    events: list[bytes] = []
    last = time.monotonic()

    def read() -> None:
        nonlocal last
        with contextlib.suppress(KubeError), kube.errors():  # shut down at the end
            for line in iter_lines(response):
                events.append(line)
                last = time.monotonic()

    reader = threading.Thread(target=read, name="capture", daemon=True)
    reader.start()
    make_busy()
    deadline = time.monotonic() + CAPTURE_LIMIT_SECONDS
    while time.monotonic() - last < QUIET_SECONDS or not events:
        if time.monotonic() > deadline:
            raise RuntimeError("the member never went quiet after the sessions started")
        time.sleep(0.2)
    response.shutdown()
    reader.join(timeout=10)
    return Capture(listing, resource_version, list(events))
