"""k3s upgrades the way k3s documents them and mybinder runs them: rancher's
system-upgrade-controller with a ``Plan`` (docs.k3s.io "Automated Upgrades";
jupyterhub/mybinder.org-deploy ``config/k3s/k3s-upgrade-plan.yaml``,
``docs/source/deployment/k3s.md`` "Enable k3s auto-upgrade").

The controller is installed as a chart of binderctl's own through k3s's helm-controller
(``spec.chartContent``: its service account and RBAC, its settings ConfigMap and its
Deployment, as the controller's release manifests have them). At start the controller
registers its CRD (``plans.upgrade.cattle.io``) itself. For a Plan it resolves the
version (``spec.version``, else the channel's 302), selects the nodes (``nodeSelector``,
and no label ``plan.upgrade.cattle.io/<plan>`` with the plan's hash yet), and runs one
Job per node in the plan's window: ``rancher/k3s-upgrade:<version with - for +>``, which
replaces the k3s binary on the host and sends k3s SIGTERM; systemd starts the new one.
The Job tolerates ``node.kubernetes.io/unschedulable``, so it runs on a cordoned node.
When it completes the node gets the label, and the Plan's ``Complete`` condition turns
True once no node is left. (rancher/system-upgrade-controller v0.20.1
``pkg/upgrade/handle_upgrade.go``, ``plan/plan.go``, ``job/job.go``, ``handle_batch.go``;
k3s-io/k3s-upgrade ``scripts/upgrade.sh``.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import yaml

from binderctl.errors import BinderctlError
from binderctl.maintenance_window import Window
from binderctl.services import charts
from binderctl.services.kube import (
    DEPLOYMENTS,
    HELMCHARTS,
    MERGE_PATCH,
    Kube,
    KubeError,
    Obj,
    Resource,
    get_or_none,
)

NAMESPACE = "system-upgrade"
SERVICE_ACCOUNT = "system-upgrade"
CONTROLLER = "system-upgrade-controller"
# rancher/system-upgrade-controller v0.20.1 (f1362a3), published as this image by its
# release workflow.
CONTROLLER_VERSION = "v0.20.1"
CONTROLLER_IMAGE = f"rancher/{CONTROLLER}:{CONTROLLER_VERSION}"
KUBECTL_IMAGE = "rancher/kubectl:v1.30.3"  # the controller's default (job.go)
UPGRADE_IMAGE = "rancher/k3s-upgrade"  # tagged with each k3s release, + as -
PLANS = Resource("upgrade.cattle.io/v1", "plans")
JOBS_LABEL = "upgrade.cattle.io/plan"
NODE_LABEL_PREFIX = "plan.upgrade.cattle.io/"
CHART = charts.ChartSource(
    "system-upgrade", "", "binderctl-system-upgrade-controller", "0.20.1", NAMESPACE
)
# The staged upgrade's Plan, and the scheduled one (mybinder calls it upgrade-plan).
STAGED_PLAN = "binderctl-k3s"
SCHEDULED_PLAN = "k3s-upgrade"
POLL_SECONDS = 1.0

# The controller's settings (manifests/system-upgrade-controller.yaml,
# default-controller-env).
CONTROLLER_ENV = {
    "SYSTEM_UPGRADE_CONTROLLER_DEBUG": "false",
    "SYSTEM_UPGRADE_CONTROLLER_THREADS": "2",
    "SYSTEM_UPGRADE_CONTROLLER_LEADER_ELECT": "true",
    "SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS": "900",
    "SYSTEM_UPGRADE_JOB_BACKOFF_LIMIT": "99",
    "SYSTEM_UPGRADE_JOB_IMAGE_PULL_POLICY": "Always",
    "SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE": KUBECTL_IMAGE,
    "SYSTEM_UPGRADE_JOB_PRIVILEGED": "true",
    "SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH": "900",
    "SYSTEM_UPGRADE_PLAN_POLLING_INTERVAL": "15m",
}
_CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
# The image is FROM scratch (package/Dockerfile): the CA roots are the host's, mounted
# read-only; without them a channel over https fails (x509: unknown authority).
HOST_CA_DIRS = ("/etc/ssl", "/etc/pki", "/etc/ca-certificates")


def _controller_objects() -> dict[str, Obj]:
    labels = {
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/name": CONTROLLER,
        "upgrade.cattle.io/controller": CONTROLLER,  # keeps a drain from evicting it
    }
    rules = [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["*"]},
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
         "verbs": ["get", "list", "watch", "create", "patch", "update"]},
        {"apiGroups": [""], "resources": ["namespaces", "nodes", "secrets"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["update", "patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "create", "patch", "update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "verbs": ["create", "get", "update"]},
        {"apiGroups": ["upgrade.cattle.io"], "resources": ["plans", "plans/status"],
         "verbs": ["*"]},
    ]  # fmt: skip
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    container = {
        "name": CONTROLLER,
        "image": CONTROLLER_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "envFrom": [{"configMapRef": {"name": "default-controller-env"}}],
        "env": [
            {"name": "SYSTEM_UPGRADE_CONTROLLER_NAME",
             "valueFrom": {"fieldRef": {"fieldPath":
                                        "metadata.labels['upgrade.cattle.io/controller']"}}},
            {"name": "SYSTEM_UPGRADE_CONTROLLER_NAMESPACE",
             "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "SYSTEM_UPGRADE_CONTROLLER_NODE_NAME",
             "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                            "allowPrivilegeEscalation": False,
                            "seccompProfile": {"type": "RuntimeDefault"},
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [
            *({"name": _volume(path), "mountPath": path, "readOnly": True}
              for path in HOST_CA_DIRS),
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }  # fmt: skip
    volumes = [
        *({"name": _volume(path), "hostPath": {"path": path, "type": "DirectoryOrCreate"}}
          for path in HOST_CA_DIRS),
        {"name": "tmp", "emptyDir": {}},
    ]  # fmt: skip
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": CONTROLLER, "namespace": NAMESPACE},
        "spec": {
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"upgrade.cattle.io/controller": CONTROLLER}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": SERVICE_ACCOUNT,
                    "affinity": {"nodeAffinity": {required: {"nodeSelectorTerms": [
                        {"matchExpressions": [
                            {"key": _CONTROL_PLANE, "operator": "Exists"},
                            {"key": "kubernetes.io/os", "operator": "In",
                             "values": ["linux"]}]}]}}},
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        *({"key": f"node-role.kubernetes.io/{role}", "operator": "Exists",
                           "effect": "NoSchedule"}
                          for role in ("master", "controlplane", "control-plane")),
                        {"key": "node-role.kubernetes.io/etcd", "operator": "Exists",
                         "effect": "NoExecute"},
                    ],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }  # fmt: skip
    return {
        "serviceaccount.yaml": {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": SERVICE_ACCOUNT, "namespace": NAMESPACE},
        },
        "clusterrole.yaml": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": CONTROLLER},
            "rules": rules,
        },
        "clusterrolebinding.yaml": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": CONTROLLER},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": CONTROLLER,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}
            ],
        },
        "configmap.yaml": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "default-controller-env", "namespace": NAMESPACE},
            "data": dict(CONTROLLER_ENV),
        },
        "deployment.yaml": deployment,
    }


def _volume(path: str) -> str:
    """The manifest's volume names: /etc/ca-certificates is etc-ca-certificates."""
    return path.strip("/").replace("/", "-")


