"""The node agent: runs every pod bound to the simulated node, as the kubelet would.

The control plane (controllers, scheduler, graceful deletion) lives in ``demo/kube``;
from the moment a pod has ``spec.nodeName`` of this node, this module owns its
``status``: admission (``OutOfpods``, DiskPressure), Secret volumes (``FailedMount``
while one is missing), image pulls (with
``ErrImagePull``/``ImagePullBackOff``), container starts, readiness, exits and
restarts (``CrashLoopBackOff``), evictions, and the Killing of a pod being deleted.
What a container does once started is a ``Plan`` chosen by the simulation's
``Workload`` for that pod.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from binderctl.demo.kube import types
from binderctl.demo.kube.defaults import qos_class
from binderctl.demo.kube.events import EventRecorder, Source, rfc3339
from binderctl.demo.kube.store import Obj, Store, StoreError, WatchEvent
from binderctl.demo.member import node as node_object
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.disk import Disk, Image
from binderctl.demo.member.hardware import EVICTION_IMAGEFS, Hardware
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.timeline import Timeline, Timer
from binderctl.demo.member.volumes import unmountable

PULL_BYTES_PER_SECOND = 150 * 1000**2
BACKOFF_START = 10.0
BACKOFF_MAX = 300.0
# A failed volume set-up is retried after 500 ms, doubling up to 2m2s (exponentialbackoff).
MOUNT_RETRY_FIRST = 0.5
MOUNT_RETRY_MAX = 122.0
EVICTION_INTERVAL = 10.0
IMAGE_GC_INTERVAL = 300.0
SANDBOX_RETRY = 10.0  # seconds before the kubelet tries a failed pod sandbox again
STATUS_REPORT_INTERVAL = 300.0
ACTIVE = ("Pending", "Running")
STOP_SECONDS = 1.0  # how long containers take to stop after SIGTERM


@dataclass(frozen=True)
class Plan:
    """What a pod's containers do once started."""

    ready_after: float | None = 2.0  # seconds until Ready; None: never
    exit_after: float | None = None  # every container exits after this long
    exit_code: int = 0


class Workload(Protocol):
    """The part of the simulation that knows what a kind of pod does."""

    def plan(self, pod: Obj) -> Plan: ...

    def started(self, pod: Obj, container: str) -> None: ...

    def ready(self, pod: Obj) -> None: ...

    def exited(self, pod: Obj, container: str, code: int) -> None: ...

    def rejected(self, pod: Obj, reason: str) -> None: ...

    def removed(self, pod: Obj) -> None: ...


@dataclass
class Run:
    namespace: str
    name: str
    uid: str
    containers: list[tuple[str, str]]  # (name, image)
    workload: Workload
    plan: Plan
    restart_policy: str
    pod_ip: str
    qos: str
    start_time: str
    phase: str = "Pending"
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    ready: bool = False
    reason: str | None = None
    message: str | None = None
    timers: list[Timer] = field(default_factory=list)
    backoff: dict[str, float] = field(default_factory=dict)
    terminating: bool = False
    has_init: bool = False


def image_id(image: str) -> str:
    name, _, tag = image.rpartition(":")
    repo = name if name and "/" not in tag else image
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


