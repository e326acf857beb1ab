"""What needs attention, judged once: the console's Needs-attention panel and header,
``binderctl status`` (text, JSON and its exit code) and the fire drills all read this.

``judge`` turns one picture of the member (a ``ClusterState``) plus what is known
beside it (``Facts``: the client certificate, the firewall, the redirector's verdict)
into ``Attention`` items, worst first. Each item has a stable ``kind``, a severity:

- error: the member fails its users now, or cannot be operated (an action cannot work);
- warning: degraded, close to a limit, or a state left on purpose that is easy to forget;
- info: worth knowing, nothing is failing;

a short text in plain words, and the catalogue action that fixes it (None when no
action of binderctl does). The rules for one component, one node condition and the
certificate are functions of their own, so that screens colour rows by the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from binderctl.config import MemberConfig
from binderctl.federation_config import DEFAULT_FEDERATION
from binderctl.formatting import age, image_label, repo_label, size
from binderctl.models import (
    COMPONENTS,
    SEVERITIES,
    Attention,
    Component,
    ComponentName,
    Health,
    NodeStatus,
    PodProblem,
    RotationVerdict,
    Severity,
)
from binderctl.parsing import covers_world

if TYPE_CHECKING:
    from binderctl.services.budget_report import BudgetSummary
    from binderctl.services.cluster import ClusterState
    from binderctl.services.hetzner import ServerFlags

# A client certificate that expires sooner than this is warned about, and provisioning
# fetches a new kubeconfig instead of keeping it.
CERT_RENEW_BEFORE_SECONDS = 30 * 86400
NEAR_MAX_PODS = 0.9  # of max_pods in use: close to the limit
# The kubelet evicts pods when less than 15 % of the image filesystem is free (its
# default hard eviction threshold imagefs.available<15%); warn a little before.
EVICTION_FREE_SHARE = 0.15
DISK_WARN_FREE_SHARE = 0.20
POD_QUOTA_CHECK = "Pod quota"  # BinderHub's /health check the redirector reads

# Read errors of these parts leave the member unjudged (error) or half judged (warning);
# the metrics and the disk only fill gauges, which show "-" without them.
UNREADABLE_SEVERITY: dict[str, Severity] = {
    "pods": "error",
    "nodes": "error",
    "workloads": "warning",
    "events": "warning",
}
DOWN_MEANS: dict[ComponentName, str] = {  # what it means for users when it is down
    "hub": "no session can start",
    "binder": "the site and its /health do not answer, so the redirector drops the member",
    "proxy": "no session can be reached",
    "dind": "no build can run",
}
# the kind and the catalogue action of each warning-level node condition
NODE_CONDITIONS: dict[str, tuple[str, str | None]] = {
    "DiskPressure": ("disk-pressure", "prune-images"),
    "MemoryPressure": ("memory-pressure", None),
    "PIDPressure": ("pid-pressure", None),
}
# What each part of the console's header is coloured by.
ROTATION_KINDS = frozenset(
    {"out-of-rotation", "rotation-unknown", "drained", "cordoned", "quota-unreadable",
     "health-unreachable", "health-failing"}
)  # fmt: skip
QUOTA_KINDS = frozenset({"at-quota", "quota-unreadable", "drained", "max-pods"})
HEALTH_KINDS = frozenset({"health-unreachable", "health-failing"})


@dataclass(frozen=True)
class K3sSupport:
    """What k3s's release channels say (``services/k3s_releases.py``)."""

    supported: tuple[str, ...]  # the minors upstream maintains, as v1.N
    current: str  # the configured channel's release
    channel: str


@dataclass(frozen=True)
class Facts:
    """What the policy judges beside the cluster state."""

    cert_expiry: float | None = None  # the kubeconfig's client certificate (POSIX time)
    cert_error: str | None = None  # why it could not be read
    open_ports: tuple[int, ...] = ()  # the config's firewall opens these to everyone
    observed: RotationVerdict | None = None  # by the federation redirector's rules
    pod_headroom: int = DEFAULT_FEDERATION.check.pod_headroom
    budget: BudgetSummary | None = None  # the month so far and its projection
    server: ServerFlags | None = None  # what the Hetzner API says of the server
    hetzner_error: str | None = None  # why the Hetzner API could not be read
    k3s: K3sSupport | None = None  # None: the channels are not known here


