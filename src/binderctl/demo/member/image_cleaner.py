"""BinderHub's image cleaner (the ``<release>-image-cleaner`` DaemonSet), as
jupyterhub/docker-image-cleaner 1.0.0-beta.3 ``docker_image_cleaner/cleaner.py`` runs it.

At start, a node left cordoned by an earlier cleaner (annotation
``hub.jupyter.org/image-cleaner-cordoned``) is uncordoned. Then, every
``DOCKER_IMAGE_CLEANER_INTERVAL_SECONDS`` (300 by default; the chart does not set it), it
reads how full the builder's storage is (``relative``: percent of the filesystem, which
on a single-partition node is the root disk) and, at or above ``THRESHOLD_HIGH``, prunes
the builder's containers and images; with ``DOCKER_IMAGE_CLEANER_NODE_NAME`` set (the
chart's ``imageCleaner.cordon``, default true) it cordons the node while it prunes and
uncordons it after, whoever had cordoned it before.
"""

from __future__ import annotations

from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member import logformats
from binderctl.demo.member.disk import Disk
from binderctl.demo.member.kubelet import Plan
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.timeline import Timeline, Timer

ANNOTATION = "hub.jupyter.org/image-cleaner-cordoned"
INTERVAL_SECONDS = 300.0
# How long a prune of the builder's images holds the cordon: the source gives no figure
# (it depends on the images); an emulator choice, scaled by the demo speed like the rest.
PRUNE_SECONDS = 10.0


def _env(pod: Obj) -> dict[str, str]:
    found: dict[str, str] = {}
    for container in pod["spec"]["containers"]:
        for item in container.get("env") or []:
            if "valueFrom" in item:  # the node name, from spec.nodeName
                found[item["name"]] = pod["spec"].get("nodeName", "")
            else:
                found[item["name"]] = str(item.get("value", ""))
    return found


class ImageCleaner:
    """The cleaner pods' workload (one per node; the simulated member has one node)."""

    def __init__(
        self,
        store: Store,
        timeline: Timeline,
        logs: LogBook,
        disk: Disk,
        wall: Callable[[], float],
    ) -> None:
        self.store = store
        self.timeline = timeline
        self.logs = logs
        self.disk = disk
        self.wall = wall
        self._timers: dict[str, Timer] = {}
        self.prunes = 0

    def plan(self, pod: Obj) -> Plan:
        return Plan(ready_after=1.0)

    def started(self, pod: Obj, container: str) -> None:
        env = _env(pod)
        meta = pod["metadata"]
        key = meta["uid"]

        def log(text: str) -> None:
            line = logformats.python_logging(self.wall(), text)
            self.logs.write(meta["namespace"], meta["name"], container, line)

        node = env.get("DOCKER_IMAGE_CLEANER_NODE_NAME") or None
        if node is not None:
            current = self.store.find(types.NODES, None, node) or {}
            annotations = current.get("metadata", {}).get("annotations") or {}
            if (current.get("spec") or {}).get("unschedulable") and annotations.get(ANNOTATION):
                log(f"Node {node} still cordoned, possibly leftover from earlier crash of "
                    "image-cleaner")  # fmt: skip
                self._cordon(node, False, log)
        high = float(env.get("DOCKER_IMAGE_CLEANER_THRESHOLD_HIGH", "80"))
        path = env.get("DOCKER_IMAGE_CLEANER_PATH_TO_CHECK", "/var/lib/docker")
        log(f"Pruning docker images when {path} has {high}% inodes or blocks used")

        def check() -> None:
            used = self.disk.percent_used()
            log(f"{used:.1f}% used")
            if used < high or not self.disk.build_cache:
                self._timers[key] = self.timeline.after(INTERVAL_SECONDS, check)
                return
            if node is not None:
                self._cordon(node, True, log)

            def pruned() -> None:
                freed, self.disk.build_cache = self.disk.build_cache, 0
                self.prunes += 1
                log(f"Deleted images, freed {freed / 2**30:.2f}GB in {PRUNE_SECONDS:.0f} seconds.")
                if node is not None:
                    self._cordon(node, False, log)
                self._timers[key] = self.timeline.after(INTERVAL_SECONDS, check)

            self._timers[key] = self.timeline.after(PRUNE_SECONDS, pruned)

        check()

    def _cordon(self, node: str, cordon: bool, log: Callable[[str], None]) -> None:
        log(f"{'Cordoning' if cordon else 'Uncordoning'} node {node}")

        def change(obj: Obj) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            if cordon:
                annotations[ANNOTATION] = "true"
            else:
                annotations.pop(ANNOTATION, None)
            obj["spec"]["unschedulable"] = cordon

        if self.store.find(types.NODES, None, node) is not None:
            self.store.mutate(types.NODES, None, node, change)

    def ready(self, pod: Obj) -> None:
        return None

    def exited(self, pod: Obj, container: str, code: int) -> None:
        self._stop(pod)  # killed, evicted: the process is gone

    def rejected(self, pod: Obj, reason: str) -> None:
        self._stop(pod)

    def removed(self, pod: Obj) -> None:
        self._stop(pod)

    def _stop(self, pod: Obj) -> None:
        timer = self._timers.pop(pod["metadata"]["uid"], None)
        if timer is not None:
            timer.cancel()
