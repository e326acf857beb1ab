"""The live model of one member, shared by every view, and the one-shot snapshot.

``ClusterIndex`` turns Kubernetes objects into rows (through ``mapping``) and reports
each row that changed. ``ClusterModel`` keeps one index current from watches on pods,
nodes and events (``watch.Reflector`` threads), a poll of metrics, workloads
(Deployments and DaemonSets are polled, not watched: four objects) and the launch
quota, and a slower poll of BinderHub's ``/health``. Subscribers get the changed rows
once per tick as a list of ``Change``. ``collect`` builds the same rows from one round
of lists, for the headless commands.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.models import (
    COMPONENTS,
    Build,
    Change,
    ChangeKind,
    Component,
    ComponentName,
    ConnectionState,
    Departure,
    Health,
    History,
    LogLine,
    NodeStatus,
    Rotation,
    Session,
    SessionTraffic,
    WarningEvent,
)
from binderctl.services import departures, mapping
from binderctl.services import kube as kube_api
from binderctl.services.abuse import Suspicion, rank
from binderctl.services.kube import Kube, Obj, parse_time
from binderctl.services.kubelet_stats import PodCounters, read_counters
from binderctl.services.rotation import rotation_of
from binderctl.services.traffic import STATS_INTERVAL, TrafficIndex
from binderctl.services.watch import Reflector

log = logging.getLogger(__name__)

Emit = Callable[[ChangeKind, str, object, object], None]
WARNINGS_KEPT = 200
LAUNCH_WINDOW = 3600.0


def _no_emit(kind: ChangeKind, key: str, old: object, new: object) -> None:
    return None


@dataclass(frozen=True)
class ClusterState:
    """A consistent copy of the model (or one snapshot) for rendering."""

    time: float
    sessions: Mapping[str, Session]
    builds: Mapping[str, Build]
    components: Mapping[ComponentName, Component]
    nodes: Mapping[str, NodeStatus]
    warnings: tuple[WarningEvent, ...]  # newest first
    rotation: Rotation | None
    health: Health | None
    launches_last_hour: int
    connection: ConnectionState = "connected"
    errors: Mapping[str, str] = field(default_factory=dict)  # part -> why it is missing
    traffic: Mapping[str, SessionTraffic] = field(default_factory=dict)  # by session key
    # the running sessions with figures, most suspicious first (``services/abuse.py``),
    # judged when the figures came
    suspicions: tuple[Suspicion, ...] = ()
    stuck_after: float = mapping.STUCK_AFTER_SECONDS  # a build running longer is stuck
    departures: tuple[Departure, ...] = ()  # sessions that ended lately, and why

    @property
    def node(self) -> NodeStatus | None:
        return next(iter(self.nodes.values()), None)

    @property
    def sessions_running(self) -> int:
        return running(self.sessions.values())


def running(sessions: Iterable[Session]) -> int:
    return sum(1 for s in sessions if s.phase == "Running")


class PodIndex:
    """Sessions, builds, core component pods and per-node pod counts from pods."""

    def __init__(self, emit: Emit, stuck_after: float, started: float) -> None:
        self._emit = emit
        self.stuck_after = stuck_after
        self.started = int(started)  # creation times have whole seconds
        self.sessions: dict[str, Session] = {}
        self.builds: dict[str, Build] = {}
        self.core: dict[str, mapping.ComponentPod] = {}
        self.active: dict[str, str] = {}  # pod key -> node, pods that count against max_pods
        self.usage: dict[str, tuple[float, int]] = {}
        self.launches: dict[str, float] = {}  # session pod uid -> created, last hour only
        self.launches_total = 0  # sessions created since the index started
        # pod key -> (uid, what the pod's spec says), mapped once per pod
        self._identities: dict[str, tuple[str, mapping.SessionIdentity]] = {}
        self.dirty_core: set[ComponentName] = set()
        self.nodes_dirty = False
        self.departures: deque[Departure] = deque()  # sessions that ended, last WINDOW
        self.names: set[str] = set()  # every pod's key, to tell which events' pods are gone
        self.listed = False  # ``names`` is whole (the pods have been listed)
        self.names_dirty = False

    def apply(self, kind: str, obj: Obj) -> None:
        key = mapping.key_of(obj)
        if kind == "DELETED":
            self.remove(key, obj)
            return
        if key not in self.names:
            self.names.add(key)
            self.names_dirty = True
        if mapping.pod_is_active(obj):
            node = obj["spec"]["nodeName"]
            if self.active.get(key) != node:
                self.active[key] = node
                self.nodes_dirty = True
        elif self.active.pop(key, None) is not None:
            self.nodes_dirty = True
        role = mapping.pod_role(obj)
        if role == "session":
            uid = obj["metadata"].get("uid", key)
            known = self._identities.get(key)
            old = self.sessions.get(key)
            if known is None or known[0] != uid:
                known = (uid, mapping.session_identity(obj))
                self._identities[key] = known
                self._count_launch(uid, known[1].started)
            elif old is not None and mapping.session_state(obj) == (old.phase, old.restarts):
                return  # most events: a status detail that no row shows
            session = mapping.session_row(obj, known[1], self.usage.get(key))
            if session != old:
                self.sessions[key] = session
                self._emit("session", key, old, session)
        elif role == "build":
            build = mapping.build_from_pod(obj, time.time(), self.stuck_after)
            old_build = self.builds.get(key)
            if old_build is not None:  # what the pod object does not say: its log
                build = replace(
                    build, last_log=old_build.last_log, last_log_time=old_build.last_log_time
                )
            if build != old_build:
                self.builds[key] = build
                self._emit("build", key, old_build, build)
        elif role is not None:
            pod = mapping.component_pod(obj, role)
            if self.core.get(key) != pod:
                self.core[key] = pod
                self.dirty_core.add(pod.component)

    def _count_launch(self, uid: str, created: float) -> None:
        if created >= time.time() - LAUNCH_WINDOW:
            self.launches[uid] = created
            if created >= self.started:
                self.launches_total += 1

    def remove(self, key: str, final: Obj | None = None) -> None:
        """``key``'s pod is gone (``final``: its last state, from a watch's DELETED)."""
        if key in self.names:
            self.names.discard(key)
            self.names_dirty = True
        self._identities.pop(key, None)
        if self.active.pop(key, None) is not None:
            self.nodes_dirty = True
        session = self.sessions.pop(key, None)
        if session is not None:
            self._emit("session", key, session, None)
            self._departed(key, session, final)
        build = self.builds.pop(key, None)
        if build is not None:
            self._emit("build", key, build, None)
        pod = self.core.pop(key, None)
        if pod is not None:
            self.dirty_core.add(pod.component)

    def sync(self, objs: Iterable[Obj]) -> None:
        seen = set()
        for obj in objs:
            self.apply("ADDED", obj)
            seen.add(mapping.key_of(obj))
        known = set(self.sessions) | set(self.builds) | set(self.core) | set(self.active)
        for key in (known | self.names) - seen:
            self.remove(key)
        self.listed = True
        self.names_dirty = True

    def _departed(self, key: str, session: Session, final: Obj | None) -> None:
        departure = Departure(key, session.user, time.time())
        told = departures.left_as(final)
        if told is not None:
            departure = replace(departure, cause=told[0], by=told[1])
        self.departures.append(departure)
        self._emit("departure", key, None, departure)

    def untold(self) -> list[Departure]:
        return [d for d in self.departures if not d.cause]

    def explain(self, acted: Mapping[str, str], stops: Mapping[str, str], now: float) -> None:
        """Tell why the sessions that ended without a word went (``departures.explain``)."""
        for index, departure in enumerate(self.departures):
            if departure.cause:
                continue
            told = departures.explain(departure, acted, stops, now)
            if told is not None:
                self.departures[index] = told
                self._emit("departure", departure.pod, departure, told)

    def cpu_limits(self) -> dict[str, float | None]:
        """Each session's CPU limit (cores), by key."""
        return {
            key: identity.cpu_limit
            for key, (_, identity) in self._identities.items()
            if key in self.sessions
        }

    def set_usage(self, usage: dict[str, tuple[float, int]]) -> None:
        self.usage = usage
        for key, session in list(self.sessions.items()):
            cpu, memory = usage.get(key, (None, None))
            if session.cpu != cpu or session.memory != memory:
                updated = replace(session, cpu=cpu, memory=memory)
                self.sessions[key] = updated
                self._emit("session", key, session, updated)

    def set_build_logs(self, lines: Mapping[str, LogLine]) -> None:
        """The last line each build (by key) logged."""
        for key, line in lines.items():
            build = self.builds.get(key)
            if build is None:
                continue
            updated = replace(build, last_log=line.text, last_log_time=parse_time(line.time))
            if updated != build:
                self.builds[key] = updated
                self._emit("build", key, build, updated)

    def refresh(self, now: float) -> None:
        """What changes with time alone: stuck builds, the launch window."""
        for key, build in list(self.builds.items()):
            stuck = mapping.is_stuck(build.phase, build.started, now, self.stuck_after)
            if stuck != build.stuck:
                updated = replace(build, stuck=stuck)
                self.builds[key] = updated
                self._emit("build", key, build, updated)
        horizon = now - LAUNCH_WINDOW
        for uid in [u for u, created in self.launches.items() if created < horizon]:
            del self.launches[uid]
        while self.departures and now - self.departures[0].time > departures.WINDOW:
            gone = self.departures.popleft()
            self._emit("departure", gone.pod, gone, None)