def world_open_ports(member: MemberConfig) -> tuple[int, ...]:
    ports = []
    if covers_world(member.ssh_allowed_cidrs):
        ports.append(22)
    if covers_world(member.api_allowed_cidrs):
        ports.append(6443)
    return tuple(ports)


def worst(items: Iterable[Attention], kinds: Iterable[str] | None = None) -> Severity | None:
    """The worst severity among ``items`` (of ``kinds``, when given), None if none."""
    wanted = None if kinds is None else frozenset(kinds)
    found = {i.severity for i in items if wanted is None or i.kind in wanted}
    return next((s for s in SEVERITIES if s in found), None)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# -- the rules for one thing, shared with the screens ------------------------------------
def component_severity(component: Component) -> Severity | None:
    """A component with no ready pod, or scaled to 0, is down; fewer ready than desired
    is degraded."""
    if component.ready == 0 and (component.desired > 0 or component.desired_known):
        return "error"
    if component.ready < component.desired:
        return "warning"
    return None


def rollout_severity(component: Component) -> Severity | None:
    """A pod of the component cannot become Ready: an error once none serves, else a
    warning (the old pods still serve)."""
    if component.problem is None:
        return None
    return "error" if component.ready == 0 else "warning"


def rollout_fix(
    name: ComponentName, problem: PodProblem, revision: int = 0
) -> tuple[str | None, str]:
    """The catalogue action that fixes a stuck rollout of ``name`` (None: none does),
    and what to do in words. Restarting cannot help while the template names a bad
    image or a program that crashes: rolling back to the previous revision can (a
    Deployment with one, ``revision`` > 1); a cordoned node is uncordoned by resume."""
    if problem.reason == "Unschedulable":
        if problem.cordoned:
            return "resume", "the node is cordoned: `binderctl resume` uncordons it"
        return None, "the node has no room for it (see the message)"
    back = revision > 1 and name != "dind"
    if problem.bad_image:
        if back:
            return "rollback", (
                f"restarting cannot help while the template names this image: "
                f"`binderctl rollback {name}` returns to the previous revision"
            )
        return None, "restarting cannot help while the template names this image"
    advice = f"`binderctl logs {name} --previous` shows why it stopped"
    if problem.crashing and back:
        return "rollback", (
            f"{advice}; `binderctl rollback {name}` returns to the previous revision's "
            "template (not a changed config Secret: `binderctl --provision` writes that)"
        )
    return None, advice


def node_condition_severity(kind: str, status: str) -> Severity | None:
    """Ready must be True (else error); any other condition that is True is a warning."""
    if kind == "Ready":
        return None if status == "True" else "error"
    return "warning" if status == "True" else None


def certificate_severity(expiry: float, now: float) -> Severity | None:
    left = expiry - now
    if left <= 0:
        return "error"
    return "warning" if left < CERT_RENEW_BEFORE_SECONDS else None


# -- the policy ----------------------------------------------------------------------------
def judge(state: ClusterState, facts: Facts, now: float) -> tuple[Attention, ...]:
    """Every item that needs attention, errors first (then in the order of the rules)."""
    items = [
        *_disconnected(state),
        *_unreadable(state),
        *_health(state.health),
        *_rotation(state, facts),
        *_components(state),
        *_node(state.node),
        *_k3s(state.node, facts.k3s),
        *_builds(state),
        *_certificate(facts, now),
        *_firewall(facts.open_ports),
        *_budget(facts.budget),
        *_server(facts.server),
        *_hetzner(facts.hetzner_error),
        *_abuse(state),
    ]
    return tuple(sorted(items, key=lambda item: SEVERITIES.index(item.severity)))


def _disconnected(state: ClusterState) -> Iterator[Attention]:
    if state.connection == "disconnected":
        text = (
            "the Kubernetes API does not answer: nothing here is current (an expired client "
            "certificate, the firewall, or the node itself)"
        )
        yield Attention("api-unreachable", "error", text)


def _unreadable(state: ClusterState) -> Iterator[Attention]:
    for part, why in state.errors.items():
        severity = UNREADABLE_SEVERITY.get(part)
        if severity is not None:
            yield Attention("unreadable", severity, f"cannot read {part}: {why}", subject=part)


