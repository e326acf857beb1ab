"""k3s's helm-controller: a ``helm-install-<name>`` Job for every HelmChart.

Like the real controller (k3s-io/helm-controller ``pkg/controllers/chart``), the Job lives
in the HelmChart's namespace, runs ``rancher/klipper-helm`` with ``restartPolicy:
OnFailure``, and its name goes to the chart's ``status.jobName``. When its pod's ``helm``
container exits 0 the release's objects are applied; a chart that cannot be installed
(unknown chart, values the chart rejects) makes the container exit 1 again and again
(``CrashLoopBackOff``), so the chart never becomes ready.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store, WatchEvent
from binderctl.demo.member import charts, stamps
from binderctl.demo.member.charts import ChartError, Release
from binderctl.demo.member.events import EventRecorder, Source
from binderctl.demo.member.kubelet import Plan
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.objects import Writer
from binderctl.demo.member.timeline import Timeline

CHART_LABEL = "helmcharts.helm.cattle.io/chart"
CONFIG_HASH = "helmcharts.helm.cattle.io/configHash"
INSTALL_SECONDS = 12.0
SOURCE = Source("helm-controller")


def values_of(chart: Obj) -> dict[str, Any]:
    """The chart's ``valuesContent`` merged with ``set`` (as helm does with --set)."""
    spec = chart.get("spec") or {}
    try:
        values = yaml.safe_load(spec.get("valuesContent") or "") or {}
    except yaml.YAMLError as exc:
        raise ChartError(f"failed to parse /config/values-10_HelmChart.yaml: {exc}") from None
    if not isinstance(values, dict):
        raise ChartError("values must be a YAML mapping")
    for dotted, value in (spec.get("set") or {}).items():
        node = values
        *parents, leaf = str(dotted).split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return values


def release_of(chart: Obj) -> Release:
    spec = chart.get("spec") or {}
    meta = chart["metadata"]
    return Release(
        name=meta["name"],
        namespace=spec.get("targetNamespace") or meta["namespace"],
        chart=charts.chart_name(spec),
        version=str(spec.get("version") or ""),
        values=values_of(chart),
    )


def config_hash(chart: Obj) -> str:
    text = json.dumps(chart.get("spec") or {}, sort_keys=True)
    return "SHA256=" + hashlib.sha256(text.encode()).hexdigest().upper()