class WarningIndex:
    """The most recent warning events, keyed by event."""

    def __init__(self, emit: Emit, limit: int = WARNINGS_KEPT) -> None:
        self._emit = emit
        self.limit = limit
        self.events: dict[str, WarningEvent] = {}
        self.dirty = False  # events came or changed: whose objects are gone is told again

    def apply(self, kind: str, obj: Obj) -> None:
        if obj.get("type") != "Warning":
            return
        key = mapping.key_of(obj)
        old = self.events.get(key)
        if kind == "DELETED":
            if old is not None:
                del self.events[key]
                self._emit("warning", key, old, None)
            return
        event = mapping.warning_from_event(obj)
        if event is not None and old is not None and old.gone:
            event = replace(event, gone=True)  # until told again
        if event is not None and event != old:
            self.events[key] = event
            self.dirty = True
            self._emit("warning", key, old, event)
            if len(self.events) > self.limit * 5 // 4:
                self._trim()

    def _trim(self) -> None:
        ordered = sorted(self.events.items(), key=lambda item: item[1].time, reverse=True)
        for key, event in ordered[self.limit :]:
            del self.events[key]
            self._emit("warning", key, event, None)

    def sync(self, objs: Iterable[Obj]) -> None:
        seen = set()
        for obj in objs:
            self.apply("ADDED", obj)
            seen.add(mapping.key_of(obj))
        for key in set(self.events) - seen:
            self._emit("warning", key, self.events.pop(key), None)
        if len(self.events) > self.limit:
            self._trim()

    def latest(self) -> tuple[WarningEvent, ...]:
        return tuple(sorted(self.events.values(), key=lambda e: e.time, reverse=True))

    def mark_gone(self, pods: set[str]) -> None:
        """Mark the events about pods not among ``pods`` (keys) as gone, and the others
        not: a warning about a pod that was deleted is history, not a problem."""
        for key, event in list(self.events.items()):
            if event.kind != "Pod":
                continue
            gone = f"{event.namespace}/{event.object_name}" not in pods
            if gone != event.gone:
                marked = replace(event, gone=gone)
                self.events[key] = marked
                self._emit("warning", key, event, marked)
        self.dirty = False