def _health(health: Health | None) -> Iterator[Attention]:
    if health is None:
        return
    if health.ok is None:
        text = "BinderHub's /health does not answer: the redirector drops the member"
        yield Attention("health-unreachable", "error", text)
    elif not health.ok:
        failing = [c.service for c in health.checks if not c.ok and not _soft(c.detail)]
        yield Attention(
            "health-failing",
            "error",
            f"BinderHub's /health check fails: {', '.join(failing) or '?'}: the redirector "
            "takes the member out of rotation",
        )


def _soft(detail: dict[str, object]) -> bool:
    """A check BinderHub reports but does not fail /health for (the Pod quota check)."""
    return detail.get("_ignore_failure") is True


def _rotation(state: ClusterState, facts: Facts) -> Iterator[Attention]:
    rotation = state.rotation
    if rotation is None:
        return
    if rotation.quota_error is not None:
        yield Attention(
            "quota-unreadable",
            "error",
            f"the launch quota cannot be read ({rotation.quota_error}): whether the "
            "redirector sends launches here cannot be told, and drain and resume cannot "
            "change it (`binderctl --provision` writes the chart values again)",
        )
    if rotation.problem:
        yield Attention("cordoned", "warning", rotation.problem, "resume")
    if rotation.quota == 0:
        # on purpose: the redirector keeps the member out whatever else it sees
        yield Attention(
            "drained",
            "warning",
            "drained: the launch quota is 0, so the redirector sends no launches here",
            "resume",
        )
        return
    headroom = _headroom(state, facts.pod_headroom)
    if headroom is not None:
        yield headroom
    verdict = facts.observed
    if verdict is None or verdict.in_rotation is True:
        return
    if verdict.in_rotation is None:
        text = f"whether the redirector sends launches here cannot be told: {verdict.detail}"
        yield Attention("rotation-unknown", "info", text)
    elif not _explained(verdict, headroom is not None, state.health):
        severity: Severity = "warning" if _passing(verdict) else "error"
        text = f"out of rotation by the redirector's rules: {verdict.detail}"
        if verdict.reason == "versions":
            text += " (`binderctl upgrade charts` installs the prime's versions)"
            yield Attention("out-of-rotation", severity, text, "upgrade-charts")
            return
        yield Attention("out-of-rotation", severity, text)


def _headroom(state: ClusterState, pod_headroom: int) -> Attention | None:
    """BinderHub counts user and build pods against its quota (total_pods of /health's
    Pod quota check; counted here from the pods, which the live model has fresher than
    its /health poll); the redirector drops a member whose count plus its pod_headroom
    reaches the quota."""
    rotation = state.rotation
    if rotation is None or rotation.quota_error is not None or not rotation.quota:
        return None
    users, builds, quota = len(state.sessions), len(state.builds), rotation.quota
    if users + builds + pod_headroom < quota:
        return None
    return Attention(
        "at-quota",
        "warning",
        f"{_plural(users, 'session')} + {_plural(builds, 'build')} + pod_headroom "
        f"{pod_headroom} >= quota {quota}: the redirector sends no launches here until "
        "sessions end (pod_headroom: the room below a member's quota the redirector keeps "
        "free)",
    )


def _at_quota(verdict: RotationVerdict) -> bool:
    return verdict.reason == "quota headroom" or verdict.check == POD_QUOTA_CHECK


def _passing(verdict: RotationVerdict) -> bool:
    """Out for a reason that passes by itself (sessions end, failed_period runs out) or
    that was set on purpose (weight 0)."""
    return _at_quota(verdict) or verdict.reason in ("failed_period", "weight")


def _explained(verdict: RotationVerdict, at_quota: bool, health: Health | None) -> bool:
    """Whether an item of this policy already says why the redirector drops the member."""
    if _at_quota(verdict):
        return at_quota
    if verdict.reason == "check":
        return health is not None and health.ok is False
    if verdict.reason == "unreachable":
        return health is not None and health.ok is None
    return False


