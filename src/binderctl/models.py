"""Plain dataclasses passed between the service layer and its two faces (TUI, CLI).

Times are POSIX timestamps (float seconds); sizes are bytes; CPU is in cores.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

ComponentName = Literal["hub", "binder", "proxy", "dind"]
COMPONENTS: tuple[ComponentName, ...] = ("hub", "binder", "proxy", "dind")


def component_named(name: str) -> ComponentName | None:
    return next((c for c in COMPONENTS if c == name), None)


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
class SessionTraffic:
    """A session's network and CPU use from the kubelet's stats summary (and its
    cAdvisor packet counters), as rates over the live model's sliding window.

    Rates are per second over ``window`` seconds; with one sample they are averages
    since the pod started. Counters are cumulative since the pod (its network) or the
    container (its CPU) started, as the kubelet serves them."""

    pod: str
    tx_rate: float | None  # bytes sent a second
    rx_rate: float | None  # bytes received a second
    tx_packet_rate: float | None  # packets sent a second (None: not reported)
    cpu: float | None  # cores, averaged over the window
    cpu_limit: float | None  # cores (the pod's limit; None: none set)
    cpu_peak: float | None  # the highest of the kubelet's CPU samples seen
    tx_bytes: int | None = None
    rx_bytes: int | None = None
    tx_packets: int | None = None
    window: float = 0.0  # seconds the rates cover (0: since the pod started)
    samples: int = 0

    @property
    def cpu_share(self) -> float | None:
        """The window's CPU against the pod's limit (1.0: at the limit)."""
        if self.cpu is None or not self.cpu_limit:
            return None
        return self.cpu / self.cpu_limit


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


# Why a pod cannot become Ready: the waiting reasons `kubectl rollout status` warns about
# (a container that cannot be created, pulled or kept running), and the scheduler's.
IMAGE_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
CRASH_REASONS = frozenset(
    {"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError"}
)
UNSCHEDULABLE = "Unschedulable"


@dataclass(frozen=True)
class PodProblem:
    """Why the pod ``pod`` is not Ready and will not be by itself: ``reason`` is a
    container's waiting reason (``ImagePullBackOff``, ``CrashLoopBackOff``, ...) or
    ``Unschedulable``; ``message`` is the kubelet's or the scheduler's."""

    pod: str
    reason: str
    message: str
    image: str = ""  # the image of the container that waits
    cordoned: bool = False  # Unschedulable because the node is cordoned

    @property
    def bad_image(self) -> bool:
        return self.reason in IMAGE_REASONS

    @property
    def crashing(self) -> bool:
        return self.reason in CRASH_REASONS

    def describe(self) -> str:
        """What the pod is doing, after its name: ``is Pending: the node is cordoned
        (Unschedulable: 0/1 nodes are available: ...)``."""
        detail = f"{self.reason}: {self.message}" if self.message else self.reason
        if self.reason == UNSCHEDULABLE:
            cordon = ": the node is cordoned" if self.cordoned else ""
            return f"is Pending{cordon} ({detail})"
        if self.bad_image:
            return f"cannot pull {self.image or 'its image'} ({detail})"
        return f"is in {detail}"

    @property
    def final(self) -> bool:
        """Waiting longer does not help: the kubelet has backed off (a pull failed
        again, a container crashed again) or the node takes no new pod."""
        if self.reason == UNSCHEDULABLE:
            return self.cordoned
        return self.reason != "ErrImagePull" and (self.bad_image or self.crashing)


@dataclass(frozen=True)
class Component:
    """A core piece as its Deployment (DaemonSet for dind) and its pods say: ``ready``,
    ``updated`` (pods of the current template) and ``available`` of ``desired``, the
    template's ``image`` and the images its Ready pods run, and what keeps a pod of it
    from becoming Ready."""

    name: ComponentName
    ready: int
    desired: int
    restarts: int
    started: float | None  # oldest running pod's start
    image: str  # the template's (spec) image
    desired_known: bool = True  # False: no Deployment/DaemonSet read, ``desired`` unknown
    updated: int = 0
    available: int = 0
    running: tuple[str, ...] = ()  # the images its Ready pods run
    waiting: str = ""  # what its rollout waits for (as kubectl rollout status); "": done
    problem: PodProblem | None = None
    revision: int = 0  # the Deployment's revision (0: a DaemonSet, or unknown)


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
    kubelet_version: str = ""  # status.nodeInfo.kubeletVersion: the node's k3s release


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
    """An event (the live model keeps the warnings; a component's details all kinds)."""

    time: float  # last seen
    namespace: str
    object: str  # kind/name
    reason: str
    message: str
    count: int = 1
    first_seen: float | None = None
    type: str = "Warning"  # or Normal
    name: str = ""  # the Event object's own name
    gone: bool = False  # its object (a pod) no longer exists

    @property
    def kind(self) -> str:
        return self.object.partition("/")[0]

    @property
    def object_name(self) -> str:
        return self.object.partition("/")[2]


@dataclass(frozen=True)
class Termination:
    """How a container's last run ended."""

    reason: str  # Error, OOMKilled, Completed
    exit_code: int | None
    finished: float | None
    message: str = ""


@dataclass(frozen=True)
class PodDetail:
    name: str
    phase: str
    ready: bool
    restarts: int
    image: str  # its first container's
    created: float
    node: str
    revision: str  # pod-template-hash (Deployment) or controller-revision-hash (DaemonSet)
    problem: PodProblem | None
    last_termination: Termination | None  # of its containers, the latest


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str
    since: float | None  # lastTransitionTime


@dataclass(frozen=True)
class Revision:
    """One ReplicaSet of a Deployment: its revision, image, pods and change cause."""

    number: int
    image: str
    pods: int
    cause: str  # kubernetes.io/change-cause, or ""


@dataclass(frozen=True)
class ComponentDetail:
    """A core component in full, read when its details are shown."""

    name: ComponentName
    workload: str  # "deployment binderhub/hub"
    namespace: str
    strategy: str
    conditions: tuple[Condition, ...]
    pods: tuple[PodDetail, ...]  # newest first
    revisions: tuple[Revision, ...]  # newest first
    events: tuple[WarningEvent, ...]  # of the workload, its ReplicaSets and pods; newest first


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
    subject: str | None = None  # what it is about, when one kind can name several (hub, dind)


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
    "history", "traffic", "departure",
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
