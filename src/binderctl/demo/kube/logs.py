"""The ``pods/log`` subresource: which container, which lines, in which form.

Lines come from a ``LogSource`` (sources.py); with ``timestamps=true`` each starts with
the time as the kubelet writes it (RFC 3339 with nanoseconds).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from binderctl.demo.kube.apierrors import bad_request
from binderctl.demo.kube.events import parse_time
from binderctl.demo.kube.query import flag, integer
from binderctl.demo.kube.sources import LogLine
from binderctl.demo.kube.store import Obj


@dataclass(frozen=True)
class LogOptions:
    container: str
    follow: bool
    previous: bool
    timestamps: bool
    tail_lines: int | None
    since: float | None  # POSIX seconds
    limit_bytes: int | None

    @classmethod
    def parse(cls, pod: Obj, query: Mapping[str, str]) -> LogOptions:
        since_seconds = integer(query, "sinceSeconds")
        since_time = query.get("sinceTime")
        if since_seconds is not None and since_time:
            raise bad_request("at most one of sinceTime or sinceSeconds may be specified")
        if since_seconds is not None and since_seconds < 1:
            raise bad_request("sinceSeconds: Invalid value: must be greater than 0")
        since = time.time() - since_seconds if since_seconds is not None else parse_time(since_time)
        tail = integer(query, "tailLines")
        limit = integer(query, "limitBytes")
        if tail is not None and tail < 0:
            raise bad_request("tailLines: Invalid value: must be greater than or equal to 0")
        if limit is not None and limit < 1:
            raise bad_request("limitBytes: Invalid value: must be greater than 0")
        return cls(
            container=choose_container(pod, query.get("container", "")),
            follow=flag(query.get("follow")),
            previous=flag(query.get("previous")),
            timestamps=flag(query.get("timestamps")),
            tail_lines=tail,
            since=since,
            limit_bytes=limit,
        )


def choose_container(pod: Obj, container: str) -> str:
    """``ValidateContainer`` of the pod registry, with its messages."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    containers = [c.get("name", "") for c in spec.get("containers") or []]
    every = [
        *(c.get("name", "") for c in spec.get("initContainers") or []),
        *containers,
        *(c.get("name", "") for c in spec.get("ephemeralContainers") or []),
    ]
    if not container:
        if len(containers) == 1:
            return containers[0]
        if not containers:
            raise bad_request(f"a container name must be specified for pod {name}")
        raise bad_request(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(every)}]"
        )
    if container not in every:
        raise bad_request(f"container {container} is not valid for pod {name}")
    return container


def _container_status(pod: Obj, container: str) -> Obj | None:
    status = pod.get("status") or {}
    for kind in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(kind) or ():
            if entry.get("name") == container:
                return entry
    return None


def why_no_log(pod: Obj, container: str, previous: bool) -> str | None:
    """Why the kubelet serves no log of ``container`` (its 400), or None when it has one:
    the kubelet's ``validateContainerLogStatus``, with its messages."""
    name = pod["metadata"]["name"]
    entry = _container_status(pod, container)
    if entry is None:  # no status yet: scheduled or not, nothing has run
        if previous:
            return f'previous terminated container "{container}" in pod "{name}" not found'
        if (pod.get("status") or {}).get("phase") == "Pending":
            return f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
        return None
    last = (entry.get("lastState") or {}).get("terminated") or {}
    state = entry.get("state") or {}
    if previous:
        if not last.get("containerID"):
            return f'previous terminated container "{container}" in pod "{name}" not found'
        return None
    if "running" in state:
        return None
    if "terminated" in state:
        if state["terminated"].get("containerID") or last.get("containerID"):
            return None
        return f'container "{container}" in pod "{name}" is terminated'
    if last:
        if last.get("containerID"):
            return None
        return f'container "{container}" in pod "{name}" is terminated'
    if "waiting" in state:
        reason = state["waiting"].get("reason") or ""
        detail = WAITING.get(reason, reason)
        return f'container "{container}" in pod "{name}" is waiting to start: {detail}'
    return f'container "{container}" in pod "{name}" is waiting to start - no logs yet'


def before_current(pod: Obj, container: str, previous: bool) -> bool:
    """Whether the log asked for is a source's instance before its current one: with
    ``previous``, except while the container waits to restart (then lastState is the
    instance that just ended, whose lines a source still holds as its current ones)."""
    entry = _container_status(pod, container) or {}
    return previous and "waiting" not in (entry.get("state") or {})


# what the kubelet says of the usual reasons a container waits
WAITING = {
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}


def stamp(ts: float) -> str:
    """The kubelet's ``2006-01-02T15:04:05.000000000Z07:00``."""
    whole = int(ts)
    nanos = round((ts - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return f"{_second(whole)}.{nanos:09d}Z"


@functools.lru_cache(maxsize=1024)
def _second(whole: int) -> str:
    """The part of a stamp before the fraction (a flooding container logs thousands of
    lines a second: formatting it once per second keeps the stream cheap)."""
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def render(line: LogLine, options: LogOptions) -> bytes:
    text = f"{stamp(line.time)} {line.text}\n" if options.timestamps else f"{line.text}\n"
    # A container's output is bytes, not always UTF-8: a lone surrogate in the text (as
    # os.fsdecode and surrogateescape make them) stands for a byte that is not UTF-8.
    return text.encode("utf-8", "surrogateescape")


def select(lines: Sequence[LogLine], options: LogOptions) -> list[LogLine]:
    chosen = [line for line in lines if options.since is None or line.time >= options.since]
    if options.tail_lines is not None:
        chosen = chosen[len(chosen) - options.tail_lines :] if options.tail_lines else []
    return chosen