class ClusterIndex:
    """Every row of the model, built from objects as they arrive."""

    def __init__(
        self,
        member: MemberConfig,
        emit: Emit = _no_emit,
        *,
        stuck_after: float = mapping.STUCK_AFTER_SECONDS,
        started: float | None = None,
    ) -> None:
        self.member = member
        self._emit = emit
        self.pods = PodIndex(emit, stuck_after, time.time() if started is None else started)
        self.warnings = WarningIndex(emit)
        self.traffic = TrafficIndex(emit)
        self.suspicions: tuple[Suspicion, ...] = ()
        self.node_objects: dict[str, Obj] = {}
        self.node_usage: dict[str, tuple[float, int]] = {}
        self.workloads: dict[ComponentName, Obj] = {}
        self.components: dict[ComponentName, Component] = {}
        self.nodes: dict[str, NodeStatus] = {}
        self.rotation: Rotation | None = None
        self.quota: tuple[int | None, str | None] | None = None  # (quota, why unreadable)
        self.health: Health | None = None
        self.disk: tuple[int, int] | None = None  # (used, total) bytes, read over SSH
        self._nodes_dirty = False

    # -- nodes -------------------------------------------------------------------------
    def apply_node(self, kind: str, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.node_objects.pop(name, None)
        else:
            self.node_objects[name] = obj
        self._nodes_dirty = True

    def sync_nodes(self, objs: Iterable[Obj]) -> None:
        self.node_objects = {obj["metadata"]["name"]: obj for obj in objs}
        self._nodes_dirty = True

    @property
    def cordoned(self) -> bool:
        return any((o.get("spec") or {}).get("unschedulable") for o in self.node_objects.values())

    # -- polled parts ------------------------------------------------------------------
    def set_workloads(self, objs: Iterable[Obj]) -> None:
        workloads: dict[ComponentName, Obj] = {}
        for obj in objs:
            name = mapping.workload_component(obj)
            if name is not None:
                workloads.setdefault(name, obj)
        self.workloads = workloads
        self.pods.dirty_core.update(COMPONENTS)

    def set_node_metrics(self, items: Iterable[Obj]) -> None:
        self.node_usage = {i["metadata"]["name"]: mapping.metrics_usage(i) for i in items}
        self._nodes_dirty = True

    def set_disk(self, disk: tuple[int, int]) -> None:
        self.disk = disk
        self._nodes_dirty = True

    def set_pod_metrics(self, items: Iterable[Obj]) -> None:
        self.pods.set_usage({mapping.key_of(i): mapping.metrics_usage(i) for i in items})

    def set_traffic(self, counters: Mapping[str, PodCounters]) -> None:
        """One read of the kubelets' counters (``kubelet_stats.read_counters``), and the
        sessions judged by them (here, in the reading thread, not at every redraw)."""
        self.traffic.apply(counters, self.pods.cpu_limits())
        self.suspicions = tuple(rank(self.pods.sessions, self.traffic.rows))

    def _suspicions(self) -> tuple[Suspicion, ...]:
        """The judged sessions that still run (one may have ended since the read)."""
        sessions = self.pods.sessions
        return tuple(
            s for s in self.suspicions if (now := sessions.get(s.key)) and now.phase == "Running"
        )

    def set_quota(self, quota: int | None, error: str | None = None) -> None:
        self.quota = (quota, error)
        self._refresh_rotation()

    def _refresh_rotation(self) -> None:
        if self.quota is None:
            return
        rotation = rotation_of(self.member.name, self.quota[0], self.cordoned, self.quota[1])
        if rotation != self.rotation:
            self._emit("rotation", "member", self.rotation, rotation)
            self.rotation = rotation

    def set_health(self, health: Health) -> None:
        if health != self.health:
            self._emit("health", "binderhub", self.health, health)
            self.health = health

    # -- derived rows ------------------------------------------------------------------
    def refresh(self, now: float) -> None:
        """Recompute rows that depend on several objects, where something changed."""
        self.pods.refresh(now)
        if self.pods.dirty_core:
            for name in COMPONENTS:
                if name not in self.pods.dirty_core:
                    continue
                pods = [p for p in self.pods.core.values() if p.component == name]
                workload = self.workloads.get(name)
                if workload is None and not pods:
                    continue
                row = mapping.component_from(name, workload, pods)
                old = self.components.get(name)
                if row != old:
                    self.components[name] = row
                    self._emit("component", name, old, row)
            self.pods.dirty_core.clear()
        if self._nodes_dirty or self.pods.nodes_dirty:
            self._refresh_nodes()
        if self.pods.listed and (self.pods.names_dirty or self.warnings.dirty):
            self.warnings.mark_gone(self.pods.names)
            self.pods.names_dirty = False

    def _refresh_nodes(self) -> None:
        self._refresh_rotation()  # the cordon is part of it
        counts: dict[str, int] = {}
        for node in self.pods.active.values():
            counts[node] = counts.get(node, 0) + 1
        for name, obj in self.node_objects.items():
            row = mapping.node_status(
                obj, usage=self.node_usage.get(name), pods_used=counts.get(name, 0), disk=self.disk
            )
            old = self.nodes.get(name)
            if row != old:
                self.nodes[name] = row
                self._emit("node", name, old, row)
        for name in set(self.nodes) - set(self.node_objects):
            self._emit("node", name, self.nodes.pop(name), None)
        self._nodes_dirty = False
        self.pods.nodes_dirty = False

    def state(
        self, connection: ConnectionState = "connected", errors: Mapping[str, str] | None = None
    ) -> ClusterState:
        return ClusterState(
            time=time.time(),
            sessions=dict(self.pods.sessions),
            builds=dict(self.pods.builds),
            components=dict(self.components),
            nodes=dict(self.nodes),
            warnings=self.warnings.latest(),
            rotation=self.rotation,
            health=self.health,
            launches_last_hour=len(self.pods.launches),
            connection=connection,
            errors=dict(errors or {}),
            traffic=dict(self.traffic.rows),
            suspicions=self._suspicions(),
            stuck_after=self.pods.stuck_after,
            departures=tuple(self.pods.departures),
        )


def _disk_pressure(node: Obj) -> str | None:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "DiskPressure":
            return str(condition.get("status"))
    return None


# -- reads shared by the model's polls and the one-shot snapshot --------------------------
def list_pods(kube: Kube, selector: str | None = None) -> list[Obj]:
    return kube.list(kube_api.PODS, labelSelector=selector)


def list_nodes(kube: Kube) -> list[Obj]:
    return kube.list(kube_api.NODES)


def list_events(kube: Kube) -> list[Obj]:
    return kube.list(kube_api.EVENTS)


def list_workloads(kube: Kube) -> list[Obj]:
    """Every Deployment and DaemonSet (a handful on a member; ``set_workloads`` keeps the
    core ones)."""
    deployments = kube.list(kube_api.DEPLOYMENTS)
    daemonsets = kube.list(kube_api.DAEMONSETS)
    for obj in daemonsets:
        obj.setdefault("kind", "DaemonSet")
    return deployments + daemonsets


def list_node_metrics(kube: Kube) -> list[Obj]:
    return kube.list(kube_api.NODE_METRICS)


def list_session_metrics(kube: Kube) -> list[Obj]:
    return kube.list(kube_api.POD_METRICS, labelSelector=mapping.SESSION_SELECTOR)


def read_build_logs(kube: Kube, builds: Iterable[Build]) -> dict[str, LogLine]:
    """The last line each running build logged, by the build's key (a hung build has
    fallen silent: the time of its last line says since when)."""
    from binderctl.services.logs import last_build_line

    lines = {}
    for build in builds:
        if build.phase == "Running":
            line = last_build_line(kube, build.namespace, build.pod)
            if line is not None:
                lines[f"{build.namespace}/{build.pod}"] = line
    return lines


def read_departures(
    member: MemberConfig,
    kube: Kube,
    core: Mapping[str, mapping.ComponentPod],
    untold: Sequence[Departure],
) -> tuple[dict[str, str], dict[str, str]]:
    """What binderctl did since the first of ``untold`` departed (the audit log) and
    whose servers the hub was asked to stop (its pods' logs since then)."""
    from binderctl.services import audit
    from binderctl.services.logs import read_lines

    since = min(d.time for d in untold) - departures.BURST_GAP
    acted = audit.acted_on(member.name, since)
    seconds = max(1, int(time.time() - since))
    lines: list[str] = []
    for key, pod in core.items():
        if pod.component == "hub":
            namespace, name = key.split("/", 1)
            lines += read_lines(kube, namespace, name, "hub", seconds)
    return acted, departures.hub_stops(lines)


def read_quota(kube: Kube) -> tuple[int | None, str | None]:
    """The launch quota, or (None, why it could not be read)."""
    from binderctl.services.binderhub import get_launch_quota

    try:
        return get_launch_quota(kube), None
    except BinderctlError as exc:
        return None, exc.message


def read_traffic(kube: Kube, nodes: Iterable[str] | None = None) -> dict[str, PodCounters]:
    """Every pod's counters from the kubelets of ``nodes`` (default: every node)."""
    from binderctl.services.kubelet_stats import node_names

    return read_counters(kube, node_names(kube) if nodes is None else nodes)


def read_health(kube: Kube, member: MemberConfig) -> Health:
    from binderctl.services.binderhub import fetch_health

    return fetch_health(member, kube.host)


def read_disk(member: MemberConfig, address: str) -> tuple[int, int]:
    """(used, total) bytes of the node's k3s filesystem, over SSH (``df``)."""
    from binderctl.services.node import Node

    usage = Node(member, address, connect_timeout=5.0).disk_usage()
    return usage.used, usage.total


# every part but "disk", which needs SSH to the node, and "traffic" (the kubelet's stats)
PARTS = ("pods", "nodes", "events", "workloads", "node_metrics", "pod_metrics", "health")


def collect(
    kube: Kube,
    member: MemberConfig,
    parts: Iterable[str] = PARTS,
    *,
    pod_selector: str | None = None,
    stuck_after: float = mapping.STUCK_AFTER_SECONDS,
) -> ClusterState:
    """One round of lists (in parallel) through the same mapping as the live model.

    A part that cannot be read is named in ``errors``; the rest is still returned.
    The launch quota (for rotation) is read whenever nodes are.
    """
    wanted = set(parts)
    readers: dict[str, Callable[[], Any]] = {
        "pods": lambda: list_pods(kube, pod_selector),
        "nodes": lambda: list_nodes(kube),
        "events": lambda: list_events(kube),
        "workloads": lambda: list_workloads(kube),
        "node_metrics": lambda: list_node_metrics(kube),
        "pod_metrics": lambda: list_session_metrics(kube),
        "health": lambda: read_health(kube, member),
        "disk": lambda: read_disk(member, kube.host),
        "traffic": lambda: read_traffic(kube),
    }
    if "nodes" in wanted:
        readers["quota"] = lambda: read_quota(kube)
        wanted.add("quota")
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        futures = {name: pool.submit(readers[name]) for name in wanted if name in readers}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except BinderctlError as exc:
                errors[name] = exc.message
    index = ClusterIndex(member, stuck_after=stuck_after)
    if "pod_metrics" in results:
        index.set_pod_metrics(results["pod_metrics"])
    if "pods" in results:
        index.pods.sync(results["pods"])
    if "nodes" in results:
        index.sync_nodes(results["nodes"])
        index.set_quota(*results["quota"])
    if "node_metrics" in results:
        index.set_node_metrics(results["node_metrics"])
    if "events" in results:
        index.warnings.sync(results["events"])
    if "workloads" in results:
        index.set_workloads(results["workloads"])
    if "health" in results:
        index.set_health(results["health"])
    if "disk" in results:
        index.set_disk(results["disk"])
    if "traffic" in results:
        index.set_traffic(results["traffic"])
    index.refresh(time.time())
    return index.state(errors=errors)


# -- the live model ----------------------------------------------------------------------
Subscriber = Callable[[list[Change]], None]


class ClusterModel:
    """One member's live state, kept current by background threads.

    ``subscribe(callback)`` delivers, once per tick and from the model's dispatcher
    thread, the list of rows that changed (coalesced: one ``Change`` per row with its
    state before the tick and after it); what a watch has just listed is delivered at
    once. Consumers on another loop hop over themselves (the console posts a Textual
    message). ``state()`` returns a consistent copy.

    The polls start once pods and nodes are listed, ``/health`` and the disk once the
    watches have listed or failed: a busy member's first lists are not slowed by them.
    ``deferred_until``, when given, holds back what is not urgent (disk reads over SSH,
    samples for the session history) until it is set: the console sets it once its
    start is over, when another thread has imported the libraries they use. The first
    history sample is taken one ``history_interval`` after the start.
    """

    def __init__(
        self,
        member: MemberConfig,
        kube: Kube | None = None,
        *,
        tick: float = 0.25,
        poll_interval: float = 5.0,
        health_interval: float = 15.0,
        history_interval: float = 60.0,
        disk_interval: float | None = 60.0,
        stats_interval: float | None = STATS_INTERVAL,
        history_limit: int = 720,
        stuck_after: float = mapping.STUCK_AFTER_SECONDS,
        record_history: bool = True,
        deferred_until: threading.Event | None = None,
    ) -> None:
        self.member = member
        self.kube = kube or Kube(member)
        self.tick = tick
        self.poll_interval = poll_interval
        self.health_interval = health_interval
        self.history_interval = history_interval
        self.disk_interval = disk_interval
        self.stats_interval = stats_interval
        self.record_history = record_history
        if deferred_until is None:
            deferred_until = threading.Event()
            deferred_until.set()
        self._deferred_until = deferred_until
        self.history = History(limit=history_limit)
        self._lock = threading.Lock()
        self._pending: dict[tuple[ChangeKind, str], list[object]] = {}
        self._index = ClusterIndex(member, self._emit, stuck_after=stuck_after)
        self._subscribers: list[Subscriber] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._streams: dict[str, ConnectionState] = {}
        self._connection: ConnectionState = "connecting"
        self.last_error: str | None = None
        self._errors: dict[str, str] = {}
        self._polled = threading.Event()
        self._relisted = threading.Event()  # a watch has just listed: deliver before the tick
        self._disk_due = threading.Event()  # read the disk now
        self._settled = threading.Event()  # the watches have listed or failed once
        self._reflectors = [
            Reflector(
                self.kube,
                "pods",
                kube_api.PODS,
                on_sync=self._locked(self._index.pods.sync),
                on_event=self._locked_event(self._index.pods.apply),
                on_state=self._stream_state,
                stop=self._stop,
            ),
            Reflector(
                self.kube,
                "nodes",
                kube_api.NODES,
                on_sync=self._locked(self._index.sync_nodes),
                on_event=self._locked_event(self._node_event),
                on_state=self._stream_state,
                stop=self._stop,
            ),
            Reflector(
                self.kube,
                "events",
                kube_api.EVENTS,
                on_sync=self._locked(self._index.warnings.sync),
                on_event=self._locked_event(self._index.warnings.apply),
                on_state=self._stream_state,
                stop=self._stop,
            ),
        ]

    # -- plumbing ----------------------------------------------------------------------
    def _emit(self, kind: ChangeKind, key: str, old: object, new: object) -> None:
        pending = self._pending.get((kind, key))
        if pending is None:
            self._pending[(kind, key)] = [old, new]
        else:
            pending[1] = new

    def _locked(self, apply: Callable[[list[Obj]], None]) -> Callable[[list[Obj]], None]:
        def run(objs: list[Obj]) -> None:
            with self._lock:
                apply(objs)

        return run

    def _locked_event(self, apply: Callable[[str, Obj], None]) -> Callable[[str, Obj], None]:
        lock = self._lock

        def run(kind: str, obj: Obj) -> None:
            with lock:
                try:
                    apply(kind, obj)
                except (KeyError, TypeError, ValueError, AttributeError):
                    log.warning("skipped a malformed %s event", kind, exc_info=True)

        return run

    def _node_event(self, kind: str, obj: Obj) -> None:
        """A node's DiskPressure that comes or goes (an eviction, a prune) makes the
        disk figure stale: it is read again at once, not at the next interval."""
        old = self._index.node_objects.get(obj["metadata"]["name"])
        self._index.apply_node(kind, obj)
        if old is None or _disk_pressure(old) != _disk_pressure(obj):
            self._disk_due.set()

    def _stream_state(self, name: str, state: ConnectionState, error: str | None) -> None:
        with self._lock:
            self._streams[name] = state
            if error:
                self.last_error = error
            states = set(self._streams.values())
            for worst in ("disconnected", "reconnecting", "connecting", "connected"):
                if worst in states:
                    break
            if worst != self._connection:
                self._emit("connection", "cluster", self._connection, worst)
                self._connection = worst
        if state == "connected":
            self._relisted.set()
        if worst != "connecting":
            self._settled.set()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> ClusterModel:
        if self._threads:
            return self
        targets: list[tuple[str, Callable[[], None]]] = [
            (f"binderctl-watch-{r.name}", r.run) for r in self._reflectors
        ]
        targets += [
            ("binderctl-poll", self._poll_loop),
            ("binderctl-health", self._health_loop),
            ("binderctl-dispatch", self._dispatch_loop),
        ]
        if self.disk_interval is not None:
            targets.append(("binderctl-disk", self._disk_loop))
        if self.stats_interval is not None:
            targets.append(("binderctl-stats", self._stats_loop))
        for name, target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._relisted.set()
        self._disk_due.set()
        for reflector in self._reflectors:
            reflector.interrupt()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> ClusterModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def listed(self) -> bool:
        """Whether every watch has listed once (the rows are whole)."""
        return all(r.synced.is_set() for r in self._reflectors)

    def wait_synced(self, timeout: float = 30.0) -> bool:
        """Until every watch has listed once and the first poll is done."""
        deadline = time.monotonic() + timeout
        for event in [r.synced for r in self._reflectors] + [self._polled]:
            if not event.wait(max(0.0, deadline - time.monotonic())):
                return False
        self.flush()
        return True

    # -- consumers ---------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def state(self) -> ClusterState:
        with self._lock:
            return self._index.state(self._connection, self._errors)

    def history_copy(self) -> History:
        """The samples for plots, copied under the lock (the poll thread appends)."""
        with self._lock:
            history = self.history
            return History(
                history.limit,
                history.node_cpu.copy(),
                history.node_memory.copy(),
                history.node_disk.copy(),
                history.pods.copy(),
                history.sessions.copy(),
            )

    @property
    def connection(self) -> ConnectionState:
        return self._connection

    def set_stuck_after(self, seconds: float) -> None:
        """Count builds running longer than ``seconds`` as stuck from now on (the
        console's `:builds --stuck-after`); subscribers hear of the builds it changes."""
        with self._lock:
            self._index.pods.stuck_after = seconds
        self.flush()

    @property
    def launches_total(self) -> int:
        return self._index.pods.launches_total

    def flush(self) -> list[Change]:
        """Deliver the changes gathered since the last tick (the dispatcher calls this)."""
        with self._lock:
            self._index.refresh(time.time())
            pending, self._pending = self._pending, {}
            subscribers = list(self._subscribers)
        changes = [
            Change(kind, key, old, new) for (kind, key), (old, new) in pending.items() if old != new
        ]
        if changes:
            for callback in subscribers:
                try:
                    callback(changes)
                except Exception:
                    log.exception("a model subscriber failed")
        return changes

    # -- threads -----------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        while True:
            self._relisted.wait(self.tick)
            if self._stop.is_set():
                return
            self._relisted.clear()
            self.flush()

    def _wait_for(self, *events: threading.Event) -> bool:
        """Until every one of ``events`` is set; False if the model stops first."""
        for event in events:
            while not event.wait(0.5):
                if self._stop.is_set():
                    return False
        return True

    def _poll_part(self, name: str, read: Callable[[], Any], apply: Callable[[Any], None]) -> None:
        try:
            result = read()
        except BinderctlError as exc:
            with self._lock:
                self._errors[name] = exc.message
            return
        with self._lock:
            self._errors.pop(name, None)
            apply(result)

    def poll(self) -> None:
        """One round of the polled parts (metrics, workloads, quota) and a history sample."""
        kube, index = self.kube, self._index
        self._poll_part("node_metrics", lambda: list_node_metrics(kube), index.set_node_metrics)
        self._poll_part("pod_metrics", lambda: list_session_metrics(kube), index.set_pod_metrics)
        self._poll_part("workloads", lambda: list_workloads(kube), index.set_workloads)
        with self._lock:
            builds = list(index.pods.builds.values())
        if builds:
            self._poll_part(
                "build_logs", lambda: read_build_logs(kube, builds), index.pods.set_build_logs
            )
        with self._lock:
            untold, core = index.pods.untold(), dict(index.pods.core)
        if untold:
            self._poll_part(
                "departures",
                lambda: read_departures(self.member, kube, core, untold),
                lambda found: index.pods.explain(found[0], found[1], time.time()),
            )
        quota, error = read_quota(kube)
        with self._lock:
            index.set_quota(quota, error)
        with self._lock:
            index.refresh(time.time())
            self._sample(time.time())

    def refresh_disk(self) -> None:
        """Read the node's disk now, not at the next disk poll (after an action that
        changed it: the gauge then says what the action's outcome says); subscribers
        hear of it before this returns."""
        self._read_disk()
        self.flush()

    def _read_disk(self) -> None:
        self._poll_part(
            "disk", lambda: read_disk(self.member, self.kube.host), self._index.set_disk
        )

    def _sample(self, now: float) -> None:
        node = next(iter(self._index.nodes.values()), None)
        history = self.history
        if node is not None:
            if node.cpu_usage is not None:
                history.node_cpu.append((now, node.cpu_usage))
            if node.memory_usage is not None:
                history.node_memory.append((now, float(node.memory_usage)))
            if node.disk_usage is not None:
                history.node_disk.append((now, float(node.disk_usage)))
            history.pods.append((now, float(node.pods_used)))
        history.sessions.append((now, float(running(self._index.pods.sessions.values()))))
        self._emit("history", "sample", None, now)

    def _record_history(self) -> None:
        from binderctl.services.session_history import record_sample

        state = self.state()
        try:
            record_sample(self.member, state.time, state.sessions_running, self.launches_total)
        except (BinderctlError, OSError) as exc:
            log.warning("could not record the session history: %s", exc)

    def _poll_loop(self) -> None:
        # rotation needs the nodes, rows the pods
        if not self._wait_for(self._reflectors[0].synced, self._reflectors[1].synced):
            return
        recorded = time.monotonic()
        while not self._stop.is_set():
            self.poll()
            self._polled.set()
            if (
                self.record_history
                and self._deferred_until.is_set()
                and time.monotonic() - recorded >= self.history_interval
            ):
                recorded = time.monotonic()
                self._record_history()
            self._stop.wait(self.poll_interval)

    def poll_traffic(self) -> None:
        """One read of the kubelets' counters into the sessions' sliding windows."""
        with self._lock:
            nodes = list(self._index.node_objects)
        if nodes:
            self._poll_part(
                "traffic", lambda: read_traffic(self.kube, nodes), self._index.set_traffic
            )

    def _stats_loop(self) -> None:
        assert self.stats_interval is not None
        if not self._wait_for(self._reflectors[0].synced, self._reflectors[1].synced):
            return
        while not self._stop.is_set():
            self.poll_traffic()
            self._stop.wait(self.stats_interval)

    def _disk_loop(self) -> None:
        assert self.disk_interval is not None
        if not self._wait_for(self._settled, self._deferred_until):
            return
        while not self._stop.is_set():
            self._disk_due.clear()
            self._read_disk()
            self._disk_due.wait(self.disk_interval)

    def _health_loop(self) -> None:
        if not self._wait_for(self._settled):
            return
        while not self._stop.is_set():
            try:
                health = read_health(self.kube, self.member)
            except BinderctlError as exc:
                health = Health(ok=None, error=exc.message)
            with self._lock:
                self._index.set_health(health)
            self._stop.wait(self.health_interval)
