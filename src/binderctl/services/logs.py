"""Log lines of one pod or of all pods of a component, followed across pod restarts.

A ``LogStream`` runs one reader thread per container instance and, when following,
watches the target's pods: a new pod (after a rollout restart, a new build) or a new
container instance (after a crash) is picked up and read from its first line. A stream
that drops while its container keeps running resumes where it stopped. Lines wait for
the consumer in a ring buffer of fixed size, so memory stays bounded however long it
runs (``dropped`` counts lines a slow consumer missed).

Build pods log as repo2docker's ``--json-logs`` writes: one JSON object per line,
``{"message": "#19 exporting to image\n", "phase": "building"}``, which BinderHub's
``Build.stream_logs`` forwards as its build events. Their lines are given as the
message's text (a line that is not such an object is shown as it is, as BinderHub
does).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from binderctl import formatting
from binderctl.errors import BinderctlError, UsageError
from binderctl.models import COMPONENTS, ConnectionState, LogLine
from binderctl.services import mapping
from binderctl.services.kube import PODS, Kube, KubeError, Obj, parse_time
from binderctl.services.watch import Reflector, iter_batches

BUFFER_LINES = 10_000
STREAM_READ_TIMEOUT = 300.0
TARGETS_HELP = "hub, binder, proxy, dind, builds, or a pod name (NAME or NAMESPACE/NAME)"


@dataclass(frozen=True)
class LogTarget:
    description: str
    label_selector: str | None = None
    pod: str | None = None
    namespace: str | None = None
    one_pod: bool = False  # a component: of several pods at the start, the newest Ready one


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    tail: int | None = None
    since: int | None = None  # seconds
    timestamps: bool = False
    container: str | None = None
    previous: bool = False
    buffer: int = BUFFER_LINES


def log_target(text: str) -> LogTarget:
    """``hub``/``binder``/``proxy``/``dind``, ``builds``, or a pod (``[NAMESPACE/]NAME``)."""
    value = text.strip()
    if value in COMPONENTS:
        label = mapping.COMPONENT_LABELS[value]
        return LogTarget(f"{value} pods", label_selector=f"component={label}", one_pod=True)
    if value == "builds":
        return LogTarget("build pods", label_selector=mapping.BUILD_SELECTOR)
    namespace, _, name = value.rpartition("/")
    if not name or not all(c.isalnum() or c in "-." for c in name + namespace):
        raise UsageError(
            f"{formatting.inert(text, 60)!r} is not a log target; expected {TARGETS_HELP}"
        )
    return LogTarget(f"pod {value}", pod=name, namespace=namespace or None)


def newest_ready(pods: list[Obj]) -> Obj:
    """The newest of the Ready pods (of all, when none is Ready)."""
    ready = [p for p in pods if mapping.is_ready(p)] or pods
    return max(ready, key=lambda p: p["metadata"].get("creationTimestamp") or "")


def build_message(line: str) -> Sequence[str]:
    """The text of one repo2docker ``--json-logs`` line: its message's lines (a message
    such as ``"Step 1/9 : FROM ...\n"`` ends with a line break; some hold several)."""
    if not line.startswith("{"):
        return (line,)
    try:
        event = json.loads(line)
    except ValueError:
        return (line,)
    message = event.get("message") if isinstance(event, dict) else None
    if not isinstance(message, str):
        return (line,)
    return message.rstrip("\n").split("\n")


READ_LIMIT = 4 << 20  # bytes of a log read at once (not followed)


def _read(kube: Kube, namespace: str, pod: str, query: dict[str, Any]) -> str:
    """A pod's log as the API returns it, not followed; "" when it cannot be read."""
    try:
        response = kube.open(
            "GET", PODS, namespace=namespace, name=pod, sub="log",
            query={**query, "limitBytes": READ_LIMIT}, timeout=(5.0, 30.0),
        )  # fmt: skip
        with kube.errors():
            try:
                data: bytes = response.data
            finally:
                response.release_conn()
    except BinderctlError:
        return ""
    return data.decode("utf-8", "replace")


