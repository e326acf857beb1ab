"""rancher's system-upgrade-controller, and the k3s-upgrade Job it runs on the node.

While the controller's pod runs (installed by binderctl's ``system-upgrade`` chart), it
registers its CRD (``plans.upgrade.cattle.io``) and reconciles every Plan of its
namespace, as rancher/system-upgrade-controller v0.20.1 does (f1362a3;
``pkg/upgrade/handle_upgrade.go``, ``plan/plan.go``, ``job/job.go``,
``handle_batch.go``, ``handle_core.go``):

- status: conditions ``Complete`` and ``Validated`` (the window must parse), then
  ``LatestResolved`` from ``spec.version`` (reason ``Version``) or the channel's 302
  (reason ``Channel``; asked again every ``SYSTEM_UPGRADE_PLAN_POLLING_INTERVAL``, 15m);
  ``latestVersion`` with ``+`` as ``-``, ``latestHash`` the SHA-224 of the version and
  the service account; a new version sets ``Complete`` False (reason ``Resolved``);
- nodes: those the ``nodeSelector`` picks (none without one) that have
  ``kubernetes.io/hostname`` and not
  the label ``plan.upgrade.cattle.io/<plan>`` = the hash (or ``disabled``), the
  applying ones first, up to ``concurrency``; outside ``spec.window`` (kured's rules,
  ``maintenance_window``) no Job is made while none is applying (``Complete`` False,
  reason ``Waiting``, checked again a minute later);
- a Job per node, ``apply-<plan>-on-<node>-with-<hash>`` (wrangler ``SafeConcatName``),
  created paused (parallelism 0) and unpaused once the node is in ``status.applying``;
  its pod: host IPC/PID/network, the node by affinity, tolerating
  ``node.kubernetes.io/unschedulable``, ``restartPolicy: Never``, the ``upgrade``
  container ``<image>:<latestVersion>`` privileged with the host's root at ``/host``;
- a Job that completes labels its node with the hash (and uncordons it when the Plan
  cordons); one that fails sets ``Complete`` False, reason ``JobFailed``; a Job of an
  older version, or whose Plan is gone, is deleted.

The ``upgrade`` container runs k3s-io/k3s-upgrade's ``upgrade.sh upgrade``
(``scripts/upgrade.sh`` @e45db208): it finds the k3s server process ("No K3s pids
found" without one), compares the image's binary with the host's ("Binary already been
replaced" when equal, exit 0), refuses an older one ("Error: Current ... is higher
than ..."), copies it over the host's and sends k3s SIGTERM, after which systemd starts
the new one. Not emulated: the build-date comparison, ``prepare``/``drain`` containers
(a Plan that cordons is cordoned when its pod starts), pod anti-affinity between Jobs,
``activeDeadlineSeconds``, leader election.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from binderctl.demo.kube import types
from binderctl.demo.kube.events import EventRecorder, Source
from binderctl.demo.kube.labels import selector_from_spec
from binderctl.demo.kube.store import Obj, Store, WatchEvent
from binderctl.demo.member.kubelet import Plan
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.objects import Writer
from binderctl.demo.member.timeline import Timeline
from binderctl.demo.node.k3s import K3sHost
from binderctl.maintenance_window import Window, clock_time, contains, weekdays, zone

CONTROLLER_LABEL = "upgrade.cattle.io/controller"
PLAN_LABEL = "upgrade.cattle.io/plan"
NODE_LABEL = "upgrade.cattle.io/node"
VERSION_LABEL = "upgrade.cattle.io/version"
EXCLUSIVE_LABEL = "upgrade.cattle.io/exclusive"
HOSTNAME = "kubernetes.io/hostname"
POLLING_INTERVAL = 15 * 60.0  # SYSTEM_UPGRADE_PLAN_POLLING_INTERVAL
WINDOW_RECHECK = 60.0  # "enqueue the plan to check again in a minute"
RESOLVE_RETRY = 30.0  # a channel that could not be read is asked again (requeue)
BACKOFF_LIMIT = 99  # SYSTEM_UPGRADE_JOB_BACKOFF_LIMIT of the controller's ConfigMap
TTL_AFTER_FINISHED = 900  # SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH
ACTIVE_DEADLINE = 900  # SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS
UPGRADE_SECONDS = 3.0  # the script's run before it kills k3s (an emulator figure)
NOT_READY = "plan is not valid and resolved"  # ErrPlanNotReady
OUTSIDE_WINDOW = "current time is not within configured window"  # ErrOutsideWindow
UNRESOLVABLE = "cannot resolve plan: missing channel and version"  # ErrPlanUnresolvable
ChannelResolver = Callable[[str], str]


def safe_concat_name(*parts: str) -> str:
    """wrangler ``name.SafeConcatName``: joined with -, cut to 63 with a hash."""
    full = "-".join(parts)
    if len(full) < 64:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()
    if "a" <= full[56] <= "z" or "0" <= full[56] <= "9":
        return full[:57] + "-" + digest[:5]
    return full[:56] + "-" + digest[:6]


def munge(version: str) -> str:
    return version.replace("+", "-")


def plan_hash(plan: Obj, latest: str) -> str:
    """``DigestStatus``: SHA-224 of the latest version and the service account."""
    spec = plan.get("spec") or {}
    return hashlib.sha224((latest + str(spec.get("serviceAccountName") or "")).encode()).hexdigest()


def channel_error(pod: Obj, channel: str) -> str | None:
    """Why the controller's pod cannot read an https channel: its image has no CA roots
    (FROM scratch), so it needs the host's /etc/ssl mounted (the demo's host keeps its
    roots there, as Debian and Ubuntu do)."""
    if not channel.startswith("https://"):
        return None
    spec = pod.get("spec") or {}
    host_ssl = {
        v["name"] for v in spec.get("volumes") or []
        if (v.get("hostPath") or {}).get("path") == "/etc/ssl"
    }  # fmt: skip
    for container in spec.get("containers") or []:
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") in host_ssl and mount.get("mountPath") == "/etc/ssl":
                return None
    return (
        f'Get "{channel}": tls: failed to verify certificate: x509: certificate signed by '
        "unknown authority"
    )


def _window(spec: Obj) -> Window | None:
    window = spec.get("window")
    return Window.from_spec(window) if isinstance(window, dict) else None


def _window_error(spec: Obj) -> str | None:
    """What ``timewindow.New`` refuses (days, times, zone), as ``Validate`` reports it."""
    window = _window(spec)
    if window is None:
        return None
    try:
        weekdays(window.days)
        clock_time(window.start)
        clock_time(window.end)
        zone(window.timezone)
    except ValueError as exc:
        return f"spec.window is invalid: {exc}"
    return None


class Conditions:
    """A Plan's status conditions as the controller's ``pkg/apis/condition`` keeps them:
    ``lastUpdateTime`` moves only when the status or the message changes."""

    def __init__(self, status: Obj, stamp: str) -> None:
        self.items: list[Obj] = status.setdefault("conditions", [])
        self.stamp = stamp

    def get(self, kind: str) -> Obj:
        for entry in self.items:
            if entry.get("type") == kind:
                return entry
        entry = {"type": kind, "status": "Unknown", "lastUpdateTime": self.stamp}
        self.items.append(entry)
        return entry

    def set(self, kind: str, state: str, reason: str, message: str = "") -> None:
        entry = self.get(kind)
        if (entry.get("status"), entry.get("message", "")) != (state, message):
            entry["lastUpdateTime"] = self.stamp
        entry.update(status=state, reason=reason, message=message)

    def true(self, kind: str) -> bool:
        return self.get(kind).get("status") == "True"


class UpgradeController:
    """The controller (while its pod runs) and the workload of its Job pods."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        timeline: Timeline,
        events: EventRecorder,
        logs: LogBook,
        *,
        host: Callable[[], K3sHost | None],
        resolve_channel: ChannelResolver | None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.timeline = timeline
        self.events = events
        self.logs = logs
        self.host = host
        self.resolve_channel = resolve_channel
        self.running: set[str] = set()  # the controller's ready pods
        self.namespace = ""
        self.name = ""  # its controller name (the pod label)
        self._attached = False
        self._outcomes: dict[str, tuple[int, list[str], str | None]] = {}  # by pod uid
        self.source = Source("system-upgrade-controller")

    # -- the workload of the controller's pod and of its Jobs' pods ----------------------
    @staticmethod
    def handles(pod: Obj) -> bool:
        return CONTROLLER_LABEL in (pod["metadata"].get("labels") or {})

    def _job_pod(self, pod: Obj) -> bool:
        return PLAN_LABEL in (pod["metadata"].get("labels") or {})

    def plan(self, pod: Obj) -> Plan:
        if not self._job_pod(pod):
            return Plan(ready_after=1.0)
        code, lines, replace = self._upgrade_script(pod)
        self._outcomes[pod["metadata"]["uid"]] = (code, lines, replace)
        return Plan(ready_after=None, exit_after=UPGRADE_SECONDS, exit_code=code)

    def started(self, pod: Obj, container: str) -> None:
        meta = pod["metadata"]
        outcome = self._outcomes.get(meta["uid"])
        if outcome is not None:
            self.logs.write_many(meta["namespace"], meta["name"], container, outcome[1])
            plan = self._plan_of(pod)
            if plan is not None and ((plan.get("spec") or {}).get("cordon") or
                                     (plan.get("spec") or {}).get("drain")):  # fmt: skip
                self._set_unschedulable(meta["labels"].get(NODE_LABEL, ""), True)

    def ready(self, pod: Obj) -> None:
        if self._job_pod(pod):
            return
        meta = pod["metadata"]
        self.running.add(meta["name"])
        self.namespace = meta["namespace"]
        self.name = (meta.get("labels") or {}).get(CONTROLLER_LABEL, "")
        self._start()

    def exited(self, pod: Obj, container: str, code: int) -> None:
        outcome = self._outcomes.pop(pod["metadata"]["uid"], None)
        if outcome is None or code != 0 or outcome[2] is None:
            return
        host = self.host()
        if host is not None:  # copy the binary, then SIGTERM: systemd starts the new one
            host.replace_binary(outcome[2])
            host.terminate()

    def rejected(self, pod: Obj, reason: str) -> None:
        return None

    def removed(self, pod: Obj) -> None:
        self._outcomes.pop(pod["metadata"]["uid"], None)
        self.running.discard(pod["metadata"]["name"])

    def _upgrade_script(self, pod: Obj) -> tuple[int, list[str], str | None]:
        """What ``upgrade.sh upgrade`` does on this host: (exit code, output, the
        release it installs or None)."""
        image = pod["spec"]["containers"][0].get("image", "")
        new = image.rsplit(":", 1)[-1].replace("-k3s", "+k3s")
        host = self.host()
        lines = ["+ get_k3s_process_info"]
        if host is None or not host.running:
            return 1, [*lines, "[ERROR]  No K3s pids found; is K3s running on this host?"], None
        current = host.binary_version()
        lines += [
            "[INFO]  K3S binary is running with pid 1742, parent pid 1",
            "+ replace_binary",
            "[INFO]  Comparing old and new binaries",
        ]
        if current == new:
            return 0, [*lines, "[INFO]  Binary already been replaced"], None
        if _release(current) > _release(new):
            return 1, [*lines, f"Error: Current {current} is higher than {new}"], None
        lines += [
            "[INFO]  Deploying new k3s binary to /usr/local/bin/k3s",
            "[INFO]  K3s binary has been replaced successfully",
            "+ kill_k3s_process",
            "[INFO]  Successfully killed old k3s pid 1742",
        ]
        return 0, lines, new

    # -- the controller ------------------------------------------------------------------
    @property
    def up(self) -> bool:
        return bool(self.running)

    def _start(self) -> None:
        """It registers its CRD at start (``registerCRD``) and syncs every Plan."""
        if self.store.type_for(types.PLANS.group, types.PLANS.plural) is None:
            self.store.register(types.PLANS)
        if not self._attached:
            self._attached = True
            self.store.add_listener(self._on_event)
        for plan in self.store.list(types.PLANS, self.namespace):
            self._enqueue(plan["metadata"]["name"])

    def _enqueue(self, name: str, after: float = 0.0) -> None:
        self.timeline.after(after, lambda: self._sync(name))

    def _on_event(self, event: WatchEvent) -> None:
        if not self.up:
            return
        meta = event.obj["metadata"]
        if event.rt is types.PLANS and meta.get("namespace") == self.namespace:
            if event.type != "DELETED":
                self._enqueue(meta["name"])
        elif event.rt is types.JOBS and event.type != "DELETED":
            labels = meta.get("labels") or {}
            if labels.get(CONTROLLER_LABEL) == self.name:
                self.timeline.soon(lambda: self._job_changed(meta["namespace"], meta["name"]))
        elif event.rt is types.NODES:
            for plan in self.store.list(types.PLANS, self.namespace):
                if selects(plan, event.obj):
                    self._enqueue(plan["metadata"]["name"])

    def _write_status(self, plan: Obj, status: Obj) -> None:
        if status == plan.get("status"):
            return
        meta = plan["metadata"]

        def change(obj: Obj) -> None:
            obj["status"] = status

        self.store.mutate(types.PLANS, meta["namespace"], meta["name"], change)

    def _event(self, plan: Obj, kind: str, reason: str, message: str) -> None:
        self.events.emit(plan, kind, reason, message, self.source)

    def _sync(self, name: str) -> None:
        if not self.up:
            return
        plan = self.store.find(types.PLANS, self.namespace, name)
        if plan is None or plan["metadata"].get("deletionTimestamp"):
            return
        status = copy.deepcopy(plan.get("status") or {})
        conditions = Conditions(status, self.writer.stamp())
        outcome = self._resolve(plan, status, conditions)
        if outcome == "stop":
            return
        if outcome == "keep":  # the handler returned the status it was given
            status = copy.deepcopy(plan.get("status") or {})
            conditions = Conditions(status, self.writer.stamp())
        self._generate(plan, status, conditions)

    def _resolve(self, plan: Obj, status: Obj, conditions: Conditions) -> str:
        """The status handler: "write" its status, "keep" the one it was given (not yet
        time to ask the channel again), or "stop" (the channel could not be read: the
        handler errs and is retried)."""
        spec = plan.get("spec") or {}
        conditions.get("Complete")
        validated, resolved = conditions.get("Validated"), conditions.get("LatestResolved")
        problem = _window_error(spec)
        if problem is not None:
            if validated.get("status") != "False":
                self._event(
                    plan, "Warning", "ValidateFailed", f"Failed to validate plan: {problem}"
                )
            conditions.set("Validated", "False", "Error", problem)
            self._digest(plan, status, conditions)
            return "write"
        if validated.get("status") != "True":
            self._event(plan, "Normal", "Validated", "Plan is valid")
        conditions.set("Validated", "True", "PlanIsValid")
        version, channel = str(spec.get("version") or ""), str(spec.get("channel") or "")
        if not version and not channel:
            if resolved.get("status") != "False":
                self._event(plan, "Warning", "ResolveFailed", UNRESOLVABLE)
            conditions.set("LatestResolved", "False", "Error", UNRESOLVABLE)
            self._digest(plan, status, conditions)
            return "write"
        if version:
            latest, reason, how = munge(version), "Version", "Spec.Version"
        else:
            updated = _seconds(resolved.get("lastUpdateTime"), self.writer.wall())
            if resolved.get("status") == "True" and updated < POLLING_INTERVAL:
                self._enqueue(str(plan["metadata"]["name"]), POLLING_INTERVAL - updated)
                return "keep"
            try:
                if self.resolve_channel is None:
                    raise ValueError(f'Get "{channel}": dial tcp: lookup: no such host')
                for pod in self._pods():
                    if (untrusted := channel_error(pod, channel)) is not None:
                        raise ValueError(untrusted)
                latest = munge(self.resolve_channel(channel))
            except ValueError as exc:
                if resolved.get("status") != "False":
                    message = f"Failed to resolve latest version from Spec.Channel: {exc}"
                    self._event(plan, "Warning", "ResolveFailed", message)
                self._enqueue(str(plan["metadata"]["name"]), RESOLVE_RETRY)
                return "stop"
            reason, how = "Channel", "Spec.Channel"
        if resolved.get("status") != "True" or status.get("latestVersion") != latest:
            self._event(plan, "Normal", "Resolved", f"Resolved latest version from {how}: {latest}")
            conditions.set("Complete", "False", "Resolved")
        status["latestVersion"] = latest
        conditions.set("LatestResolved", "True", reason)
        self._digest(plan, status, conditions)
        return "write"

    def _pods(self) -> list[Obj]:
        found = (self.store.find(types.PODS, self.namespace, name) for name in self.running)
        return [pod for pod in found if pod is not None]

    @staticmethod
    def _digest(plan: Obj, status: Obj, conditions: Conditions) -> None:
        if conditions.get("LatestResolved").get("reason") != "Error":
            status["latestHash"] = plan_hash(plan, str(status.get("latestVersion") or ""))

    def _generate(self, plan: Obj, status: Obj, conditions: Conditions) -> None:
        """The generating handler: the nodes to upgrade now and a Job for each."""
        name = str(plan["metadata"]["name"])
        if not (conditions.true("Validated") and conditions.true("LatestResolved")):
            conditions.set("Complete", "False", "NotReady", NOT_READY)
            self._write_status(plan, status)
            return
        nodes = self._select(plan, status)
        applying = list(status.get("applying") or [])
        version, digest = status["latestVersion"], status["latestHash"]
        if nodes:
            window = _window(plan.get("spec") or {})
            if window is not None and not applying and not contains(window, self._now()):
                if conditions.get("Complete").get("reason") != "Waiting":
                    self._event(plan, "Normal", "Waiting", "Waiting for start of Spec.Window to "
                                f"sync Jobs for version {version}. Hash: {digest}")  # fmt: skip
                conditions.set("Complete", "False", "Waiting", OUTSIDE_WINDOW)
                self._write_status(plan, status)
                self._enqueue(name, WINDOW_RECHECK)
                return
            hostnames = [_hostname(n) for n in nodes]
            for node in nodes:
                self._apply_job(plan, status, node, _hostname(node) in applying)
            if applying != hostnames:
                self._event(plan, "Normal", "SyncJob", f"Jobs synced for version {version} on "
                            f"Nodes {','.join(hostnames)}. Hash: {digest}")  # fmt: skip
                status["applying"] = hostnames
                conditions.set("Complete", "False", "SyncJob")
        else:
            if not conditions.true("Complete"):
                self._event(plan, "Normal", "Complete",
                            f"Jobs complete for version {version}. Hash: {digest}")  # fmt: skip
            status.pop("applying", None)
            conditions.set("Complete", "True", "Complete")
        self._write_status(plan, status)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.writer.wall(), UTC)

    def _select(self, plan: Obj, status: Obj) -> list[Obj]:
        """``SelectConcurrentNodes``: the applying nodes first, then others by hash order."""
        label = f"plan.upgrade.cattle.io/{plan['metadata']['name']}"
        digest, applying = status.get("latestHash"), list(status.get("applying") or [])
        concurrency = int((plan.get("spec") or {}).get("concurrency") or 0)
        candidates = [
            n for n in self.store.list(types.NODES)
            if selects(plan, n) and HOSTNAME in (n["metadata"].get("labels") or {})
            and (n["metadata"].get("labels") or {}).get(label) not in ("disabled", digest)
        ]  # fmt: skip
        selected = [n for n in candidates if _hostname(n) in applying]
        rest = sorted(
            (n for n in candidates if _hostname(n) not in applying),
            key=lambda n: hashlib.sha256(
                (
                    n["metadata"].get("uid", "") + plan["metadata"].get("uid", "") + str(digest)
                ).encode()
            ).hexdigest(),
        )
        while len(selected) < concurrency and rest:
            selected.append(rest.pop(0))
        return sorted(selected, key=lambda n: n["metadata"]["name"])

    def _apply_job(self, plan: Obj, status: Obj, node: Obj, unpaused: bool) -> None:
        job = self._job(plan, status, node, unpaused)
        meta = job["metadata"]
        current = self.store.find(types.JOBS, meta["namespace"], meta["name"])
        if current is None:
            self.writer.create(types.JOBS, job)
        elif unpaused and (current.get("spec") or {}).get("parallelism") == 0:

            def unpause(obj: Obj) -> None:
                obj["spec"]["parallelism"] = 1

            self.store.mutate(types.JOBS, meta["namespace"], meta["name"], unpause)

    def _job(self, plan: Obj, status: Obj, node: Obj, unpaused: bool) -> Obj:
        """``job.New``."""
        plan_meta, spec = plan["metadata"], plan.get("spec") or {}
        name, hostname = str(plan_meta["name"]), _hostname(node)
        version, digest = str(status["latestVersion"]), str(status["latestHash"])
        labels = {
            CONTROLLER_LABEL: self.name,
            EXCLUSIVE_LABEL: "true" if spec.get("exclusive") else "false",
            NODE_LABEL: node["metadata"]["name"],
            PLAN_LABEL: name,
            VERSION_LABEL: version,
            f"plan.upgrade.cattle.io/{name}": digest,
        }
        upgrade = spec.get("upgrade") or {}
        image = str(upgrade.get("image") or "")
        if ":" not in image.rsplit("/", 1)[-1]:
            image = f"{image}:{version}"
        env = [
            {"name": "SYSTEM_UPGRADE_NODE_NAME",
             "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "SYSTEM_UPGRADE_POD_NAME",
             "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "SYSTEM_UPGRADE_POD_UID",
             "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            *(upgrade.get("envs") or []),
            {"name": "SYSTEM_UPGRADE_PLAN_NAME", "value": name},
            {"name": "SYSTEM_UPGRADE_PLAN_LATEST_HASH", "value": digest},
            {"name": "SYSTEM_UPGRADE_PLAN_LATEST_VERSION", "value": version},
        ]  # fmt: skip
        container = {
            "name": "upgrade",
            "image": image,
            "imagePullPolicy": "Always",
            "env": env,
            "volumeMounts": [
                {"name": "host-root", "mountPath": "/host"},
                {"name": "pod-info", "mountPath": "/run/system-upgrade/pod", "readOnly": True},
            ],
            "securityContext": upgrade.get("securityContext")
            or {"privileged": True, "capabilities": {"add": ["CAP_SYS_BOOT"]}},
        }
        for key in ("command", "args"):
            if upgrade.get(key):
                container[key] = upgrade[key]
        required = "requiredDuringSchedulingIgnoredDuringExecution"
        affinity = {
            "nodeAffinity": {required: {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": HOSTNAME, "operator": "In", "values": [hostname]}]}]}},
            "podAntiAffinity": {required: [{"labelSelector": {"matchExpressions": [
                {"key": PLAN_LABEL, "operator": "In", "values": [name]}]},
                "topologyKey": HOSTNAME}]},
        }  # fmt: skip
        tolerations = [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
             "effect": "NoSchedule"},
            *(spec.get("tolerations") or []),
        ]  # fmt: skip
        volumes = [
            {"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}},
            {"name": "pod-info", "downwardAPI": {"defaultMode": 420, "items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}]}},
        ]  # fmt: skip
        short = node["metadata"]["name"].split(".", 1)[0]
        ttl = str(TTL_AFTER_FINISHED)
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": safe_concat_name("apply", name, "on", short, "with", digest),
                "namespace": plan_meta["namespace"],
                "annotations": {"upgrade.cattle.io/ttl-seconds-after-finished": ttl},
                "labels": labels,
            },
            "spec": {
                "podReplacementPolicy": "TerminatingOrFailed",
                "backoffLimit": BACKOFF_LIMIT,
                "ttlSecondsAfterFinished": TTL_AFTER_FINISHED,
                "activeDeadlineSeconds": ACTIVE_DEADLINE,
                "completions": 1,
                "parallelism": 1 if unpaused else 0,
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "hostIPC": True,
                        "hostPID": True,
                        "hostNetwork": True,
                        "dnsPolicy": "ClusterFirstWithHostNet",
                        "serviceAccountName": spec.get("serviceAccountName") or "default",
                        "affinity": affinity,
                        "tolerations": tolerations,
                        "restartPolicy": "Never",
                        "volumes": volumes,
                        "containers": [container],
                    },
                },
            },
        }

    def _plan_of(self, obj: Obj) -> Obj | None:
        name = (obj["metadata"].get("labels") or {}).get(PLAN_LABEL)
        if name is None:
            return None
        return self.store.find(types.PLANS, obj["metadata"]["namespace"], name)

    def _job_changed(self, namespace: str, name: str) -> None:
        """``handleJobs``."""
        if not self.up:
            return
        job = self.store.find(types.JOBS, namespace, name)
        if job is None:
            return
        labels = job["metadata"].get("labels") or {}
        plan = self._plan_of(job)
        if plan is None or labels.get(VERSION_LABEL) != (plan.get("status") or {}).get(
            "latestVersion"
        ):
            self.writer.delete(types.JOBS, namespace, name, grace=None)
            return
        node = self.store.find(types.NODES, None, labels.get(NODE_LABEL, ""))
        if node is None:
            self.writer.delete(types.JOBS, namespace, name, grace=None)
            return
        plan_name = str(plan["metadata"]["name"])
        failed = _job_condition(job, "Failed")
        if failed is not None:
            message = (
                f"Job {namespace}/{name} failed on Node {node['metadata']['name']}: "
                f"{failed.get('reason', '')}: {failed.get('message', '')}"
            )
            status = copy.deepcopy(plan.get("status") or {})
            conditions = Conditions(status, self.writer.stamp())
            if conditions.get("Complete").get("reason") != "JobFailed":
                self._event(plan, "Warning", "JobFailed", message)
            conditions.set("Complete", "False", "JobFailed", message)
            self._write_status(plan, status)
        elif _job_condition(job, "Complete") is not None:
            label = f"plan.upgrade.cattle.io/{plan_name}"
            spec = plan.get("spec") or {}
            if (node["metadata"].get("labels") or {}).get(label) != labels.get(label):
                self._event(plan, "Normal", "JobComplete",
                            f"Job completed on Node {node['metadata']['name']}")  # fmt: skip

                def mark(obj: Obj) -> None:
                    obj["metadata"].setdefault("labels", {})[label] = labels.get(label, "")
                    if obj.get("spec", {}).get("unschedulable") and (
                        spec.get("cordon") or spec.get("drain")
                    ):
                        obj["spec"]["unschedulable"] = False

                self.store.mutate(types.NODES, None, node["metadata"]["name"], mark)
        self._enqueue(plan_name)

    def _set_unschedulable(self, node: str, value: bool) -> None:
        if self.store.find(types.NODES, None, node) is None:
            return

        def change(obj: Obj) -> None:
            obj.setdefault("spec", {})["unschedulable"] = value

        self.store.mutate(types.NODES, None, node, change)


def selects(plan: Obj, node: Obj) -> bool:
    """``NodeSelector``: a Plan without ``nodeSelector`` selects no node."""
    selector = selector_from_spec((plan.get("spec") or {}).get("nodeSelector"))
    return selector.matches(node["metadata"].get("labels") or {})


def _hostname(node: Obj) -> str:
    labels = node["metadata"].get("labels") or {}
    return str(labels.get(HOSTNAME) or node["metadata"]["name"])


def _job_condition(job: Obj, kind: str) -> Obj | None:
    for entry in (job.get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind and entry.get("status") == "True":
            return dict(entry)
    return None


def _release(version: str) -> tuple[int, ...]:
    """k3s-upgrade's ``compare_versions``: major.minor.patch only."""
    core = version.lstrip("v").split("+", 1)[0].split("-", 1)[0]
    return tuple(int(part) for part in core.split(".")[:3] if part.isdigit())


def _seconds(stamp: Any, now: float) -> float:
    from binderctl.demo.kube.events import parse_time

    when = parse_time(stamp) if isinstance(stamp, str) else None
    return float("inf") if when is None else now - when