def _components(state: ClusterState) -> Iterator[Attention]:
    components = state.components
    if not any(c.desired_known for c in components.values()):
        return  # the workloads are not read (yet): what should run is not known
    node = state.node
    # the kubelet refuses pods (and evicts) under DiskPressure: a restart cannot help
    pressure = node is not None and node.conditions.get("DiskPressure") == "True"
    for name in COMPONENTS:
        component = components.get(name)
        if component is None:
            text = f"{name} is not installed (no workload, no pods): {DOWN_MEANS[name]}"
            yield Attention("component-down", "error", text, subject=name)
            continue
        if component.problem is not None:
            yield _rollout_stuck(component, component.problem)
            continue
        severity = component_severity(component)
        ready = f"{component.ready}/{component.desired} ready"
        if severity == "error" and component.desired == 0:
            text = f"{name} is scaled to 0: {DOWN_MEANS[name]}"
            yield Attention("component-down", "error", text, subject=name)
        elif severity == "error" and pressure:
            text = (
                f"{name} has no ready pod ({ready}): {DOWN_MEANS[name]}; the node reports "
                "DiskPressure, so no new pod starts until images are pruned"
            )
            yield Attention("component-down", "error", text, "prune-images", subject=name)
        elif severity == "error":
            text = f"{name} has no ready pod ({ready}): {DOWN_MEANS[name]}"
            yield Attention("component-down", "error", text, "restart", name, name)
        elif severity == "warning":
            text = f"{name}: {ready}"
            yield Attention("component-degraded", "warning", text, "restart", name, name)


def _rollout_stuck(component: Component, problem: PodProblem) -> Attention:
    name = component.name
    action, fix = rollout_fix(name, problem, component.revision)
    text = f"{name}'s rollout is stuck: pod {problem.pod} {problem.describe()}; "
    if component.ready:
        serving = ", ".join(image_label(i) for i in component.running) or "the old template"
        text += f"{component.ready}/{component.desired} old pod(s) still serve {serving}; "
    else:
        text += f"no {name} pod is ready: {DOWN_MEANS[name]}; "
    severity = rollout_severity(component) or "warning"
    return Attention("rollout-stuck", severity, text + fix, action, name if action else None)


def _node(node: NodeStatus | None) -> Iterator[Attention]:
    if node is None:
        return
    ready = node.conditions.get("Ready", "Unknown")
    if node_condition_severity("Ready", ready) is not None:
        yield Attention(
            "node-not-ready",
            "error",
            f"node {node.name} is not Ready ({ready}): nothing new starts on it",
            "reboot",
        )
    disk = _disk_use(node)
    for condition, status in sorted(node.conditions.items()):
        if condition == "Ready" or node_condition_severity(condition, status) is None:
            continue
        kind, action = NODE_CONDITIONS.get(condition, ("node-condition", None))
        text = f"node {node.name} reports {condition}"
        if condition == "DiskPressure":
            text += f"{disk}: the kubelet evicts sessions and refuses new pods"
        yield Attention(kind, "warning", text, action, subject=condition)
    free = _disk_free_share(node)
    pressure = node.conditions.get("DiskPressure") == "True"
    if free is not None and free < DISK_WARN_FREE_SHARE and not pressure:
        text = (
            f"disk{disk}: the kubelet evicts pods when less than {EVICTION_FREE_SHARE:.0%} is free"
        )
        yield Attention("disk-full", "warning", text, "prune-images")
    if node.pods_max and node.pods_used >= node.pods_max:
        text = f"pods {node.pods_used}/{node.pods_max}: at max_pods, new pods fail (OutOfpods)"
        yield Attention("max-pods", "error", text)
    elif node.pods_max and node.pods_used >= NEAR_MAX_PODS * node.pods_max:
        text = f"pods {node.pods_used}/{node.pods_max}: close to max_pods"
        yield Attention("max-pods", "warning", text)


def _disk_free_share(node: NodeStatus) -> float | None:
    if node.disk_usage is None or not node.disk_capacity:
        return None
    return 1 - node.disk_usage / node.disk_capacity


def _disk_use(node: NodeStatus) -> str:
    """`` 91% used (800Gi of 876Gi)`` when the disk's use is known, else ""."""
    free = _disk_free_share(node)
    if free is None:
        return ""
    return f" {1 - free:.0%} used ({size(node.disk_usage)} of {size(node.disk_capacity)})"


def _k3s(node: NodeStatus | None, support: K3sSupport | None) -> Iterator[Attention]:
    """k3s out of upstream support (older than the three minors maintained), or behind
    the configured channel's release."""
    from binderctl.services.k3s_releases import minor_of, minor_text, parse_minor, release

    if node is None or support is None or not support.supported:
        return
    try:
        minor, running = minor_of(node.kubelet_version), release(node.kubelet_version)
        oldest = parse_minor(support.supported[0])
        current = release(support.current) if support.current else None
    except ValueError:
        return
    if minor < oldest:
        yield Attention(
            "k3s-unsupported",
            "warning",
            f"k3s {minor_text(minor)} is out of upstream support (maintained: "
            f"{', '.join(support.supported)}): no security fixes; upgrade one minor at a time",
            "upgrade-k3s",
        )
    elif current is not None and running < current:
        yield Attention(
            "k3s-behind",
            "info",
            f"k3s {node.kubelet_version} is behind the {support.channel} channel "
            f"({support.current})",
            "upgrade-k3s",
        )