class HelmController:
    def __init__(
        self,
        store: Store,
        writer: Writer,
        timeline: Timeline,
        events: EventRecorder,
        logs: LogBook,
        on_installed: Callable[[Release], None],
        on_changed: Callable[[Obj], None],
        node_ip: str,
    ) -> None:
        self.node_ip = node_ip
        self._pending_release: dict[str, Release] = {}
        self.store = store
        self.writer = writer
        self.timeline = timeline
        self.events = events
        self.logs = logs
        self.on_installed = on_installed
        self.on_changed = on_changed
        self._hashes: dict[tuple[str, str], str] = {}
        self.installed: dict[tuple[str, str], Release] = {}

    def attach(self) -> None:
        self.store.add_listener(self._on_event)

    def _on_event(self, event: WatchEvent) -> None:
        if event.rt is not types.HELMCHARTS:
            return
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "DELETED":
            self._hashes.pop(key, None)
            self.timeline.soon(lambda: self._uninstall(key))
            return
        digest = config_hash(event.obj)
        if self._hashes.get(key) == digest:
            return
        self._hashes[key] = digest
        chart = event.obj
        self.timeline.soon(lambda: self.on_changed(chart))
        self.timeline.soon(lambda: self._apply_job(key))

    def _job(self, chart: Obj, done: bool) -> Obj:
        meta, spec = chart["metadata"], chart.get("spec") or {}
        name = meta["name"]
        release = release_of(chart) if done else None
        target = spec.get("targetNamespace") or meta["namespace"]
        chart_ref = f"{name}/{spec.get('chart')}" if spec.get("repo") else spec.get("chart", "")
        env = {
            "NAME": name,
            "VERSION": str(spec.get("version") or ""),
            "REPO": spec.get("repo") or "",
            "HELM_DRIVER": "secret",
            "CHART_NAMESPACE": meta["namespace"],
            "CHART": chart_ref,
            "HELM_VERSION": "",
            "TARGET_NAMESPACE": release.namespace if release else target,
            "AUTH_PASS_CREDENTIALS": "false",
            "INSECURE_SKIP_TLS_VERIFY": "false",
            "PLAIN_HTTP": "false",
        }
        labels = {CHART_LABEL: name}
        annotations = {CONFIG_HASH: config_hash(chart)}
        job: Obj = {
            "metadata": {
                "name": f"helm-install-{name}",
                "namespace": meta["namespace"],
                "labels": labels,
                "annotations": annotations,
            },
            "spec": {
                "backoffLimit": 1000,
                "template": {
                    "metadata": {"labels": dict(labels), "annotations": dict(annotations)},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "serviceAccountName": f"helm-{name}",
                        "priorityClassName": "system-cluster-critical",
                        "containers": [
                            {
                                "name": "helm",
                                "image": charts.KLIPPER_HELM_IMAGE,
                                "args": [
                                    "install",
                                    "--set-string",
                                    "global.systemDefaultRegistry=",
                                ],
                                "env": [{"name": k, "value": v} for k, v in env.items()],
                            }
                        ],
                    },
                },
            },
        }
        if done:
            stamp = self.writer.stamp()
            job["status"] = {
                "startTime": stamp,
                "completionTime": stamp,
                "succeeded": 1,
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [
                    {
                        "type": kind,
                        "status": "True",
                        "lastProbeTime": stamp,
                        "lastTransitionTime": stamp,
                        **extra,
                    }
                    for kind, extra in (
                        (
                            "SuccessCriteriaMet",
                            {
                                "reason": "CompletionsReached",
                                "message": "Reached expected number of succeeded pods",
                            },
                        ),
                        (
                            "Complete",
                            {
                                "reason": "CompletionsReached",
                                "message": "Reached expected number of succeeded pods",
                            },
                        ),
                    )
                ],
            }
        return job

    def _set_status(self, key: tuple[str, str], job_name: str) -> None:
        namespace, name = key

        def change(chart: Obj) -> None:
            chart["status"] = {
                "jobName": job_name,
                "conditions": [
                    {
                        "type": "JobCreated",
                        "status": "True",
                        "reason": "Job created",
                        "message": f"Applying HelmChart using Job {namespace}/{job_name}",
                    },
                    {"type": "Failed", "status": "False", "reason": "", "message": ""},
                ],
            }

        self.store.mutate(types.HELMCHARTS, namespace, name, change)

    def _apply_job(self, key: tuple[str, str]) -> None:
        chart = self.store.find(types.HELMCHARTS, *key)
        if chart is None:
            return
        job = self._job(chart, done=False)
        job_name = job["metadata"]["name"]
        self.writer.delete(types.JOBS, key[0], job_name)
        self.writer.create(types.JOBS, job)
        self._set_status(key, job_name)
        source = chart["spec"].get("chart", "")
        self.events.emit(
            self.store.get(types.HELMCHARTS, *key),
            "Normal",
            "ApplyJob",
            f'Applying HelmChart from chart "{source}" using Job {key[0]}/{job_name} ',
            SOURCE,
        )

    def install_now(self, chart: Obj) -> Release | None:
        """A chart that was installed before the simulation began (an "up" member). One
        that cannot be installed is only created: its install Job fails as usual."""
        meta = chart["metadata"]
        key = (meta["namespace"], meta["name"])
        try:
            release = release_of(chart)
            charts.render(release)
        except ChartError:
            self.writer.create(types.HELMCHARTS, chart)
            return None
        self._hashes[key] = config_hash(chart)
        self.writer.create(types.HELMCHARTS, chart)
        job = self._job(chart, done=True)
        self.writer.create(types.JOBS, job)
        self._set_status(key, job["metadata"]["name"])
        self.install(release)
        return release

    def install(self, release: Release) -> None:
        for rt, obj in charts.render(release):
            if (
                release.namespace != "kube-system"
                and self.store.find(types.NAMESPACES, None, release.namespace) is None
            ):
                self.writer.create(types.NAMESPACES, {"metadata": {"name": release.namespace}})
            if rt is types.SERVICES and obj["spec"]["type"] == "LoadBalancer":
                obj["status"] = {
                    "loadBalancer": {"ingress": [{"ip": self.node_ip, "ipMode": "VIP"}]}
                }
            self.writer.apply(rt, obj)
        self.installed[(release.namespace, release.name)] = release
        self.on_installed(release)

    def _uninstall(self, key: tuple[str, str]) -> None:
        for (namespace, name), release in list(self.installed.items()):
            if name != key[1]:
                continue
            for rt, obj in charts.render(release):
                self.writer.delete(rt, namespace, obj["metadata"]["name"])
            del self.installed[(namespace, name)]

    # -- the Job's pod ---------------------------------------------------------------
    def chart_of_pod(self, pod: Obj) -> Obj | None:
        name = (pod["metadata"].get("labels") or {}).get(CHART_LABEL)
        if name is None:
            return None
        return self.store.find(types.HELMCHARTS, pod["metadata"]["namespace"], name)

    def plan(self, pod: Obj) -> Plan:
        chart = self.chart_of_pod(pod)
        if chart is None:
            return Plan(ready_after=None, exit_after=2.0, exit_code=1)
        try:
            charts.render(release_of(chart))
        except ChartError:
            return Plan(ready_after=None, exit_after=4.0, exit_code=1)
        return Plan(ready_after=1.0, exit_after=INSTALL_SECONDS, exit_code=0)

    def started(self, pod: Obj, container: str) -> None:
        chart = self.chart_of_pod(pod)
        if chart is None:
            return
        spec, meta = chart["spec"], chart["metadata"]
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        target = spec.get("targetNamespace") or meta["namespace"]
        lines = ["set +v -x", "+ [[ true != \\t\\r\\u\\e ]]", "+ shopt -s nullglob"]
        if spec.get("repo"):
            lines += [
                f"+ helm_v3 repo add {meta['name']} {spec['repo']}",
                f'"{meta["name"]}" has been added to your repositories',
                "+ helm_v3 repo update",
                "Hang tight while we grab the latest from your chart repositories...",
                f'...Successfully got an update from the "{meta["name"]}" chart repository',
                "Update Complete. \u2388Happy Helming!\u2388",
            ]
        chart_ref = f"{meta['name']}/{spec.get('chart')}" if spec.get("repo") else spec.get("chart")
        version = f" --version {spec['version']}" if spec.get("version") else ""
        lines += [
            "+ echo 'Installing helm_v3 chart'",
            f"+ helm_v3 install --namespace {target} --create-namespace{version} "
            f"{meta['name']} {chart_ref} --values /config/values-10_HelmChart.yaml",
        ]
        self.logs.write_many(ns, name, container, lines)
        try:
            release = release_of(chart)
            charts.render(release)
        except ChartError as exc:
            self.logs.write(ns, name, container, f"Error: INSTALLATION FAILED: {exc}")
            return
        self._pending_release[pod["metadata"]["uid"]] = release
        deployed = stamps.http_date(self.writer.wall())
        self.logs.write_many(ns, name, container, [
            f"NAME: {release.name}", f"LAST DEPLOYED: {deployed}",
            f"NAMESPACE: {release.namespace}", "STATUS: deployed", "REVISION: 1",
            "TEST SUITE: None",
        ])  # fmt: skip

    def ready(self, pod: Obj) -> None:
        return None

    def exited(self, pod: Obj, container: str, code: int) -> None:
        release = self._pending_release.pop(pod["metadata"]["uid"], None)
        if code == 0 and release is not None:
            self.install(release)

    def rejected(self, pod: Obj, reason: str) -> None:
        return None

    def removed(self, pod: Obj) -> None:
        self._pending_release.pop(pod["metadata"]["uid"], None)