def read_lines(kube: Kube, namespace: str, pod: str, container: str, since: int) -> list[str]:
    """The lines ``container`` of ``pod`` logged in the last ``since`` seconds."""
    query = {"container": container, "sinceSeconds": max(1, since)}
    return _read(kube, namespace, pod, query).splitlines()


def last_build_line(kube: Kube, namespace: str, pod: str) -> LogLine | None:
    """The last line build pod ``pod`` logged (as its message), or None when it has
    logged nothing yet or its log cannot be read."""
    raw = _read(kube, namespace, pod, {"tailLines": 1, "timestamps": "true"}).rstrip("\n")
    if not raw:
        return None
    stamp, text = split_timestamp(raw.rsplit("\n", 1)[-1])
    return LogLine(pod, "", build_message(text)[-1], stamp)


def split_timestamp(raw: str) -> tuple[str, str]:
    """``2024-05-01T12:00:00.1Z text`` -> (time, text); no time -> ("", raw)."""
    stamp, _, text = raw.partition(" ")
    if len(stamp) >= 20 and stamp[4:5] == "-" and stamp[10:11] == "T":
        return stamp, text
    return "", raw


Key = tuple[str, str, str]  # namespace, pod, container


@dataclass
class _Follow:
    """What was read of one container: its instance (restart count), the time of its
    last line (to resume a dropped stream without repeating lines), the reader."""

    instance: int
    thread: threading.Thread
    json_logs: bool  # a build pod: repo2docker's JSON lines, shown as their messages
    last_time: str = ""
    at_last_time: int = 0  # lines read that carry exactly ``last_time``


def _instances(pod: Obj) -> dict[str, tuple[int, str]]:
    """container -> (restart count, state) for containers that have run. A container
    waiting to restart (CrashLoopBackOff) is "ended": the kubelet serves its ended
    instance as its log, and as its previous log too (``validateContainerLogStatus``)."""
    found = {}
    for status in (pod.get("status") or {}).get("containerStatuses") or ():
        state = status.get("state") or {}
        count = status.get("restartCount", 0)
        if "running" in state:
            found[status["name"]] = (count, "running")
        elif "terminated" in state:
            found[status["name"]] = (count, "terminated")
        elif "terminated" in (status.get("lastState") or {}):
            found[status["name"]] = (count, "ended")
    return found