def _builds(state: ClusterState) -> Iterator[Attention]:
    stuck = sum(1 for b in state.builds.values() if b.stuck)
    if stuck:
        yield Attention(
            "builds-stuck",
            "warning",
            f"{_plural(stuck, 'build')} stuck (Running past the stuck threshold): dind may "
            "be wedged; restarting it fails the running builds, `delete-builds --stuck` "
            "removes the stuck ones",
            "restart",
            "dind",
        )


def _certificate(facts: Facts, now: float) -> Iterator[Attention]:
    if facts.cert_error is not None:
        text = f"the client certificate cannot be read: {facts.cert_error}"
        yield Attention("certificate", "warning", text, "renew-certs")
    if facts.cert_expiry is None:
        return
    severity = certificate_severity(facts.cert_expiry, now)
    if severity is not None:
        left = facts.cert_expiry - now
        when = "has expired" if left <= 0 else f"expires in {age(left)}"
        text = f"the k3s client certificate {when}: then kubectl and binderctl get 401"
        yield Attention("certificate", severity, text, "renew-certs")


def _firewall(open_ports: tuple[int, ...]) -> Iterator[Attention]:
    for port in open_ports:
        text = f"the firewall opens port {port} to the whole internet (config)"
        yield Attention("firewall-open", "info", text, subject=str(port))


def _budget(budget: BudgetSummary | None) -> Iterator[Attention]:
    """Compared net of VAT, as the Budget screen compares them (``budget_cap_eur``)."""
    if budget is None:
        return
    spent, projected = budget.month_to_date.rounded().net, budget.projected_month.rounded().net
    cap = budget.cap.rounded().net
    money = budget.currency
    if spent >= cap:
        text = f"the month has cost {money} {spent} so far, over the cap of {money} {cap:.0f}"
        yield Attention("budget-over", "error", text)
    elif projected > cap:
        text = (
            f"the month is projected at {money} {projected}, over the cap of {money} "
            f"{cap:.0f} ({money} {spent} so far)"
        )
        yield Attention("budget-projection", "warning", text)


def _server(server: ServerFlags | None) -> Iterator[Attention]:
    """Hetzner's answers to abuse: a locked server takes no action (no reboot, no
    rescue), a blocked IPv4 reaches nobody."""
    if server is None:
        return
    if server.locked:
        text = f"Hetzner has locked server {server.name}: it takes no action until unlocked"
        yield Attention("server-locked", "error", text)
    if server.ipv4_blocked:
        text = f"Hetzner has blocked the server's IPv4 {server.ipv4}: nobody reaches the member"
        yield Attention("ipv4-blocked", "error", text)


def _hetzner(error: str | None) -> Iterator[Attention]:
    if error is not None:
        text = (
            f"the Hetzner API does not answer as it should ({error}): reboot, rescue and "
            "the budget cannot be done or read until it does; the member itself runs on"
        )
        yield Attention("hetzner-api", "warning", text)


def _abuse(state: ClusterState) -> Iterator[Attention]:
    """Sessions that look like mining, scanning or a flood (``services/abuse.py``), one
    item per repository: Hetzner answers abuse with a blocked IP or a locked server."""
    by_repo: dict[str, list[str]] = {}
    for suspect in (s for s in state.suspicions if s.flagged):
        reasons = by_repo.setdefault(suspect.session.repo, [])
        reasons.append(f"{suspect.session.pod}: {suspect.reasons[0]}")
    for repo, reasons in by_repo.items():
        shown = "; ".join(reasons[:2]) + (
            f" and {len(reasons) - 2} more" if len(reasons) > 2 else ""
        )
        verb = "looks" if len(reasons) == 1 else "look"
        text = (
            f"{_plural(len(reasons), 'session')} of {repo_label(repo)} {verb} like abuse "
            f"({shown}): ban the repository and kill its sessions"
        )
        yield Attention("abuse-suspected", "warning", text, "ban", repo)
