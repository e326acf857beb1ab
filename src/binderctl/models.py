"""Plain dataclasses passed between the service layer and its two faces (TUI, CLI).

Times are POSIX timestamps (float seconds); sizes are bytes; CPU is in cores.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

ComponentName = Literal["hub", "binder", "proxy", "dind"]
COMPONENTS: tuple[ComponentName, ...] = ("hub", "binder", "proxy", "dind")


@dataclass(frozen=True)
class Session:
    pod: str
    namespace: str
    user: str
    repo: str
    ref: str
    started: float  # pod creation time
    phase: str
    cpu: float | None = None
    memory: int | None = None
    restarts: int = 0


@dataclass(frozen=True)
class Build:
    pod: str
    namespace: str
    repo: str
    ref: str
    phase: str
    started: float
    stuck: bool = False
    last_log: str | None = None  # the last line the build logged (its message), if read
    last_log_time: float | None = None  # when it was logged: a hung build falls silent


@dataclass(frozen=True)
class Component:
    name: ComponentName
    ready: int
    desired: int
    restarts: int
    started: float | None  # oldest running pod's start
    image: str
    desired_known: bool = True  # False: no Deployment/DaemonSet read, ``desired`` unknown


@dataclass(frozen=True)
class NodeStatus:
    name: str
    cpu_capacity: float
    memory_capacity: int
    cpu_allocatable: float
    memory_allocatable: int
    pods_max: int
    pods_used: int
    cpu_usage: float | None
    memory_usage: int | None
    disk_capacity: int | None
    disk_usage: int | None
    conditions: dict[str, str]  # type -> "True"/"False"/"Unknown"
    cordoned: bool


@dataclass(frozen=True)
class HealthCheck:
    service: str
    ok: bool
    detail: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    ok: bool | None  # None: not reachable
    checks: tuple[HealthCheck, ...] = ()
    versions: dict[str, object] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class WarningEvent:
    time: float  # last seen
    namespace: str
    object: str  # kind/name
    reason: str
    message: str
    count: int = 1
    first_seen: float | None = None
    name: str = ""  # the Event object's own name
    gone: bool = False  # its object (a pod) no longer exists

    @property
    def kind(self) -> str:
        return self.object.partition("/")[0]

    @property
    def object_name(self) -> str:
        return self.object.partition("/")[2]


@dataclass
class History:
    """Bounded samples for plots: one tuple (time, value) per sample."""

    limit: int = 720
    node_cpu: deque[tuple[float, float]] = field(default_factory=deque)
    node_memory: deque[tuple[float, float]] = field(default_factory=deque)
    node_disk: deque[tuple[float, float]] = field(default_factory=deque)
    pods: deque[tuple[float, float]] = field(default_factory=deque)
    sessions: deque[tuple[float, float]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        for name in ("node_cpu", "node_memory", "node_disk", "pods", "sessions"):
            setattr(self, name, deque(getattr(self, name), maxlen=self.limit))


@dataclass(frozen=True)
class Rotation:
    """Whether the federation sends launches here: launch quota, cordon, drain record."""

    quota: int | None  # None: no limit
    cordoned: bool
    drain_recorded: bool = False  # a drain saved the previous quota and no resume ran yet
    previous_quota: int | None = None  # the quota that resume will restore
    quota_error: str | None = None  # the quota could not be read

    @property
    def in_rotation(self) -> bool:
        return self.quota_error is None and self.quota != 0 and not self.cordoned

    @property
    def problem(self) -> str | None:
        """What keeps a drain or resume from taking effect, in words, or None."""
        if self.quota_error is not None:
            return None
        if self.cordoned:
            return (
                "the node is cordoned (by hand, by the image cleaner, or by a drain of an "
                "older binderctl): helm-controller's install job and new binder, hub or proxy "
                "pods stay Pending, so no quota change or restart can take effect"
            )
        return None


@dataclass(frozen=True)
class RotationVerdict:
    """In rotation or not by the federation redirector's rules (services/federation.py),
    from what /health and /versions return; ``in_rotation`` None: it cannot be told."""

    in_rotation: bool | None
    # None when in; else weight, versions, check, quota headroom, unreachable,
    # failed_period or prime unreachable
    reason: str | None
    detail: str
    check: str | None = None  # the failing /health check, for reason "check"


Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")  # worst first


@dataclass(frozen=True)
class Attention:
    """One thing that needs the operator's attention (``services/attention.py`` judges).

    ``kind`` is a stable id (for scripts, drills and alert rules); ``action`` names the
    catalogue action that fixes it (the CLI subcommand), with its ``target``, or None."""

    kind: str
    severity: Severity
    text: str
    action: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class Departure:
    """A session that ended and why (``services/departures.py``)."""

    pod: str  # namespace/name
    user: str
    time: float
    # culled, stopped, killed, evicted, finished, never started, deleted; "" until told
    cause: str = ""
    by: str = ""  # the idle culler, binderctl kill-session, the kubelet, ...


ChangeKind = Literal[
    "session", "build", "component", "node", "health", "warning", "rotation", "connection",
    "history", "departure",
]  # fmt: skip
ConnectionState = Literal["connecting", "connected", "reconnecting", "disconnected"]


@dataclass(frozen=True)
class Change:
    """One row of the live model changed: ``old`` None = added, ``new`` None = removed."""

    kind: ChangeKind
    key: str
    old: object | None
    new: object | None


@dataclass(frozen=True, slots=True)  # slots: made for every line of a flood, half the cost
class LogLine:
    pod: str
    container: str
    text: str
    time: str = ""  # the RFC 3339 time the runtime stamped the line with, when known