class LogStream:
    """Iterate it (blocking) for lines, or call ``take`` from a worker; ``stop`` ends it."""

    def __init__(self, kube: Kube, target: LogTarget, options: LogOptions | None = None) -> None:
        self.kube = kube
        self.target = target
        self.options = options or LogOptions()
        self.dropped = 0
        self.state: ConnectionState = "connecting"
        self._buffer: deque[LogLine] = deque(maxlen=max(1, self.options.buffer))
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._follows: dict[Key, _Follow] = {}  # one per container of a pod
        self._responses: set[Any] = set()
        self._started = False
        self._initial: set[str] = set()  # pods present at start get tail/since
        self._target_gone = False
        self._reflector: Reflector | None = None
        self.containers: set[str] = set()  # container names of the target's pods at start
        self.note = ""  # which pod of several was chosen, and why
        self._passed: set[str] = set()  # pods there at the start that are not followed
        self.errors: deque[str] = deque(maxlen=20)  # why a container's log could not be read

    # -- consumer side -----------------------------------------------------------------
    def start(self) -> LogStream:
        if self._started:
            return self
        self._started = True
        pods = self._pods()
        if not pods:
            raise BinderctlError(
                f"no {self.target.description} found",
                hint=f"log targets: {TARGETS_HELP}",
            )
        if self.options.container and not any(
            c.get("name") == self.options.container
            for pod in pods
            for c in (pod.get("spec") or {}).get("containers") or ()
        ):
            raise BinderctlError(
                f"no container named {formatting.inert(self.options.container, 60)!r} in "
                f"{self.target.description}"
            )
        if self.target.one_pod and len(pods) > 1:
            chosen = newest_ready(pods)
            self._passed = {mapping.key_of(p) for p in pods if p is not chosen}
            self.note = (
                f"{len(pods)} {self.target.description}: showing "
                f"{formatting.inert(chosen['metadata']['name'], 80)}, the newest Ready one"
            )
            pods = [chosen]
        self._initial = {mapping.key_of(p) for p in pods}
        self.containers = {
            c.get("name", "")
            for pod in pods
            for c in (pod.get("spec") or {}).get("containers") or ()
        }
        with self._cond:
            for pod in pods:
                self._consider(pod)
        if self.options.follow and not self.options.previous:
            self._watch_pods()
        else:
            self.state = "connected"
        return self

    def take(self, timeout: float | None = None) -> list[LogLine]:
        """Every line waiting (blocks up to ``timeout`` for the first); [] when done."""
        with self._cond:
            if not self._buffer and not self.done:
                self._cond.wait(timeout)
            lines = list(self._buffer)
            self._buffer.clear()
            return lines

    def __iter__(self) -> Iterator[LogLine]:
        self.start()
        while True:
            lines = self.take(0.5)
            yield from lines
            if not lines and self.done:
                return

    @property
    def target_gone(self) -> bool:
        """The pod followed by name was deleted."""
        return self._target_gone

    @property
    def done(self) -> bool:
        """Nothing more will come: stopped, or not following and every reader ended."""
        if self._stop.is_set():
            return True
        if self.options.follow and not self.options.previous and not self._target_gone:
            return False
        readers = [f.thread for f in list(self._follows.values())]
        return not any(t.is_alive() for t in readers) and not self._buffer

    def stop(self) -> None:
        self._stop.set()
        if self._reflector is not None:
            self._reflector.interrupt()
        for response in list(self._responses):
            with contextlib.suppress(Exception):
                response.shutdown()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> LogStream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- finding pods ------------------------------------------------------------------
    def _query(self) -> dict[str, str]:
        if self.target.pod is not None:
            return {"fieldSelector": f"metadata.name={self.target.pod}"}
        return {"labelSelector": self.target.label_selector or ""}

    def _wanted(self, pod: Obj) -> bool:
        namespace = self.target.namespace
        if mapping.key_of(pod) in self._passed:
            return False
        return namespace is None or pod["metadata"].get("namespace") == namespace

    def _pods(self) -> list[Obj]:
        pods = self.kube.list(PODS, **self._query())
        return [p for p in pods if self._wanted(p)]

    def _watch_pods(self) -> None:
        def on_sync(pods: list[Obj]) -> None:
            with self._cond:
                for pod in pods:
                    if self._wanted(pod):
                        self._consider(pod)

        def on_event(kind: str, pod: Obj) -> None:
            if not self._wanted(pod):
                return
            with self._cond:
                if kind == "DELETED":
                    if self.target.pod is not None:
                        self._target_gone = True
                        self._cond.notify_all()
                else:
                    self._target_gone = False
                    self._consider(pod)

        def on_state(name: str, state: ConnectionState, error: str | None) -> None:
            self.state = state

        self._reflector = Reflector(
            self.kube,
            "log pods",
            PODS,
            on_sync=on_sync,
            on_event=on_event,
            on_state=on_state,
            stop=self._stop,
            **self._query(),
        )
        threading.Thread(target=self._reflector.run, name="binderctl-log-pods", daemon=True).start()

    def _consider(self, pod: Obj) -> None:
        """Start a reader for each container of ``pod`` that needs one (holds _cond): a
        new instance is read from its start (or with tail/since for the pods there at
        the start); a running instance whose reader died resumes after its last line."""
        if self._stop.is_set():
            return
        meta = pod["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        instances = _instances(pod)
        if self.options.previous:  # the API says whether there is one (and if not, why)
            instances = {
                c: (n if state == "ended" else n - 1, "terminated")
                for c, (n, state) in instances.items()
            }
        for container, (instance, state) in instances.items():
            if self.options.container and container != self.options.container:
                continue
            key = (namespace, name, container)
            known = self._follows.get(key)
            if (
                known is not None
                and known.thread.is_alive()
                and known.thread is not threading.current_thread()
            ):
                continue  # another thread follows it
            if known is not None and known.instance > instance:
                continue
            resume = known is not None and known.instance == instance
            if resume and not (state == "running" and self._following):
                continue  # read to its end already
            first = known is None and f"{namespace}/{name}" in self._initial
            thread = threading.Thread(
                target=self._reader,
                args=(key, first, resume),
                name=f"binderctl-log-{name}-{container}",
                daemon=True,
            )
            follow = _Follow(instance, thread, mapping.pod_role(pod) == "build")
            if resume and known is not None:
                follow.last_time, follow.at_last_time = known.last_time, known.at_last_time
            self._follows[key] = follow
            thread.start()

    @property
    def _following(self) -> bool:
        return self.options.follow and not self.options.previous

    # -- reading -----------------------------------------------------------------------
    def _reader(self, key: Key, first: bool, resume: bool) -> None:
        try:
            self._read_container(key, first, resume)
        finally:
            with self._cond:
                self._cond.notify_all()  # a consumer waiting for the end looks again

    def _read_container(self, key: Key, first: bool, resume: bool) -> None:
        namespace, name, container = key
        opts = self.options
        follow = self._follows[key]
        while not self._stop.is_set():
            query: dict[str, Any] = {"container": container, "timestamps": "true"}
            if self._following:
                query["follow"] = "true"
            if opts.previous:
                query["previous"] = "true"
            if resume and follow.last_time:
                # the node's clock, not ours: its own time of the last line read (the
                # API keeps whole seconds; the lines of that second read before are skipped)
                query["sinceTime"] = follow.last_time.split(".")[0].removesuffix("Z") + "Z"
            elif first:
                if opts.tail is not None:
                    query["tailLines"] = opts.tail
                if opts.since is not None:
                    query["sinceSeconds"] = opts.since
            try:
                self._stream(key, follow, query, skip=resume)
            except KubeError as exc:
                if not self._following or self._stop.is_set():
                    self.errors.append(f"{name}/{container}: {exc.message}")
                    return
            if not self._following or self._stop.is_set():
                return
            # the stream ended: go on if this very container instance is still running
            try:
                pod = self.kube.get(PODS, name, namespace)
            except KubeError as exc:
                if exc.status == 404:
                    with self._cond:  # gone for good: forget it, memory stays bounded
                        if self._follows.get(key) is follow:
                            del self._follows[key]
                return  # otherwise the pod watch restarts this reader when it can
            now = _instances(pod).get(container)
            if now is None or now[1] != "running" or now[0] != follow.instance:
                with self._cond:
                    self._consider(pod)  # a new instance gets a reader of its own
                return
            resume = True
            self._stop.wait(0.5)

    def _stream(self, key: Key, follow: _Follow, query: dict[str, Any], skip: bool) -> None:
        """Read one log stream into the buffer, noting the time of the last line and how
        many lines carried it; with ``skip``, those lines were read before a drop and
        are not repeated."""
        namespace, name, container = key
        response = self.kube.open(
            "GET",
            PODS,
            namespace=namespace,
            name=name,
            sub="log",
            query=query,
            timeout=(5.0, STREAM_READ_TIMEOUT),
        )
        self._responses.add(response)
        seen = parse_time(follow.last_time) if skip and follow.last_time else None
        repeats = follow.at_last_time  # lines with the very last time that were read
        try:
            with self.kube.errors():
                for batch in iter_batches(response):
                    lines: list[LogLine] = []
                    for raw in batch:
                        stamp, text = split_timestamp(raw.decode("utf-8", "replace"))
                        if seen is not None and stamp:
                            if stamp == follow.last_time and repeats > 0:
                                repeats -= 1
                                continue
                            if stamp != follow.last_time and (parse_time(stamp) or 0.0) < seen:
                                continue
                            seen = None
                        if stamp == follow.last_time:
                            follow.at_last_time += 1
                        else:
                            follow.last_time, follow.at_last_time = stamp, 1
                        texts = build_message(text) if follow.json_logs else (text,)
                        lines += (LogLine(name, container, t, stamp) for t in texts)
                    if lines:
                        self._push(lines)
        finally:
            self._responses.discard(response)
            response.release_conn()

    def _push(self, lines: list[LogLine]) -> None:
        with self._cond:
            overflow = len(self._buffer) + len(lines) - (self._buffer.maxlen or 0)
            if overflow > 0:
                self.dropped += overflow
            self._buffer.extend(lines)
            self._cond.notify_all()