class Kubelet:
    def __init__(
        self,
        store: Store,
        timeline: Timeline,
        clock: SimClock,
        events: EventRecorder,
        logs: LogBook,
        rng: random.Random,
        *,
        node_name: str,
        node_ip: str,
        hardware: Hardware,
        max_pods: int,
        node_cidr_mask: int,
        k3s_version: str,
        image_size: Callable[[str], int | None],
        workload_for: Callable[[Obj], Workload],
        image_gc_high_percent: int = 85,
        image_gc_low_percent: int = 80,
    ) -> None:
        self.store = store
        self.timeline = timeline
        self.clock = clock
        self.events = events
        self.logs = logs
        self.rng = rng
        self.node_name = node_name
        self.node_ip = node_ip
        self.hardware = hardware
        self.max_pods = max_pods
        self.k3s_version = k3s_version
        self.image_size = image_size
        self.workload_for = workload_for
        self.gc_high = image_gc_high_percent
        self.gc_low = image_gc_low_percent
        self.disk = Disk(hardware.disk)
        self.runs: dict[str, Run] = {}  # by pod uid
        self.disk_pressure = False
        self._admitting: set[str] = set()
        self.source = Source("kubelet", node_name)
        self.pod_cidr = node_object.pod_cidr(node_cidr_mask)
        network = ipaddress.ip_network(self.pod_cidr)
        self._free_ips = [str(ip) for ip in list(network.hosts())[node_object.RESERVED_POD_IPS :]]
        self._ip_range = f"{self._free_ips[0]}-{self._free_ips[-1]}"
        self._free_ips.reverse()

    # -- node ------------------------------------------------------------------------
    def stamp(self) -> str:
        return rfc3339(self.clock.wall(self.timeline.now))

    def register(self) -> None:
        """Create the Node object and start the kubelet's periodic work."""
        node = node_object.node_object(
            self.node_name,
            self.node_ip,
            self.hardware,
            self.max_pods,
            self.k3s_version,
            self.stamp(),
            self.rng,
            self.pod_cidr,
        )
        self.store.create(types.NODES, node)
        self.timeline.every(EVICTION_INTERVAL, self._check_pressure, self.timeline.now)
        self.timeline.every(IMAGE_GC_INTERVAL, self._image_gc, self.timeline.now)
        self.timeline.every(
            STATUS_REPORT_INTERVAL, self._report_status, self.timeline.now + STATUS_REPORT_INTERVAL
        )
        self.store.add_listener(self._on_event)

    def node(self) -> Obj:
        return self.store.get(types.NODES, None, self.node_name)

    def _report_status(self, changed: str | None = None) -> None:
        stamp = self.stamp()

        def change(node: Obj) -> None:
            for cond in node["status"]["conditions"]:
                bad = cond["type"] == "DiskPressure" and self.disk_pressure
                since = stamp if cond["type"] == changed else cond["lastTransitionTime"]
                cond.update(node_object.condition(cond["type"], bad, stamp, since))

        self.store.mutate(types.NODES, None, self.node_name, change)

    def _in_use(self) -> set[str]:
        return {
            image
            for run in self.runs.values()
            if run.phase in ACTIVE
            for name, image in run.containers
            if "running" in run.states.get(name, {})
        }

    def _image_gc(self) -> None:
        if self.disk.percent_used() <= self.gc_high:
            return
        wanted = self.disk.used - int(self.disk.capacity * self.gc_low / 100)
        freed = self.disk.remove_unused(self._in_use(), int(self.disk.capacity * self.gc_low / 100))
        if freed < wanted:
            self.events.emit(
                self.node(),
                "Warning",
                "FreeDiskSpaceFailed",
                f"Failed to garbage collect required amount of images. Attempted to free "
                f"{wanted} bytes, but only found {freed} bytes eligible to free.",
                self.source,
            )

    def prune_images(self) -> int:
        """``crictl rmi --prune``: delete every image no container uses; bytes freed."""
        freed = self.disk.remove_unused(self._in_use())
        self._check_pressure()
        return freed

    def _check_pressure(self) -> None:
        threshold = int(self.disk.capacity * EVICTION_IMAGEFS)
        pressure = self.disk.available < threshold
        if pressure != self.disk_pressure:
            self.disk_pressure = pressure
            self._report_status(changed="DiskPressure")
            state = "NodeHasDiskPressure" if pressure else "NodeHasNoDiskPressure"
            self.events.emit(
                self.node(), "Normal", state, f"Node {self.node_name} status is now: {state}",
                self.source,
            )  # fmt: skip
        if pressure:
            self.events.emit(
                self.node(),
                "Warning",
                "EvictionThresholdMet",
                "Attempting to reclaim ephemeral-storage",
                self.source,
            )
            self._evict_one(threshold)

    def _evict_one(self, threshold: int) -> None:
        candidates = [
            r for r in self.runs.values()
            if r.phase == "Running" and not r.terminating and r.qos != "Guaranteed"
            and r.namespace != "kube-system"
        ]  # fmt: skip
        if not candidates:
            return
        victim = min(candidates, key=lambda r: r.start_time)
        message = (
            "The node was low on resource: ephemeral-storage. Threshold quantity: "
            f"{threshold}, available: {self.disk.available}. "
        )
        self.evict(victim, message)

    # -- API writes ------------------------------------------------------------------
    def _on_event(self, event: WatchEvent) -> None:
        if event.rt is not types.PODS:
            return
        pod = event.obj
        if pod["spec"].get("nodeName") != self.node_name:
            return
        uid = pod["metadata"]["uid"]
        run = self.runs.get(uid)
        if event.type == "DELETED":
            if run is not None:
                self.timeline.soon(lambda: self._forget(uid, pod))
            return
        if run is None:
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                return
            if uid not in self._admitting:
                self._admitting.add(uid)
                meta = pod["metadata"]
                self.timeline.soon(lambda: self._admit(uid, meta["namespace"], meta["name"]))
        elif pod["metadata"].get("deletionTimestamp") and not run.terminating:
            self.timeline.soon(lambda: self.kill(run))

    def _current(self, run: Run) -> Obj | None:
        pod = self.store.find(types.PODS, run.namespace, run.name)
        if pod is None or pod["metadata"]["uid"] != run.uid:
            return None
        return pod

    # -- admission and start ---------------------------------------------------------
    def adopt(self, pod: Obj) -> None:
        """Take over a pod written as already running (a member that was up before)."""
        run = self._new_run(pod)
        run.phase = "Running"
        run.ready = True
        for name, image in run.containers:
            run.states[name] = {"running": {"startedAt": run.start_time}}
            size = self.image_size(image)
            if size is not None and image not in self.disk.images:  # it runs: it was pulled
                self.disk.images[image] = Image(size, self.timeline.now)
        self.runs[run.uid] = run
        self._write(run)
        for name, _ in run.containers:
            self.logs.start(run.namespace, run.name, name)
            run.workload.started(pod, name)
        run.workload.ready(pod)
        self._schedule_exit(run)

    def _new_run(self, pod: Obj) -> Run:
        meta, spec = pod["metadata"], pod["spec"]
        status = pod.get("status") or {}
        ip = status.get("podIP") or self._free_ips.pop()
        containers = [(c["name"], c.get("image", "")) for c in spec["containers"]]
        run = Run(
            namespace=meta["namespace"],
            name=meta["name"],
            uid=meta["uid"],
            containers=containers,
            workload=self.workload_for(pod),
            plan=Plan(),
            restart_policy=spec.get("restartPolicy", "Always"),
            pod_ip=ip,
            qos=qos_class(spec),
            start_time=status.get("startTime") or self.stamp(),
            has_init=bool(spec.get("initContainers")),
        )
        run.plan = run.workload.plan(pod)
        for name, _ in containers:
            run.restarts[name] = 0
            run.ids[name] = f"containerd://{self.rng.getrandbits(256):064x}"
        return run

    def pod_status(self, run: Run) -> dict[str, Any]:
        """The pod's ``status`` as the kubelet reports it."""
        stamp = self.stamp()
        unready = [n for n, _ in run.containers if not (run.ready and "running" in run.states[n])]
        started = any("running" in s or "terminated" in s for s in run.states.values())
        done = run.phase in ("Succeeded", "Failed")

        def cond(kind: str, ok: bool, reason: str | None = None) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "type": kind,
                "status": "True" if ok else "False",
                "lastProbeTime": None,
                "lastTransitionTime": stamp,
            }
            if not ok and reason:
                entry["reason"] = reason
                if reason == "ContainersNotReady":
                    entry["message"] = f"containers with unready status: [{' '.join(unready)}]"
            return entry

        reason = "PodCompleted" if done else "ContainersNotReady"
        status: dict[str, Any] = {
            "phase": run.phase,
            "conditions": [
                cond("PodReadyToStartContainers", started and not done),
                cond("Initialized", True),
                cond("Ready", not unready and not done, reason),
                cond("ContainersReady", not unready and not done, reason),
            ],
            "hostIP": self.node_ip,
            "hostIPs": [{"ip": self.node_ip}],
            "podIP": run.pod_ip,
            "podIPs": [{"ip": run.pod_ip}],
            "startTime": run.start_time,
            "qosClass": run.qos,
            "containerStatuses": [
                {
                    "name": name,
                    "state": run.states.get(name) or {"waiting": {"reason": "ContainerCreating"}},
                    "lastState": run.last_states.get(name, {}),
                    "ready": run.ready and "running" in run.states.get(name, {}),
                    "restartCount": run.restarts[name],
                    "image": image,
                    "imageID": image_id(image) if name in run.states else "",
                    "containerID": run.ids[name] if started else None,
                    "started": "running" in run.states.get(name, {}),
                }
                for name, image in run.containers
            ],
        }
        for entry in status["containerStatuses"]:
            if entry["containerID"] is None:
                del entry["containerID"]
        if run.reason:
            status["reason"] = run.reason
            status["message"] = run.message
        return status

    def _write(self, run: Run) -> None:
        status = self.pod_status(run)

        def change(pod: Obj) -> None:
            old = pod.get("status") or {}
            keep = [c for c in old.get("conditions", []) if c["type"] == "PodScheduled"]
            previous = {c["type"]: c for c in old.get("conditions", [])}
            for c in status["conditions"]:
                before = previous.get(c["type"])
                if before is not None and before.get("status") == c["status"]:
                    c["lastTransitionTime"] = before.get("lastTransitionTime")
            status["conditions"] = status["conditions"] + keep
            if run.has_init:
                status["initContainerStatuses"] = [
                    {
                        "name": c["name"],
                        "image": c.get("image", ""),
                        "imageID": image_id(c.get("image", "")),
                        "ready": True,
                        "restartCount": 0,
                        "started": False,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
                        "lastState": {},
                    }
                    for c in pod["spec"].get("initContainers", [])
                ]
            pod["status"] = status

        # Deleted meanwhile: the DELETED event cleans up.
        with contextlib.suppress(StoreError):
            self.store.mutate(types.PODS, run.namespace, run.name, change)

    def _reject(self, pod: Obj, reason: str, message: str) -> None:
        def change(obj: Obj) -> None:
            obj["status"] = {
                **(obj.get("status") or {}),
                "phase": "Failed",
                "reason": reason,
                "message": f"Pod was rejected: {message}",
                "startTime": self.stamp(),
            }

        self.store.mutate(types.PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], change)
        self.events.emit(pod, "Warning", reason, message, self.source)
        self.workload_for(pod).rejected(pod, reason)

    def active_pods(self) -> int:
        return sum(1 for r in self.runs.values() if r.phase in ACTIVE)

    def _admit(self, uid: str, namespace: str, name: str) -> None:
        self._admitting.discard(uid)
        pod = self.store.find(types.PODS, namespace, name)
        if (
            uid in self.runs
            or pod is None
            or pod["metadata"]["uid"] != uid
            or pod["metadata"].get("deletionTimestamp")
        ):
            return
        status = pod.get("status") or {}
        if status.get("phase") == "Running" and status.get("containerStatuses"):
            self.adopt(pod)
            return
        used = self.active_pods()
        if used >= self.max_pods:
            self._reject(
                pod,
                "OutOfpods",
                f"Node didn't have enough resource: pods, requested: 1, used: {used}, "
                f"capacity: {self.max_pods}",
            )
            return
        if self.disk_pressure and pod["metadata"]["namespace"] != "kube-system":
            self._reject(pod, "Evicted", "The node had condition: [DiskPressure]. ")
            return
        if not status.get("podIP") and not self._free_ips:
            self._no_address(pod)
            return
        run = self._new_run(pod)
        self.runs[uid] = run
        self._write(run)
        self._mount(run, 0.0)

    def _no_address(self, pod: Obj) -> None:
        """CNI host-local has no address left in the node's range: the sandbox is not made,
        the pod stays Pending, and the kubelet tries again."""
        meta = pod["metadata"]
        sandbox = f"{self.rng.getrandbits(256):064x}"
        self.events.emit(
            pod,
            "Warning",
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup "
            f'network for sandbox "{sandbox}": plugin type="flannel" failed (add): failed to '
            "delegate add: failed to allocate for range 0: no IP addresses available in range "
            f"set: {self._ip_range}",
            self.source,
        )
        uid, namespace, name = meta["uid"], meta["namespace"], meta["name"]
        self.timeline.after(SANDBOX_RETRY, lambda: self._admit(uid, namespace, name))

    def _emit(self, run: Run, type_: str, reason: str, message: str, container: str | None) -> None:
        pod = self._current(run)
        if pod is None:
            return
        field_path = f"spec.containers{{{container}}}" if container else ""
        self.events.emit(pod, type_, reason, message, self.source, field_path)

    def _later(self, run: Run, delay: float, callback: Callable[[], None]) -> None:
        run.timers = [t for t in run.timers if not t.cancelled and t.when >= self.timeline.now]

        def guarded() -> None:
            if self.runs.get(run.uid) is run and not run.terminating:
                callback()

        run.timers.append(self.timeline.after(delay, guarded))

    def _mount(self, run: Run, waited: float) -> None:
        """Set up the pod's volumes, then pull its images; retried while a Secret is
        missing."""
        pod = self._current(run)
        if pod is None:
            return
        problem = unmountable(self.store, pod)
        if problem is None:
            if waited:  # what its containers do is decided when they can start
                run.plan = run.workload.plan(pod)
            self._pull(run, 0)
            return
        self._emit(run, "Warning", "FailedMount", problem, None)
        delay = min(max(waited * 2, MOUNT_RETRY_FIRST), MOUNT_RETRY_MAX)
        self._later(run, delay, lambda: self._mount(run, delay))

    def _pull(self, run: Run, index: int) -> None:
        if index == len(run.containers):
            self._start_all(run)
            return
        name, image = run.containers[index]
        known = self.disk.images.get(image)
        if known is not None:
            known.last_used = self.timeline.now
            self._emit(
                run, "Normal", "Pulled", f'Container image "{image}" already present on machine',
                name,
            )  # fmt: skip
            self._pull(run, index + 1)
            return
        self._emit(run, "Normal", "Pulling", f'Pulling image "{image}"', name)
        size = self.image_size(image)
        if size is None:
            self._later(run, 1.0 + self.rng.random(), lambda: self._pull_failed(run, index))
            return
        seconds = size / PULL_BYTES_PER_SECOND * (0.8 + 0.4 * self.rng.random())

        def pulled() -> None:
            self.disk.images[image] = Image(size, self.timeline.now)
            self._emit(
                run,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{image}" in {seconds:.3f}s ({seconds:.3f}s '
                f"including waiting). Image size: {size} bytes.",
                name,
            )
            run.backoff.pop(name, None)
            self._pull(run, index + 1)

        self._later(run, seconds, pulled)

    def _pull_failed(self, run: Run, index: int) -> None:
        name, image = run.containers[index]
        ref = image if "/" in image.split(":", 1)[0] else f"docker.io/library/{image}"
        self._emit(
            run,
            "Warning",
            "Failed",
            f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull '
            f'and unpack image "{ref}": failed to resolve reference "{ref}": {ref}: not found',
            name,
        )
        self._emit(run, "Warning", "Failed", "Error: ErrImagePull", name)
        run.states[name] = {"waiting": {"reason": "ErrImagePull", "message": f"{ref}: not found"}}
        self._write(run)
        delay = run.backoff.get(name, BACKOFF_START / 2) * 2
        run.backoff[name] = min(delay, BACKOFF_MAX)

        def backing_off() -> None:
            self._emit(run, "Normal", "BackOff", f'Back-off pulling image "{image}"', name)
            self._emit(run, "Warning", "Failed", "Error: ImagePullBackOff", name)
            run.states[name] = {
                "waiting": {
                    "reason": "ImagePullBackOff",
                    "message": f'Back-off pulling image "{image}": ErrImagePull: {ref}: not found',
                }
            }
            self._write(run)
            self._later(run, run.backoff[name], lambda: self._pull(run, index))

        self._later(run, 1.0, backing_off)

    def _start_all(self, run: Run) -> None:
        pod = self._current(run)
        if pod is None:
            return
        for name, _ in run.containers:
            self._start_container(run, pod, name)
        run.phase = "Running"
        self._write(run)
        if run.plan.ready_after is not None:
            self._later(run, run.plan.ready_after, lambda: self._become_ready(run))
        self._schedule_exit(run)

    def _start_container(self, run: Run, pod: Obj, name: str) -> None:
        self._emit(run, "Normal", "Created", f"Created container {name}", name)
        self._emit(run, "Normal", "Started", f"Started container {name}", name)
        run.states[name] = {"running": {"startedAt": self.stamp()}}
        self.logs.start(run.namespace, run.name, name)
        run.workload.started(pod, name)

    def _schedule_exit(self, run: Run) -> None:
        if run.plan.exit_after is not None:
            code = run.plan.exit_code
            self._later(run, run.plan.exit_after, lambda: self.finish(run, code))

    def _become_ready(self, run: Run) -> None:
        run.ready = True
        self._write(run)
        pod = self._current(run)
        if pod is not None:
            run.workload.ready(pod)

    # -- ends ------------------------------------------------------------------------
    def run_of(self, namespace: str, name: str) -> Run | None:
        pod = self.store.find(types.PODS, namespace, name)
        return None if pod is None else self.runs.get(pod["metadata"]["uid"])

    def finish(self, run: Run, code: int, *, restart: bool = True) -> None:
        """Every running container of the pod exits with ``code`` (restarted as the
        pod's ``restartPolicy`` says, unless ``restart`` is False)."""
        if self.runs.get(run.uid) is not run or run.phase not in ACTIVE:
            return
        pod = self._current(run)
        for timer in run.timers:
            timer.cancel()
        run.timers = []
        for name, _ in run.containers:
            state = run.states.get(name, {})
            if "running" in state:
                run.states[name] = {
                    "terminated": {
                        "exitCode": code,
                        "reason": "Completed" if code == 0 else "Error",
                        "startedAt": state["running"]["startedAt"],
                        "finishedAt": self.stamp(),
                        "containerID": run.ids[name],
                    }
                }
                self.logs.stop(run.namespace, run.name, name)
                if pod is not None:
                    run.workload.exited(pod, name, code)
        run.ready = False
        policy = run.restart_policy
        if restart and (policy == "Always" or (policy == "OnFailure" and code != 0)):
            self._write(run)
            for name, _ in run.containers:
                self._crash_loop(run, name)
            return
        run.phase = "Succeeded" if code == 0 else "Failed"
        self._write(run)

    def _crash_loop(self, run: Run, name: str) -> None:
        delay = min(run.backoff.get(name, BACKOFF_START / 2) * 2, BACKOFF_MAX)
        run.backoff[name] = delay
        run.last_states[name] = run.states[name]
        run.states[name] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {int(delay)}s restarting failed container={name} "
                f"pod={run.name}_{run.namespace}({run.uid})",
            }
        }
        self._emit(
            run,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {name} in pod "
            f"{run.name}_{run.namespace}({run.uid})",
            name,
        )
        self._write(run)

        def restart() -> None:
            pod = self._current(run)
            if pod is None:
                return
            run.restarts[name] += 1
            # A new container (lastState keeps the old one's id); not drawn from the random
            # stream, so that a restart does not change what the simulation does next.
            old = run.ids[name]
            run.ids[name] = f"containerd://{hashlib.sha256(old.encode()).hexdigest()}"
            run.plan = run.workload.plan(pod)  # a new process: it may end differently
            image = dict(run.containers)[name]
            self._emit(
                run, "Normal", "Pulled", f'Container image "{image}" already present on machine',
                name,
            )  # fmt: skip
            self._start_container(run, pod, name)
            self._write(run)
            if run.plan.ready_after is not None:
                self._later(run, run.plan.ready_after, lambda: self._become_ready(run))
            self._schedule_exit(run)

        self._later(run, delay, restart)

    def evict(self, run: Run, message: str) -> None:
        self._emit(run, "Warning", "Evicted", message, None)
        run.reason = "Evicted"
        run.message = message
        self._kill(run)
        self.finish(run, 137, restart=False)

    def _kill(self, run: Run) -> None:
        for name, _ in run.containers:
            if "running" in run.states.get(name, {}):
                self._emit(run, "Normal", "Killing", f"Stopping container {name}", name)

    def kill(self, run: Run) -> None:
        """The pod is being deleted: stop its containers, then remove the pod object
        (the kubelet's final delete with grace period 0)."""
        if self.runs.get(run.uid) is not run or run.terminating:
            return
        self._kill(run)
        run.terminating = True
        for timer in run.timers:
            timer.cancel()
        for name, _ in run.containers:
            self.logs.stop(run.namespace, run.name, name)

        def removed() -> None:
            pod = self._current(run)
            if pod is not None and pod["metadata"].get("deletionTimestamp"):
                self._terminated(run)
                self.store.delete(types.PODS, run.namespace, run.name)

        self.timeline.after(STOP_SECONDS, removed)

    def _terminated(self, run: Run) -> None:
        """The pod's last status before the kubelet deletes it: a terminal phase, its
        containers stopped for the deletion, those that never ran "ContainerStatusUnknown"
        (``pkg/kubelet/status/status_manager.go``: ``TerminatePod``, ``canBeDeleted``)."""
        for name, _ in run.containers:
            state = run.states.get(name, {})
            if "running" in state:  # it stopped on SIGTERM, now
                end = {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": state["running"]["startedAt"],
                    "finishedAt": self.stamp(),
                    "containerID": run.ids[name],
                }
            elif "terminated" in state:
                continue
            else:
                end = {
                    "exitCode": 137,
                    "reason": "ContainerStatusUnknown",
                    "message": "The container could not be located when the pod was terminated",
                }
            run.states[name] = {"terminated": end}
        if run.phase in ACTIVE:
            codes = [run.states[n]["terminated"]["exitCode"] for n, _ in run.containers]
            run.phase = "Succeeded" if not any(codes) else "Failed"
        run.ready = False
        self._write(run)

    def _forget(self, uid: str, pod: Obj) -> None:
        run = self.runs.pop(uid, None)
        if run is None:
            return
        for timer in run.timers:
            timer.cancel()
        self._free_ips.append(run.pod_ip)
        self.logs.forget_pod(run.namespace, run.name)
        run.workload.removed(pod)
