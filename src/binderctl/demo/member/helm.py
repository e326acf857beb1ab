"""k3s's helm-controller: a ``helm-install-<name>`` Job for every HelmChart.

Like the real controller (k3s-io/helm-controller ``pkg/controllers/chart``), the Job lives
in the HelmChart's namespace, runs ``rancher/klipper-helm`` with ``restartPolicy:
OnFailure``, and its name goes to the chart's ``status.jobName``. When its pod's ``helm``
container exits 0 the release's objects are applied; a chart that cannot be installed
(unknown chart, values the chart rejects) makes the container exit 1 again and again
(``CrashLoopBackOff``), so the chart never becomes ready.

Each run of the Job's pod does what klipper-helm's ``entry`` does: install a release
that is not there, upgrade a deployed one, and for a release whose last upgrade failed
follow ``spec.failurePolicy`` (``FAILURE_POLICY``): ``reinstall`` (the default)
uninstalls it, deleting every object of the release, and installs it afresh; ``abort``
exits 1 and leaves the release as it is; ``retry`` upgrades again and exits 0 whatever
happens. Helm maps every object of a release to an API resource before creating any:
a kind whose CRD the cluster does not serve yet fails the run, even when the same
release installs that CRD (the pod crash-loops until another release has installed it).
A chart carried in ``spec.chartContent`` (a base64 .tgz) is read from there.

The values reach helm as files under ``/config`` (``--values`` for each, in name order),
from the controller's own ``chart-values-<name>`` Secret (``valuesContent``) and, from
helm-controller v0.16.7 (k3s v1.30.12, v1.31.8, v1.32.4 and later), from the Secrets
``spec.valuesSecrets`` names: they are projected into the Job's pod, so a missing one
keeps the pod from starting (unless ``ignoreUpdates`` makes it optional), and their
contents are part of the config hash, so changing one runs the Job again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.events import EventRecorder, Source
from binderctl.demo.kube.store import Obj, Store, WatchEvent
from binderctl.demo.member import charts, stamps
from binderctl.demo.member.charts import ChartError, Release
from binderctl.demo.member.kubelet import Plan
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.objects import Writer
from binderctl.demo.member.timeline import Timeline

CHART_LABEL = "helmcharts.helm.cattle.io/chart"
CONFIG_HASH = "helmcharts.helm.cattle.io/configHash"
VALUES_SECRET_TYPE = "helmcharts.helm.cattle.io/values"  # from v0.16.7; Opaque before
INSTALL_SECONDS = 12.0
DEFAULT_FAILURE_POLICY = "reinstall"  # helm-controller's kubebuilder default
SOURCE = Source("helm-controller")
# cert-manager's docs, "Troubleshooting: webhook": the API server's call to an admission
# webhook with no endpoint (helm has recorded the release by then: it ends "failed").
WEBHOOK_REFUSED = (
    'Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to '
    'call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s":'
    " dial tcp: connect: connection refused"
)
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
BOOTSTRAP_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"},
    {"key": "node.cloudprovider.kubernetes.io/uninitialized", "operator": "Equal",
     "value": "true", "effect": "NoSchedule"},
    {"key": "CriticalAddonsOnly", "operator": "Exists"},
    {"key": "node-role.kubernetes.io/etcd", "operator": "Exists", "effect": "NoExecute"},
    {"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"},
]  # fmt: skip
# A Secret of the chart's namespace by name; None where the controller predates
# valuesSecrets (it reads valuesContent only).
SecretReader = Callable[[str], Obj | None]


@dataclass(frozen=True)
class ValuesFile:
    path: str  # under /config, where the Job's helm reads it
    secret: str
    key: str
    ref: int = -1  # its entry in spec.valuesSecrets; -1: the controller's own Secret
    optional: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one run of a chart's Job pod does (klipper-helm ``entry``)."""

    code: int
    lines: tuple[str, ...]
    release: Release | None = None  # installed when the run exits 0
    uninstall: bool = False  # reinstall: the old release is deleted first
    marks_failed: bool = False  # the upgrade failed while applying: status failed


def values_secret_name(chart_name: str) -> str:
    """The Secret the controller writes for a chart (its valuesContent)."""
    return f"chart-values-{chart_name}"


