"""`binderctl upgrade k3s`: k3s one minor forward, staged and resumable.

Steps (each recorded, ``services/upgrades.py``):

1. ``check``: the target is one minor at most above what the node runs and not older
   (the version skew policy; k3s-upgrade refuses downgrades), the disk keeps room above
   the kubelet's eviction threshold, and the kubeconfig's client certificate is valid.
2. ``prepare``: the system-upgrade-controller is installed (or updated) and serves Plans.
3. ``drain``: the working drain (launch quota 0 until BinderHub reports it, the
   redirector's check), then sessions fall to ``--threshold`` or are evicted after
   ``--force-after``.
4. ``upgrade``: the Plan ``system-upgrade/binderctl-k3s`` names the target version and
   the node; the controller's Job replaces the binary and restarts k3s (the API is down
   for a while; pods keep running). Done when the node reports the version and the
   Plan is complete. A failed Job (an image that does not exist, a refused downgrade)
   stops here: the Plan is deleted so the controller does not retry unattended.
5. ``verify``: the node reports the version and is Ready, k3s's own workloads and
   BinderHub's are ready, ``/health`` is ok. Else the member stays drained.
6. ``resume``: the quota the drain recorded (unless the member was drained before).

Why the controller and not the install script over SSH: it is how k3s documents
automated upgrades and how mybinder keeps its members current (the same mechanism then
serves ``upgrade schedule``); its Job replaces only the binary, so the unit's flags
cloud-init wrote stay as they are, where re-running the install script loses whatever
``INSTALL_K3S_EXEC``/``K3S_`` values are not passed again (docs.k3s.io "Manual
Upgrades"); and k3s-upgrade refuses a downgrade.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from binderctl.errors import BinderctlError, UsageError
from binderctl.services import k3s_releases, rollout, system_upgrade
from binderctl.services.attention import CERT_RENEW_BEFORE_SECONDS, DISK_WARN_FREE_SHARE
from binderctl.services.binderhub import fetch_health
from binderctl.services.k3s_releases import Channels, one_minor_at_a_time
from binderctl.services.kube import (
    NODES,
    PODS,
    Kube,
    KubeError,
    Obj,
    client_cert_expiry,
    get_or_none,
    kubeconfig_path,
    node_address,
)
from binderctl.services.stages import StepResult
from binderctl.services.upgrades import (
    DRAIN_STEP,
    RESUME_STEP,
    UpgradeOptions,
    UpgradeRun,
    UpgradeStep,
    failure,
    log_tail,
    prepared,
    unfinished,
    verify_step,
    wait_until,
    was_drained,
)

if TYPE_CHECKING:
    from binderctl.services.actions import Operations, Prepared
    from binderctl.upgrades_config import UpgradesConfig

SYSTEM_NAMESPACE = "kube-system"
FAILED_WAITING = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName")


@dataclass(frozen=True)
class NodeVersion:
    name: str
    hostname: str
    version: str
    ready: bool


def node_version(kube: Kube) -> NodeVersion:
    nodes = kube.list(NODES)
    if not nodes:
        raise BinderctlError("the cluster has no node")
    node = nodes[0]
    meta, status = node["metadata"], node.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return NodeVersion(
        meta["name"],
        (meta.get("labels") or {}).get("kubernetes.io/hostname", meta["name"]),
        (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
        ready,
    )


@dataclass(frozen=True)
class K3sTarget:
    node: NodeVersion
    target: str | None  # None: nothing to do
    goal: str  # where this and the next steps lead (the channel's release, or --to)
    why: str  # how the target was chosen
    channels: Channels


def choose(
    kube: Kube, upgrades: UpgradesConfig, to: str | None, *, refresh: bool = False
) -> K3sTarget:
    """The next upgrade: ``to``, or the next step toward the configured channel's
    release (the next minor's newest patch, or this minor's newest)."""
    node = node_version(kube)
    channels = k3s_releases.channels(upgrades.channel_url, refresh=refresh)
    if to:
        try:
            k3s_releases.release(to)
        except ValueError as exc:
            raise UsageError(f"--to: {exc}") from None
        problem = one_minor_at_a_time(node.version, to) if to != node.version else None
        if problem is not None:
            raise UsageError(f"--to {to}: {problem}")
        return K3sTarget(node, None if to == node.version else to, to, "--to", channels)
    goal = channels.channel(upgrades.channel)
    if goal is None:
        raise BinderctlError(
            f"the k3s channel {upgrades.channel!r} has no release at {upgrades.channel_url}"
        )
    target = channels.next_step(node.version, goal)
    why = f"channel {upgrades.channel} is {goal}"
    if target is None:
        newest = channels.minors().get(k3s_releases.minor_of(node.version))
        if newest and k3s_releases.release(newest) > k3s_releases.release(node.version):
            target, why = (
                newest,
                f"the newest {k3s_releases.minor_text(k3s_releases.minor_of(newest))} release",
            )
    elif target != goal:
        why += f"; one minor at a time: first {target}"
    return K3sTarget(node, target, goal, why, channels)


# -- the steps -----------------------------------------------------------------------


def _disk(run: UpgradeRun) -> str:
    from binderctl.services.node import Node

    disk = Node(run.member, node_address(run.member)).disk_usage()
    free = disk.available / disk.total if disk.total else 0.0
    if free < DISK_WARN_FREE_SHARE:
        raise BinderctlError(
            f"only {free:.0%} of the node's disk is free: the new k3s brings new images, and "
            f"below {DISK_WARN_FREE_SHARE:.0%} the kubelet comes close to evicting pods",
            hint="free space first: `binderctl prune-images`",
        )
    return f"disk {free:.0%} free"


def _certificate(run: UpgradeRun) -> str:
    expiry = client_cert_expiry(kubeconfig_path(run.member.name))
    if expiry is None:
        return "client certificate without an expiry"
    left = expiry - time.time()
    if left < CERT_RENEW_BEFORE_SECONDS:
        raise BinderctlError(
            f"the kubeconfig's client certificate expires in {left / 86400:.0f} days",
            hint="renew it first: `binderctl renew-certs`",
        )
    return f"client certificate valid for {left / 86400:.0f} more days"


def _check(run: UpgradeRun) -> StepResult:
    node, target, origin = node_version(run.kube), run.facts["to"], run.facts["from"]
    if node.version == target:
        return StepResult(f"node {node.name} already runs {target}")
    problem = one_minor_at_a_time(node.version, target)
    if problem is not None:
        raise BinderctlError(f"cannot upgrade node {node.name}: {problem}")
    if node.version != origin:
        run.progress(f"the node runs {node.version} now (this upgrade began at {origin})")
    return StepResult(
        f"{node.version} -> {target}, one minor at most; {_disk(run)}; {_certificate(run)}"
    )


def _prepare(run: UpgradeRun) -> StepResult:
    return StepResult(system_upgrade.ensure_controller(run.kube, run.progress, run.options.timeout))


def _prepared(run: UpgradeRun) -> StepResult | None:
    if system_upgrade.controller_waiting(run.kube) is not None:
        return None
    return StepResult(f"system-upgrade-controller {system_upgrade.CONTROLLER_VERSION} runs")


def _job_pods(kube: Kube, target: str) -> list[Obj]:
    selector = (
        f"{system_upgrade.JOBS_LABEL}={system_upgrade.STAGED_PLAN},"
        f"upgrade.cattle.io/version={target.replace('+', '-')}"
    )
    return kube.list(PODS, system_upgrade.NAMESPACE, labelSelector=selector)


def _job_failure(kube: Kube, target: str) -> str | None:
    """Why the upgrade Job cannot succeed, or None while it may."""
    for pod in _job_pods(kube, target):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            state = status.get("state") or {}
            waiting = (state.get("waiting") or {}).get("reason")
            if waiting in FAILED_WAITING:
                return (
                    f"the upgrade image {status.get('image')} cannot be pulled ({waiting}): "
                    f"{target} may not be a published k3s release"
                )
            code = (state.get("terminated") or {}).get("exitCode")
            if code not in (None, 0):
                last = (log_tail(kube, pod, 3) or [""])[-1]
                return f"k3s-upgrade exited {code} on the node" + (f": {last}" if last else "")
    return None


def _upgrade_state(kube: Kube, node: str, target: str) -> tuple[str | None, str]:
    """(why it failed, where it is) of the staged Plan on the node."""
    current = node_version(kube).version
    plan = get_or_none(kube, system_upgrade.PLANS, system_upgrade.STAGED_PLAN,
                              system_upgrade.NAMESPACE) or {}  # fmt: skip
    complete = system_upgrade.condition(plan, "Complete")
    failed = _job_failure(kube, target)
    if failed is None and complete.get("reason") == "JobFailed":
        failed = str(complete.get("message") or "the upgrade Job failed")
    if current == target and complete.get("status") == "True":
        return None, "done"
    pods = _job_pods(kube, target)
    if current == target:
        where = f"node {node} reports {target}; the controller is marking its Job complete"
    elif not pods:
        reason = complete.get("reason") or "new"
        where = f"Plan {system_upgrade.STAGED_PLAN}: {reason}; no upgrade Job pod yet"
    else:
        phase = (pods[-1].get("status") or {}).get("phase") or "Pending"
        where = f"upgrade Job pod {pods[-1]['metadata']['name']} {phase}"
    return failed, where


def _k3s_rollback(origin: str) -> str:
    return (
        f"k3s cannot be downgraded in place (k3s-upgrade refuses it); to go back to {origin}, "
        'follow k3s\'s documented rollback (docs.k3s.io "Rolling Back K3s"): on the node '
        "stop k3s, restore /var/lib/rancher/k3s/server/db from a copy made before the "
        f"upgrade (binderctl makes none), reinstall {origin} with the install script "
        f"(INSTALL_K3S_VERSION={origin} and the same INSTALL_K3S_EXEC cloud-init used) "
        "and start k3s"
    )


def _stop_plan(kube: Kube) -> None:
    """A failed upgrade is not retried unattended: the controller deletes the Job of a
    Plan that is gone."""
    try:
        kube.delete(system_upgrade.PLANS, system_upgrade.STAGED_PLAN, system_upgrade.NAMESPACE)
    except KubeError as exc:
        if exc.status != 404:
            raise


def _upgrade(run: UpgradeRun) -> StepResult:
    kube, target, origin = run.kube, run.facts["to"], run.facts["from"]
    node = node_version(kube)
    plan = system_upgrade.plan_object(system_upgrade.STAGED_PLAN, node=node.hostname,
                                      version=target)  # fmt: skip
    outcome = system_upgrade.apply(kube, system_upgrade.PLANS, plan)
    run.progress(
        f"Plan {system_upgrade.NAMESPACE}/{system_upgrade.STAGED_PLAN} {outcome}: {target} on "
        f"node {node.name} ({system_upgrade.upgrade_image(target)})"
    )
    seen: list[str] = []

    def pending() -> str | None:
        try:
            failed, where = _upgrade_state(kube, node.name, target)
        except KubeError as exc:
            if exc.status == 0:
                seen.append("restarted")
            raise
        if failed is not None:
            _stop_plan(kube)
            still = node_version(kube).version
            raise failure(
                f"the k3s upgrade to {target} failed: {failed}",
                f"k3s still runs {still}: nothing to roll back (the Plan was deleted so the "
                "controller does not retry); `binderctl resume` puts the member back in "
                "rotation"
                if still == origin
                else _k3s_rollback(origin),
            )
        return None if where == "done" else where

    wait_until(
        run,
        pending,
        lambda where: failure(
            f"k3s did not reach {target} within {int(run.options.timeout)}s: {where}",
            "see `kubectl -n system-upgrade get plans,jobs,pods`",
        ),
    )
    how = "k3s restarted" if seen else "the node reports it"
    return StepResult(f"node {node.name} runs {target} ({how})", {"node": node.name})


def _upgraded(run: UpgradeRun) -> StepResult | None:
    node = node_version(run.kube)
    if node.version != run.facts["to"]:
        return None
    return StepResult(f"node {node.name} runs {node.version}")


def _problems(run: UpgradeRun) -> list[str]:
    target, kube = run.facts["to"], run.kube
    node = node_version(kube)
    problems = []
    if node.version != target:
        problems.append(f"node {node.name} reports {node.version}, not {target}")
    if not node.ready:
        problems.append(f"node {node.name} is not Ready")
    state = rollout.readiness(kube, run.member, also=(SYSTEM_NAMESPACE,))
    problems += [f"{what}: {why}" for what, why in sorted(state.pending.items())]
    health = fetch_health(run.member, node_address(run.member))
    if health.ok is not True:
        failing = ", ".join(c.service for c in health.checks if not c.ok)
        problems.append(f"/health: {health.error or failing or 'not ok'}")
    return problems


STEPS: tuple[UpgradeStep, ...] = (
    UpgradeStep("check", "Check", _check, _check),
    UpgradeStep("prepare", "Upgrade controller", _prepare, _prepared),
    DRAIN_STEP,
    UpgradeStep("upgrade", "Upgrade k3s", _upgrade, _upgraded),
    verify_step(
        _problems,
        lambda run: (
            f"node reports {run.facts['to']} and is Ready; kube-system and BinderHub "
            "ready; /health ok"
        ),
        lambda run: f"k3s {run.facts['to']}",
        lambda run: _k3s_rollback(run.facts["from"]),
    ),
    RESUME_STEP,
)


def describe(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """What each step will do (the dry run and the confirmation)."""
    node, origin, target = facts["node"], facts["from"], facts["to"]
    resume = (
        "leave the member drained: it was drained before the upgrade began"
        if facts.get("was_drained")
        else "restore the launch quota the drain recorded; the redirector takes the member "
        "back within its failed_period"
    )
    return [
        ("check", f"{origin} -> {target} is one minor at most; disk headroom over SSH; the "
                  "kubeconfig's client certificate"),
        ("prepare", f"install or update the system-upgrade-controller "
                    f"{system_upgrade.CONTROLLER_VERSION} (HelmChart kube-system/"
                    f"{system_upgrade.CHART.name}) and wait until it serves Plans"),
        ("drain", "launch quota 0 until BinderHub's /health reports it and the redirector has "
                  "checked; then sessions fall to the threshold (or are evicted after "
                  "--force-after)"),
        ("upgrade", f"Plan {system_upgrade.NAMESPACE}/{system_upgrade.STAGED_PLAN} version "
                    f"{target} on node {node}: the controller's Job runs "
                    f"{system_upgrade.upgrade_image(target)}, which replaces the k3s binary and "
                    "restarts k3s (the API is down meanwhile; pods keep running)"),
        ("verify", f"node {node} reports {target} and is Ready; kube-system and BinderHub "
                   "workloads ready; /health ok"),
        ("resume", resume),
    ]  # fmt: skip


def prepare(ops: Operations, to: str | None, options: UpgradeOptions, dry_run: bool) -> Prepared:
    """What ``upgrade k3s`` will do now: finish an unfinished run (unless ``--to`` names
    another target before the binary was replaced), else the next upgrade."""
    kube = ops.kube
    state = unfinished(ops.member, "k3s")
    fresh = False
    if state is not None and to in (None, state["facts"]["to"]):
        facts: dict[str, Any] | None = state["facts"]
        about = f"finishing the upgrade of k3s {state['facts']['from']} -> {state['facts']['to']}"
    else:
        node = node_version(kube)
        if state is not None:
            if node.version != state["facts"]["from"]:
                raise UsageError(
                    f"the upgrade to {state['facts']['to']} is unfinished and the node runs "
                    f"{node.version} already",
                    hint="finish it first: `binderctl upgrade k3s` (without --to)",
                )
            fresh = True
        chosen = choose(kube, ops.upgrades, to)
        if chosen.target is None:
            facts = None
            about = f"node {node.name} runs {node.version}: nothing to upgrade ({chosen.why})"
        else:
            facts = {
                "node": node.name,
                "from": node.version,
                "to": chosen.target,
                "goal": chosen.goal,
                "why": chosen.why,
                # an earlier run that did not finish drained it, not the operator
                "was_drained": state["facts"]["was_drained"]
                if state is not None
                else was_drained(ops.member, kube),
            }
            about = f"k3s {node.version} -> {chosen.target} on node {node.name} ({chosen.why})"
    lines = describe(facts) if facts is not None else []
    return prepared(
        ops, "k3s", facts, steps=STEPS, lines=lines, about=about, options=options,
        dry_run=dry_run, fresh=fresh,
    )  # fmt: skip