def controller_templates() -> dict[str, str]:
    """The chart's templates: the controller's manifest as binderctl installs it."""
    return {
        name: yaml.safe_dump(obj, sort_keys=False) for name, obj in _controller_objects().items()
    }


def controller_chart() -> Obj:
    """The HelmChart that installs the system-upgrade-controller."""
    templates = controller_templates()
    chart = charts.helm_chart(CHART, None)
    chart["spec"]["chartContent"] = charts.chart_content(CHART.chart, CHART.version, templates)
    return chart


def upgrade_image(version: str) -> str:
    """The k3s-upgrade image of a release (the controller's tag: + munged to -)."""
    return f"{UPGRADE_IMAGE}:{version.replace('+', '-')}"


def plan_object(
    name: str,
    *,
    node: str | None = None,
    version: str | None = None,
    channel: str | None = None,
    window: Window | None = None,
) -> Obj:
    """A Plan for k3s servers: one node at a time, not cordoned (binderctl's drain does
    not cordon either, and the controller's Job tolerates a cordon anyway)."""
    selector = (
        {"matchLabels": {"kubernetes.io/hostname": node}}
        if node
        else {"matchLabels": {"node.kubernetes.io/instance-type": "k3s"}}  # as mybinder's
    )
    spec: dict[str, Any] = {
        "concurrency": 1,
        "cordon": False,
        "serviceAccountName": SERVICE_ACCOUNT,
        "upgrade": {"image": UPGRADE_IMAGE},
        "nodeSelector": selector,
    }
    if version:
        spec["version"] = version
    if channel:
        spec["channel"] = channel
    if window is not None:
        spec["window"] = window.spec()
    return {
        "apiVersion": "upgrade.cattle.io/v1",
        "kind": "Plan",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"managed-by": "binderctl"}},
        "spec": spec,
    }