def own_secret(chart: Obj) -> str:
    return values_secret_name(chart["metadata"]["name"])


def values_files(chart: Obj, reads_values_secrets: bool) -> list[ValuesFile]:
    """The files the Job's pod gets, in the order helm reads them."""
    spec, own = chart.get("spec") or {}, own_secret(chart)
    if not reads_values_secrets:
        name = "values-01_HelmChart.yaml"
        return [ValuesFile(name, own, name)] if spec.get("valuesContent") else []
    files = []
    if spec.get("valuesContent"):
        files.append(
            ValuesFile("values-0-000-HelmChart-ValuesContent.yaml", own, "HelmChartValuesContent")
        )
    items = 1
    for index, ref in enumerate(spec.get("valuesSecrets") or []):
        if not ref.get("keys") or ref.get("name") == own:
            continue
        for key in ref["keys"]:
            items += 1
            path = f"values-0-{items:03d}-HelmChart-ValuesSecret.yaml"
            optional = bool(ref.get("ignoreUpdates"))
            files.append(ValuesFile(path, str(ref.get("name")), str(key), index, optional))
    return files


def _file_text(chart: Obj, file: ValuesFile, read_secret: SecretReader | None) -> str | None:
    """The file's content; None for an optional Secret or key that is not there."""
    if file.secret == own_secret(chart):
        return str((chart.get("spec") or {}).get("valuesContent") or "")
    secret = read_secret(file.secret) if read_secret is not None else None
    data = (secret or {}).get("data") or {}
    if file.key not in data:
        if file.optional:
            return None
        if secret is None:
            raise ChartError(f'secret "{file.secret}" not found')
        raise ChartError(f"references non-existent secret key: {file.key}")
    try:
        return base64.b64decode(data[file.key], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ChartError(f"/config/{file.path}: not UTF-8 text") from None


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of two values files: maps key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def values_of(chart: Obj, read_secret: SecretReader | None = None) -> dict[str, Any]:
    """The chart's values files merged in order, then ``set`` (as helm does with --set)."""
    values: dict[str, Any] = {}
    for file in values_files(chart, read_secret is not None):
        text = _file_text(chart, file, read_secret)
        if text is None:
            continue
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ChartError(f"failed to parse /config/{file.path}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ChartError("values must be a YAML mapping")
        values = _merged(values, loaded)
    for dotted, value in ((chart.get("spec") or {}).get("set") or {}).items():
        node = values
        *parents, leaf = str(dotted).split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return values


def release_of(chart: Obj, read_secret: SecretReader | None = None) -> Release:
    spec = chart.get("spec") or {}
    meta = chart["metadata"]
    if spec.get("chartContent"):
        name, templates = charts.chart_archive(str(spec["chartContent"]))
    else:
        name, templates = charts.chart_name(spec), ()
    return Release(
        name=meta["name"],
        namespace=spec.get("targetNamespace") or meta["namespace"],
        chart=name,
        version=str(spec.get("version") or ""),
        values=values_of(chart, read_secret),
        templates=templates,
    )


def config_hash(chart: Obj, read_secret: SecretReader | None = None) -> str:
    """The spec, and the data of each Secret it names that exists and whose updates are
    not ignored."""
    digest = hashlib.sha256(json.dumps(chart.get("spec") or {}, sort_keys=True).encode())
    for file in values_files(chart, read_secret is not None):
        if read_secret is None or file.optional or file.secret == own_secret(chart):
            continue
        data = (read_secret(file.secret) or {}).get("data") or {}
        for key in sorted(data):
            digest.update(key.encode() + str(data[key]).encode())
    return "SHA256=" + digest.hexdigest().upper()


def placement(chart: Obj) -> Obj:
    """Where the Job's pod may run: ``kubernetes.io/os: linux``; a bootstrap chart also
    on a not-ready control-plane node (host network, its tolerations). No Job tolerates
    ``node.kubernetes.io/unschedulable``: on a cordoned single node the pod stays
    Pending. (k3s-io/helm-controller ``pkg/controllers/chart/chart.go`` ``job()`` and
    ``setTolerations``; k3s leaves the ``--job-tolerations`` list empty.)"""
    if not (chart.get("spec") or {}).get("bootstrap"):
        return {"nodeSelector": {"kubernetes.io/os": "linux"}}
    return {
        "nodeSelector": {"kubernetes.io/os": "linux", CONTROL_PLANE: "true"},
        "hostNetwork": True,
        "tolerations": BOOTSTRAP_TOLERATIONS,
    }


class HelmController:
    def __init__(
        self,
        store: Store,
        writer: Writer,
        timeline: Timeline,
        events: EventRecorder,
        logs: LogBook,
        on_installed: Callable[[Release], None],
        node_ip: str,
        reads_values_secrets: bool,
    ) -> None:
        self.node_ip = node_ip
        self.reads_values_secrets = reads_values_secrets
        self._pending: dict[str, Outcome] = {}  # by pod uid: what its run does
        self.store = store
        self.writer = writer
        self.timeline = timeline
        self.events = events
        self.logs = logs
        self.on_installed = on_installed
        self._hashes: dict[tuple[str, str], str] = {}
        self.installed: dict[tuple[str, str], Release] = {}
        self.failed: set[str] = set()  # releases whose last upgrade failed (helm status)
        # Knob: releases whose upgrades fail while applying (an API error mid-upgrade).
        self.failing_upgrades: set[str] = set()

    def attach(self) -> None:
        self.store.add_listener(self._on_event)

    def reader(self, chart: Obj) -> SecretReader | None:
        """How this controller reads the Secrets a chart names (None: it does not)."""
        if not self.reads_values_secrets:
            return None
        namespace = chart["metadata"]["namespace"]
        return lambda name: self.store.find(types.SECRETS, namespace, name)

    def values(self, chart: Obj) -> dict[str, Any]:
        return values_of(chart, self.reader(chart))

    def release(self, chart: Obj) -> Release:
        return release_of(chart, self.reader(chart))

    def config_hash(self, chart: Obj) -> str:
        return config_hash(chart, self.reader(chart))

    def _on_event(self, event: WatchEvent) -> None:
        if event.rt is types.SECRETS and self.reads_values_secrets:
            meta = event.obj["metadata"]
            self.timeline.soon(lambda: self._secret_changed(meta["namespace"], meta["name"]))
            return
        if event.rt is not types.HELMCHARTS:
            return
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "DELETED":
            self._hashes.pop(key, None)
            self.timeline.soon(lambda: self._uninstall(key))
            return
        self._reconcile(event.obj)

    def _secret_changed(self, namespace: str, name: str) -> None:
        """A Secret a chart names (updates not ignored) changed: reconcile that chart."""
        for chart in self.store.list(types.HELMCHARTS, namespace):
            refs = (chart.get("spec") or {}).get("valuesSecrets") or []
            if any(r.get("name") == name and not r.get("ignoreUpdates") for r in refs):
                self._reconcile(chart)

    def _reconcile(self, chart: Obj) -> None:
        meta = chart["metadata"]
        key = (meta["namespace"], meta["name"])
        digest = self.config_hash(chart)
        if self._hashes.get(key) == digest:
            return
        self._hashes[key] = digest
        self.timeline.soon(lambda: self._apply_job(key))

    def _values_volume(self, chart: Obj) -> Obj:
        """The Job's ``values`` volume: every values file, from the Secret it comes from."""
        if not self.reads_values_secrets:
            return {"name": "values", "secret": {"secretName": own_secret(chart)}}
        files = values_files(chart, True)
        sources: list[Obj] = [{"secret": {"name": own_secret(chart), "items": []}}]
        for index, grouped in groupby(files, key=lambda f: f.ref):
            group = list(grouped)
            if index >= 0:
                sources.append({"secret": {"name": group[0].secret, "optional": group[0].optional}})
            sources[-1]["secret"]["items"] = [{"key": f.key, "path": f.path} for f in group]
        return {"name": "values", "projected": {"defaultMode": 420, "sources": sources}}

    def _write_values_secret(self, chart: Obj) -> None:
        """The controller's own ``chart-values-<name>`` Secret, holding valuesContent."""
        own = own_secret(chart)
        files = [f for f in values_files(chart, self.reads_values_secrets) if f.secret == own]
        content = str((chart.get("spec") or {}).get("valuesContent") or "").encode()
        self.writer.apply(types.SECRETS, {
            "metadata": {"name": own, "namespace": chart["metadata"]["namespace"]},
            "type": VALUES_SECRET_TYPE if self.reads_values_secrets else "Opaque",
            "data": {f.key: base64.b64encode(content).decode() for f in files},
        })  # fmt: skip

    def _job(self, chart: Obj, done: bool) -> Obj:
        meta, spec = chart["metadata"], chart.get("spec") or {}
        name = meta["name"]
        release = self.release(chart) if done else None
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
            "FAILURE_POLICY": spec.get("failurePolicy") or DEFAULT_FAILURE_POLICY,
        }
        labels = {CHART_LABEL: name}
        annotations = {CONFIG_HASH: self.config_hash(chart)}
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
                                "volumeMounts": [{"name": "values", "mountPath": "/config"}],
                            }
                        ],
                        "volumes": [self._values_volume(chart)],
                        **placement(chart),
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
        self._write_values_secret(chart)
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
        that cannot be installed is only created: its install Job fails as usual. Its
        finished Job has no pod, so no ``chart-values-<name>`` Secret is written for it
        (which keeps a seeded member's objects as they were)."""
        meta = chart["metadata"]
        key = (meta["namespace"], meta["name"])
        try:
            release = self.release(chart)
            self._check(release)
        except ChartError:
            self.writer.create(types.HELMCHARTS, chart)
            return None
        self._hashes[key] = self.config_hash(chart)
        self.writer.create(types.HELMCHARTS, chart)
        job = self._job(chart, done=True)
        self.writer.create(types.JOBS, job)
        self._set_status(key, job["metadata"]["name"])
        self.install(release)
        return release

    def served_kinds(self, without: str | None = None) -> frozenset[tuple[str, str]]:
        """The custom kinds the cluster serves: CRDs of the installed releases."""
        served: frozenset[tuple[str, str]] = frozenset()
        for release in self.installed.values():
            if release.name != without:
                served |= charts.crds_of(release)
        return served

    def _check(self, release: Release, *, without: str | None = None) -> None:
        charts.render(release)
        charts.check_kinds(release, self.served_kinds(without))

    def install(self, release: Release) -> None:
        self.failed.discard(release.name)
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
        """The HelmChart is gone: its release, and the controller's values Secret."""
        self._helm_uninstall(key[1])
        self.writer.delete(types.SECRETS, key[0], values_secret_name(key[1]))

    def _helm_uninstall(self, release_name: str) -> None:
        """``helm uninstall``: every object the release rendered."""
        for (namespace, name), release in list(self.installed.items()):
            if name != release_name:
                continue
            for rt, obj in charts.render(release):
                self.writer.delete(rt, namespace, obj["metadata"]["name"])
            del self.installed[(namespace, name)]
        self.failed.discard(release_name)

    # -- the Job's pod ---------------------------------------------------------------
    def chart_of_pod(self, pod: Obj) -> Obj | None:
        name = (pod["metadata"].get("labels") or {}).get(CHART_LABEL)
        if name is None:
            return None
        return self.store.find(types.HELMCHARTS, pod["metadata"]["namespace"], name)

    def _installed_release(self, name: str) -> Release | None:
        return next((r for (_, n), r in self.installed.items() if n == name), None)

    def decide(self, chart: Obj) -> Outcome:
        """What a run of the chart's Job pod does now (klipper-helm ``helm_update``)."""
        name = chart["metadata"]["name"]
        policy = (chart.get("spec") or {}).get("failurePolicy") or DEFAULT_FAILURE_POLICY
        action = "install"
        if self._installed_release(name) is not None:
            action = "upgrade"
        if name in self.failed:
            if policy == "abort":
                return Outcome(1, (
                    f"Release status is 'failed' and failure policy is '{policy}'; "
                    "waiting for operator intervention",
                ))  # fmt: skip
            if policy not in ("reinstall", "retry"):
                return Outcome(1, (f"Unknown failure policy '{policy}'",))
            action = policy
        lines = {
            "install": ("Installing helm_v3 chart",),
            "upgrade": (f"Already installed {name}", f"Upgrading {name}"),
            "reinstall": ("Uninstalling failed helm_v3 chart", "Deleted", "Installing chart"),
            "retry": (f"Upgrading {name} from failed state",),
        }[action]  # fmt: skip
        verb = "INSTALLATION" if action in ("install", "reinstall") else "UPGRADE"
        fail_code = 0 if action == "retry" else 1  # entry exits 0 after a retry, whatever
        try:
            release = self.release(chart)
            self._check(release, without=name if action == "reinstall" else None)
        except ChartError as exc:
            return Outcome(fail_code, (*lines, f"Error: {verb} FAILED: {exc}"),
                           uninstall=action == "reinstall")  # fmt: skip
        if self._webhook_refuses(release):
            return Outcome(fail_code, (*lines, f"Error: {verb} FAILED: {WEBHOOK_REFUSED}"),
                           marks_failed=True)  # fmt: skip
        if action in ("upgrade", "retry") and name in self.failing_upgrades:
            return Outcome(fail_code, (
                *lines, "Error: UPGRADE FAILED: an error on the server (\"\") has prevented "
                "the request from succeeding",
            ), marks_failed=True)  # fmt: skip
        return Outcome(0, lines, release, uninstall=action == "reinstall")

    def _webhook_refuses(self, release: Release) -> bool:
        """Whether applying the release needs cert-manager's validating webhook (every
        cert-manager.io object does, failurePolicy Fail) while it does not serve."""
        groups = {api.rsplit("/", 1)[0] for api, _, _ in charts.custom_objects(release)}
        if not groups & {"cert-manager.io", "acme.cert-manager.io"}:
            return False
        return not any(
            (p["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "webhook"
            and any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (p.get("status") or {}).get("conditions") or [])
            for p in self.store.list(types.PODS, "cert-manager")
        )  # fmt: skip

    def plan(self, pod: Obj) -> Plan:
        chart = self.chart_of_pod(pod)
        if chart is None:
            self._pending.pop(pod["metadata"]["uid"], None)
            return Plan(ready_after=None, exit_after=2.0, exit_code=1)
        outcome = self.decide(chart)
        self._pending[pod["metadata"]["uid"]] = outcome
        if outcome.code != 0 or outcome.release is None:
            return Plan(ready_after=None, exit_after=4.0, exit_code=outcome.code)
        return Plan(ready_after=1.0, exit_after=INSTALL_SECONDS, exit_code=0)

    def started(self, pod: Obj, container: str) -> None:
        chart = self.chart_of_pod(pod)
        outcome = self._pending.get(pod["metadata"]["uid"])
        if chart is None or outcome is None:
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
        reader = self.reader(chart)
        present = [  # an optional Secret or key that is not there is no file
            f" --values /config/{file.path}"
            for file in values_files(chart, reader is not None)
            if reader is None
            or not file.optional
            or file.key in ((reader(file.secret) or {}).get("data") or {})
        ]
        lines += [
            f"+ helm_v3 install --namespace {target} --create-namespace{version} "
            f"{meta['name']} {chart_ref}{''.join(sorted(present))}",
            *outcome.lines,
        ]
        self.logs.write_many(ns, name, container, lines)
        if outcome.uninstall:
            self._helm_uninstall(meta["name"])
        if outcome.release is None or outcome.code != 0:
            return
        deployed = stamps.http_date(self.writer.wall())
        release = outcome.release
        self.logs.write_many(ns, name, container, [
            f"NAME: {release.name}", f"LAST DEPLOYED: {deployed}",
            f"NAMESPACE: {release.namespace}", "STATUS: deployed", "REVISION: 1",
            "TEST SUITE: None",
        ])  # fmt: skip

    def ready(self, pod: Obj) -> None:
        return None

    def exited(self, pod: Obj, container: str, code: int) -> None:
        outcome = self._pending.pop(pod["metadata"]["uid"], None)
        if outcome is None:
            return
        if outcome.marks_failed:
            self.failed.add(pod["metadata"]["labels"][CHART_LABEL])
        if code == 0 and outcome.release is not None:
            self.install(outcome.release)

    def rejected(self, pod: Obj, reason: str) -> None:
        return None

    def removed(self, pod: Obj) -> None:
        self._pending.pop(pod["metadata"]["uid"], None)
