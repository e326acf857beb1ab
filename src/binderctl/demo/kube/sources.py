"""What the API server asks the simulated member for: container logs and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LogLine:
    time: float  # POSIX seconds
    text: str  # one line, no trailing newline


class LogFollower(Protocol):
    """The new lines of one container (``async for``); ``aclose`` unsubscribes, for a
    reader that leaves before the end (a client hanging up)."""

    def __aiter__(self) -> AsyncIterator[LogLine]: ...

    async def __anext__(self) -> LogLine: ...

    async def aclose(self) -> None: ...


class LogSource(Protocol):
    def lines(self, namespace: str, pod: str, container: str, previous: bool) -> Sequence[LogLine]:
        """Lines kept so far (raises KeyError when the container has no logs)."""
        ...

    def follow(self, namespace: str, pod: str, container: str) -> LogFollower:
        """New lines as they are produced; ends when the container stops or is deleted."""
        ...


@dataclass(frozen=True)
class ContainerUsage:
    name: str
    cpu: float  # cores
    memory: int  # bytes


class MetricsSource(Protocol):
    def node_usage(self, node: str) -> tuple[float, int] | None:
        """(cpu cores, memory bytes) in use on the node, or None when unknown."""
        ...

    def pod_usage(self, namespace: str, pod: str) -> Sequence[ContainerUsage] | None:
        """Per-container usage of a running pod, or None when it has no metrics."""
        ...


class KubeletSource(Protocol):
    def get(self, node: str, path: str) -> tuple[int, str, bytes] | None:
        """What the kubelet of ``node`` answers for ``path`` below its root (status,
        content type, body), or None when no kubelet of that name answers."""
        ...