def apply(kube: Kube, resource: Resource, obj: Obj) -> str:
    """Create ``obj`` or merge its spec into the one there: created, updated, unchanged."""
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    current = get_or_none(kube, resource, meta["name"], namespace)
    if current is None:
        kube.post(resource, obj, namespace=namespace)
        return "created"
    want = {key: None for key in current.get("spec") or {}} | obj["spec"]
    if {k: (current.get("spec") or {}).get(k) for k in want} == want:
        return "unchanged"
    kube.patch(resource, meta["name"], {"spec": want}, namespace=namespace,
               content_type=MERGE_PATCH)  # fmt: skip
    return "updated"


def served(kube: Kube) -> bool:
    """Whether the API serves Plans (the controller has registered its CRD)."""
    try:
        kube.list(PLANS, NAMESPACE, limit=1)
    except KubeError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def controller_waiting(kube: Kube) -> str | None:
    """What the controller still waits for, or None when binderctl's chart of it is
    installed as this binderctl writes it, it runs and it serves Plans."""
    chart = get_or_none(kube, HELMCHARTS, CHART.name, charts.CHART_NAMESPACE)
    wanted = controller_chart()["spec"]
    if chart is None or {k: (chart.get("spec") or {}).get(k) for k in wanted} != wanted:
        return "binderctl's system-upgrade chart is missing or differs"
    deployment = get_or_none(kube, DEPLOYMENTS, CONTROLLER, NAMESPACE)
    if deployment is None:
        job = get_or_none(kube, HELMCHARTS, CHART.name, charts.CHART_NAMESPACE) or {}
        name = (job.get("status") or {}).get("jobName") or f"helm-install-{CHART.name}"
        return f"helm-controller's job {charts.CHART_NAMESPACE}/{name} installs the controller"
    if not (deployment.get("status") or {}).get("availableReplicas"):
        return f"deployment {NAMESPACE}/{CONTROLLER}: its pod is not ready yet"
    if not served(kube):
        return "the controller has not registered plans.upgrade.cattle.io yet"
    return None


def ensure_controller(kube: Kube, progress: Callable[[str], None], timeout: float) -> str:
    """Install (or update) the controller and wait until it serves Plans."""
    outcome = apply(kube, HELMCHARTS, controller_chart())
    if outcome != "unchanged":
        progress(f"system-upgrade-controller {CONTROLLER_VERSION}: chart {outcome}")
    deadline = time.monotonic() + timeout
    said = ""
    while True:
        waiting = controller_waiting(kube)
        if waiting is None:
            return f"system-upgrade-controller {CONTROLLER_VERSION} runs (chart {outcome})"
        if waiting != said:
            progress(waiting)
            said = waiting
        if time.monotonic() >= deadline:
            raise BinderctlError(
                f"the system-upgrade-controller is not ready after {int(timeout)}s: {waiting}",
                hint="see `kubectl -n kube-system get jobs` and `kubectl -n system-upgrade "
                "get pods`; run the command again to keep waiting",
            )
        time.sleep(POLL_SECONDS)


def condition(plan: Obj, kind: str) -> Obj:
    for entry in (plan.get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind:
            return dict(entry)
    return {}
