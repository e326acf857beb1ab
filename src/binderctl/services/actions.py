"""Incident actions and the one runner every action goes through.

An action is data: its name, what it acts on, its blast radius in plain words (both
from its entry in ``services/catalogue.py``), its parameters, and ``prepare``, which
looks up exactly what will be hit and returns the step that does it. ``ActionRunner.run``
refuses in read-only mode, asks for confirmation through a callback, runs, and appends
one audit record whatever happens (ok, refused, failed or interrupted), naming each
target the action hit and its outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from binderctl import formatting
from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError, RefusedError, UsageError
from binderctl.federation_config import (
    DEFAULT_FEDERATION,
    PRODUCTION_CHECK,
    CheckSettings,
    FederationConfig,
)
from binderctl.maintenance_window import Window
from binderctl.models import COMPONENTS, ComponentName, Health, component_named
from binderctl.services import audit, catalogue, component_rollout, mapping, quota_change
from binderctl.services.attention import rollout_fix
from binderctl.services.binderhub import get_launch_quota, set_launch_quota
from binderctl.services.kube import (
    DEPLOYMENTS,
    NODES,
    PODS,
    Kube,
    KubeError,
    Obj,
    node_address,
    rfc3339,
)
from binderctl.services.repos import repo_matches
from binderctl.services.rotation import (
    clear_drain_record,
    read_drain_record,
    write_drain_record,
)
from binderctl.services.stages import Listener
from binderctl.services.upgrades import UpgradeOptions
from binderctl.upgrades_config import DEFAULT_UPGRADES, UpgradesConfig

Progress = Callable[[str], None]
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
DRAIN_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Prepared:
    """What exactly an action will hit (shown before confirming) and the step itself.

    ``targets`` names each object the action acts on with its outcome ("not run" until
    ``execute`` reaches it); the audit record keeps them."""

    details: str
    execute: Callable[[Progress], str]  # returns a one-line outcome
    targets: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # why it may not work out (shown before confirming)


@dataclass(frozen=True)
class Action:
    name: str
    target: str
    blast_radius: str
    prepare: Callable[[], Prepared]
    parameters: Mapping[str, object] = field(default_factory=dict)


Confirm = Callable[[Action, Prepared], bool]


def _ignore(message: str) -> None:
    return None


class ActionRunner:
    """Runs actions for one member: read-only check, confirmation, audit record.

    ``record`` is the audit record the last ``run`` wrote."""

    def __init__(
        self,
        member: MemberConfig,
        *,
        readonly: bool,
        confirm: Confirm,
        progress: Progress = _ignore,
        actor: str | None = None,
    ) -> None:
        self.member = member
        self.actor = actor  # who the audit records name; None: the local user
        self.readonly = readonly or member.readonly
        self.confirm = confirm
        self.progress = progress
        self.record: audit.AuditRecord | None = None
        audit.recover(member.name)

    def _record(
        self,
        action: Action,
        outcome: audit.Outcome,
        detail: str,
        prepared: Prepared | None = None,
    ) -> None:
        self.record = audit.append(
            self.member.name,
            action.name,
            action.target,
            action.parameters,
            outcome,
            detail,
            user=self.actor,
            targets={} if prepared is None else prepared.targets,
        )

    def run(self, action: Action) -> str:
        if self.readonly:
            message = (
                f"read-only mode: refused to {action.name} {action.target} on member "
                f"{self.member.name!r}"
            )
            self._record(action, "refused", "read-only mode")
            raise RefusedError(
                message, hint="read-only comes from --readonly or `readonly = true` in the config"
            )
        prepared: Prepared | None = None
        try:
            prepared = action.prepare()
            confirmed = self.confirm(action, prepared)
        except RefusedError as exc:
            self._record(action, "refused", exc.message, prepared)
            raise
        except BinderctlError as exc:
            self._record(action, "failed", exc.message, prepared)
            raise
        except KeyboardInterrupt:
            self._record(action, "interrupted", "interrupted before it ran", prepared)
            raise
        if not confirmed:
            self._record(action, "refused", "not confirmed", prepared)
            raise RefusedError(f"not confirmed: {action.name} {action.target} was not run")
        for warning in prepared.warnings:
            self.progress(f"warning: {warning}")
        audit.begin(
            self.member.name, action.name, action.target, action.parameters, prepared.targets
        )
        try:
            outcome = prepared.execute(self.progress)
        except BinderctlError as exc:
            self._record(action, "failed", exc.message, prepared)
            raise
        except KeyboardInterrupt:
            self._record(action, "interrupted", "interrupted while running", prepared)
            raise
        except Exception as exc:
            self._record(action, "failed", f"{type(exc).__name__}: {exc}", prepared)
            raise
        else:
            self._record(action, "ok", outcome, prepared)
        finally:
            audit.end(self.member.name)
        return outcome


def _names(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(formatting.inert(i, 60) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _counted(items: Sequence[str], noun: str) -> str:
    """``session jupyter-a``, or ``3 sessions: jupyter-a, jupyter-b, jupyter-c``."""
    if len(items) == 1:
        return f"{noun} {formatting.inert(items[0], 80)}"
    return f"{len(items)} {noun}s: {_names(items, 3)}"


PodRef = tuple[str, str, str]  # namespace, name, uid


def _refs(pods: list[Obj]) -> list[PodRef]:
    return [
        (p["metadata"]["namespace"], p["metadata"]["name"], p["metadata"].get("uid", ""))
        for p in pods
    ]


class Operations:
    """Builds the actions for one member (the Kubernetes client is made on first use,
    so a refused action never needs the cluster)."""

    def __init__(
        self,
        member: MemberConfig,
        kube: Kube | None = None,
        *,
        stuck_after: float = mapping.STUCK_AFTER_SECONDS,
        check: CheckSettings = PRODUCTION_CHECK,
        federation: FederationConfig | None = None,
        upgrades: UpgradesConfig = DEFAULT_UPGRADES,
        events: Listener | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.member = member
        self._kube = kube
        self.stuck_after = stuck_after
        self.check = check  # the federation redirector's (the config's [federation.check])
        self.federation = federation or DEFAULT_FEDERATION  # the prime and its hosts
        self.upgrades = upgrades  # k3s's channels, the maintenance window
        self.events = events  # a staged upgrade's step events (else progress lines)
        self.stop = stop  # set: waits for a rollout end (the console is closing)

    @property
    def kube(self) -> Kube:
        if self._kube is None:
            self._kube = Kube(self.member)
        return self._kube

    # -- shared reads ------------------------------------------------------------------
    def _session_pods(self) -> list[Obj]:
        pods = self.kube.list(PODS, labelSelector=mapping.SESSION_SELECTOR)
        return [
            p for p in pods if (p.get("status") or {}).get("phase") not in mapping.TERMINAL_PHASES
        ]

    def _delete_pods(self, pods: list[PodRef], outcomes: dict[str, str] | None = None) -> int:
        """Delete (namespace, name, uid) pods; the uid guards against a new pod that took
        the name since it was listed. Returns how many were deleted; ``outcomes`` gets
        each pod's."""
        done = {} if outcomes is None else outcomes
        deleted = 0
        for namespace, name, uid in pods:
            body = {"preconditions": {"uid": uid}} if uid else None
            try:
                self.kube.delete(PODS, name, namespace, body)
            except KubeError as exc:
                if exc.status == 404:
                    done[name] = "already gone"
                elif exc.status == 409:
                    done[name] = "not deleted: a new pod took its name"
                else:
                    done[name] = f"failed: {exc.message}"
                    raise
            else:
                done[name] = "deleted"
                deleted += 1
        return deleted

    def _deletion(
        self,
        details: str,
        pods: list[Obj],
        outcome: Callable[[int], str],
        missing: Sequence[str] = (),
    ) -> Prepared:
        """The step that deletes ``pods``; ``missing`` were named but are not there."""
        refs = _refs(pods)
        targets = {name: "not run" for _, name, _ in refs}
        targets.update({name: "not found" for name in missing})
        if missing:
            details += f"; {len(missing)} not found: {_names(missing)}"

        def execute(progress: Progress) -> str:
            return outcome(self._delete_pods(refs, targets))

        return Prepared(details, execute, targets)

    def _action(
        self,
        name: str,
        target: str,
        prepare: Callable[[], Prepared],
        parameters: Mapping[str, object] | None = None,
        *,
        targets: Sequence[str] = (),
    ) -> Action:
        """The action ``name`` of the catalogue, with its blast radius for ``targets``
        and ``parameters``."""
        entry = catalogue.spec(name)
        given = dict(parameters or {})
        return Action(entry.name, target, entry.blast_radius(targets, given), prepare, given)

    # -- drain and resume --------------------------------------------------------------
    def _cordoned(self) -> list[str]:
        return [
            o["metadata"]["name"]
            for o in self.kube.list(NODES)
            if (o.get("spec") or {}).get("unschedulable")
        ]

    def _uncordon(self, progress: Progress, nodes: list[str]) -> None:
        for name in nodes:
            self.kube.patch(NODES, name, {"spec": {"unschedulable": False}})
        if nodes:
            progress(
                f"uncordoned {', '.join(nodes)}: a cordoned node keeps helm-controller's "
                "install job and the new binder pod from being scheduled"
            )

    def _apply_quota(self, progress: Progress, quota: int | None, timeout: float) -> Health:
        """Set the quota in the chart (if it differs) and wait until BinderHub has it."""
        before = quota_change.Before(job_uid=None)  # unchanged: any install job counts
        if get_launch_quota(self.kube) != quota:
            before = quota_change.before_change(self.kube)
            set_launch_quota(self.kube, quota)
            progress(
                f"launch quota {quota_change.shown(quota)} set in the HelmChart: waiting for "
                "helm-controller's install job and the binder rollout"
            )
        return quota_change.wait_for_quota(
            self.member,
            self.kube,
            node_address(self.member),
            quota,
            before,
            progress=progress,
            timeout=timeout,
        )

    def drain(
        self,
        *,
        wait: bool = False,
        threshold: int = 0,
        force_after: float | None = None,
        timeout: float = quota_change.DEFAULT_TIMEOUT,
        poll_seconds: float = DRAIN_POLL_SECONDS,
    ) -> Action:
        if threshold < 0:
            raise UsageError("--threshold must be 0 or more sessions")

        def prepare() -> Prepared:
            quota = get_launch_quota(self.kube)
            sessions = len(self._session_pods())
            cordoned = self._cordoned()
            details = f"launch quota {quota_change.shown(quota)} -> 0"
            if cordoned:
                details += f", uncordon {', '.join(cordoned)} first"
            limit = formatting.age(timeout)
            details += (
                f"; wait until BinderHub's /health reports quota 0 (up to {limit}); "
                f"{sessions} session(s) running"
            )
            return Prepared(details, lambda progress: execute(progress, cordoned))

        def execute(progress: Progress, cordoned: list[str]) -> str:
            quota = get_launch_quota(self.kube)  # again: it may have changed while asking
            record = read_drain_record(self.member.name)
            if record is None or quota != 0:
                record = write_drain_record(self.member.name, quota, audit.local_user())
                if quota == 0:
                    progress("the launch quota was already 0; resume will keep it at 0")
            self._uncordon(progress, cordoned)
            self._apply_quota(progress, 0, timeout)
            self._wait_for_redirector(progress)
            outcome = "BinderHub reports launch quota 0 and the federation redirector has checked"
            if wait or force_after is not None:
                outcome += self._wait_for_sessions(progress, threshold, force_after, poll_seconds)
            return f"{outcome} (resume restores quota {quota_change.shown(record.previous_quota)})"

        return self._action(
            "drain",
            f"member {self.member.name}",
            prepare,
            {
                "wait": wait,
                "threshold": threshold,
                "force_after": force_after,
                "timeout": timeout,
            },
        )

    def _wait_for_sessions(
        self, progress: Progress, threshold: int, force_after: float | None, poll: float
    ) -> str:
        deadline = None if force_after is None else time.monotonic() + force_after
        last = -1
        while True:
            pods = self._session_pods()
            if len(pods) <= threshold:
                return f"; {len(pods)} session(s) left (threshold {threshold})"
            if len(pods) != last:
                progress(f"waiting: {len(pods)} session(s) running, threshold {threshold}")
                last = len(pods)
            if deadline is not None and time.monotonic() >= deadline:
                evicted = self._evict(pods)
                progress(f"evicted {evicted} session(s) after the timeout")
                return f"; evicted {evicted} remaining session(s)"
            time.sleep(poll)

    def _evict(self, pods: list[Obj]) -> int:
        evicted = 0
        for pod in pods:
            meta = pod["metadata"]
            body = {
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            }
            try:
                self.kube.post(
                    PODS, body, namespace=meta["namespace"], name=meta["name"], sub="eviction"
                )
                evicted += 1
            except KubeError as exc:
                if exc.status == 429:  # a disruption budget blocks it: the drain is forced
                    evicted += self._delete_pods(
                        [(meta["namespace"], meta["name"], meta.get("uid", ""))]
                    )
                elif exc.status != 404:
                    raise
        return evicted

    def _wait_for_redirector(self, progress: Progress) -> None:
        """Until the redirector's next check has seen quota 0: one period, with jitter."""
        check = self.check
        wait = check.period * (1 + check.jitter)
        progress(
            f"BinderHub reports launch quota 0: waiting {wait:.1f} s for the federation "
            f"redirector's next check (every {check.period:g} s, jitter {check.jitter:g}), "
            "which drops the member"
        )
        time.sleep(wait)

    def resume(self, *, timeout: float = quota_change.DEFAULT_TIMEOUT) -> Action:
        def prepare() -> Prepared:
            record = read_drain_record(self.member.name)
            current = get_launch_quota(self.kube)
            if record is not None:
                target, source = (
                    record.previous_quota,
                    (f"recorded by the drain of {rfc3339(record.time)} by {record.user}"),
                )
            else:
                target, source = (
                    self.member.launch_quota,
                    ("no drain record: the configured launch_quota"),
                )
            cordoned = self._cordoned()
            details = ""
            if cordoned:
                details = f"uncordon {', '.join(cordoned)}, then "
            details += (
                f"launch quota {quota_change.shown(current)} -> {quota_change.shown(target)} "
                f"({source}); wait until BinderHub's /health reports it (up to "
                f"{formatting.age(timeout)})"
            )
            return Prepared(details, lambda progress: execute(progress, target, cordoned))

        def execute(progress: Progress, quota: int | None, cordoned: list[str]) -> str:
            self._uncordon(progress, cordoned)
            health = self._apply_quota(progress, quota, timeout)
            clear_drain_record(self.member.name)
            return f"launch quota {quota_change.shown(quota)} in BinderHub; " + _rejoin(
                health, quota, self.check
            )

        return self._action("resume", f"member {self.member.name}", prepare, {"timeout": timeout})

    # -- restarts and rollbacks --------------------------------------------------------
    def _component(self, component: str, allowed: Sequence[str], verb: str) -> ComponentName:
        name = component_named(component)
        if name is None or name not in allowed:
            raise UsageError(
                f"cannot {verb} {formatting.inert(component, 40)!r}; "
                f"choose one of: {', '.join(allowed)}"
            )
        return name

    def _rollout_warnings(
        self, name: ComponentName, pods: list[Obj], revision: int, *, restart: bool
    ) -> tuple[str, ...]:
        """What will keep the new pods from starting, said before it comes to that."""
        warnings = []
        cordoned = self._cordoned()
        if cordoned and name != "dind":  # dind's pods tolerate a cordon
            warnings.append(
                f"node {', '.join(cordoned)} is cordoned: the new {name} pod will stay "
                "Pending and the rollout cannot finish; `binderctl resume` uncordons it"
            )
        problem = component_rollout.current_problem(pods)
        if restart and problem is not None and (problem.bad_image or problem.crashing):
            fix = rollout_fix(name, problem, revision)[1]
            warnings.append(
                f"pod {formatting.inert(problem.pod, 80)} "
                f"{formatting.inert(problem.describe(), 300)}: {fix}"
            )
        return tuple(warnings)

    def restart(
        self, component: str, *, timeout: float = component_rollout.DEFAULT_TIMEOUT
    ) -> Action:
        name = self._component(component, COMPONENTS, "restart")
        limit = formatting.age(timeout)

        def prepare() -> Prepared:
            workload = component_rollout.find_workload(self.kube, name)
            pods = component_rollout.pods_of(self.kube, workload)
            revision = mapping.revision_of(workload.obj)
            warnings = self._rollout_warnings(name, pods, revision, restart=True)
            before = component_rollout.uids(pods)

            def wait(progress: Progress) -> str:
                return component_rollout.wait_for_rollout(
                    self.kube, workload, before, timeout=timeout, progress=progress,
                    what=f"the restart of {name}", fresh=name == "dind", stop=self.stop,
                )  # fmt: skip

            if name == "dind":
                if not pods:
                    raise BinderctlError(f"no dind pods found (label {workload.pod_selector})")
                details = (
                    f"delete {len(pods)} dind pod(s): {_names([t[1] for t in _refs(pods)])}; "
                    f"{self._builds_failed()}; then wait for the new ones (up to {limit})"
                )
                deletion = self._deletion(
                    details, pods, lambda deleted: f"deleted {deleted} dind pod(s)"
                )

                def replace_pods(progress: Progress) -> str:
                    return f"{deletion.execute(progress)}; {wait(progress)}"

                return replace(deletion, execute=replace_pods, warnings=warnings)

            def rollout(progress: Progress) -> str:
                patch = {
                    "spec": {
                        "template": {
                            "metadata": {"annotations": {RESTARTED_AT: rfc3339(time.time())}}
                        }
                    }
                }
                self.kube.patch(DEPLOYMENTS, workload.name, patch, namespace=workload.namespace)
                progress(f"rollout restart of {workload.label} started")
                return wait(progress)

            details = f"rollout restart of {workload.label}, then wait for it (up to {limit})"
            return Prepared(details, rollout, warnings=warnings)

        return self._action("restart", name, prepare, {"timeout": timeout}, targets=(name,))

    def _builds_failed(self) -> str:
        """How many builds a dind restart fails, in words."""
        builds = [
            p
            for p in self.kube.list(PODS, labelSelector=mapping.BUILD_SELECTOR)
            if mapping.pod_phase(p) in ("Pending", "Running")
        ]
        if not builds:
            return "no build in progress"
        names = _names([p["metadata"]["name"] for p in builds], 3)
        return f"{len(builds)} build(s) in progress fail: {names}"

    def rollback(
        self, component: str, *, timeout: float = component_rollout.DEFAULT_TIMEOUT
    ) -> Action:
        name = self._component(component, catalogue.ROLLBACK_TARGETS, "roll back")

        def prepare() -> Prepared:
            workload = component_rollout.find_workload(self.kube, name)
            plan = component_rollout.plan_rollback(self.kube, workload)
            shown = component_rollout.describe_plan(plan)
            if plan.skipped:
                skipped = (
                    f"skipped rollback (current template already matches revision {plan.target})"
                )
                return Prepared(f"{shown}: {skipped}", lambda progress: skipped)
            pods = component_rollout.pods_of(self.kube, workload)
            before = component_rollout.uids(pods)
            details = f"{shown}; then wait for the rollout (up to {formatting.age(timeout)})"
            warnings = self._rollout_warnings(name, pods, plan.current, restart=False)
            return Prepared(details, lambda progress: execute(progress, plan, before), {}, warnings)

        def execute(
            progress: Progress, plan: component_rollout.RollbackPlan, before: frozenset[str]
        ) -> str:
            workload = component_rollout.find_workload(self.kube, name)
            now = component_rollout.plan_rollback(self.kube, workload)
            if (now.current, now.target) != (plan.current, plan.target):
                raise BinderctlError(
                    f"deployment {plan.deployment} changed while asking (now revision "
                    f"{now.current}); nothing was rolled back",
                    hint=f"run `binderctl rollback {name}` again",
                )
            component_rollout.apply_rollback(self.kube, workload, plan)
            progress(f"rolled back: {component_rollout.describe_plan(plan)}")
            done = component_rollout.wait_for_rollout(
                self.kube, workload, before, timeout=timeout, progress=progress,
                what=f"the rollback of {name}", stop=self.stop,
            )  # fmt: skip
            return f"rolled back {name} to the template of revision {plan.target}; {done}"

        return self._action("rollback", name, prepare, {"timeout": timeout}, targets=(name,))

    # -- sessions and builds -----------------------------------------------------------
    def kill_sessions(
        self,
        *,
        names: Sequence[str] = (),
        repo: str | None = None,
        older_than: float | None = None,
    ) -> Action:
        """Delete session pods: those ``names``, all of a repo, or all older than a time."""
        wanted = list(dict.fromkeys(names))
        if sum((bool(wanted), repo is not None, older_than is not None)) != 1:
            raise UsageError("name exactly one of: session pod NAMEs, --repo R, --older-than D")
        parameters: dict[str, object]
        if wanted:
            target, parameters = _counted(wanted, "session"), {"pods": wanted}
        elif repo is not None:
            target, parameters = f"sessions of repo {formatting.inert(repo, 80)}", {"repo": repo}
        else:
            age = formatting.age(older_than)
            target, parameters = f"sessions older than {age}", {"older_than_seconds": older_than}

        def select(pods: list[Obj]) -> list[Obj]:
            if wanted:
                return [p for p in pods if p["metadata"]["name"] in wanted]
            if repo is not None:
                return [p for p in pods if repo_matches(repo, mapping.session_from_pod(p).repo)]
            horizon = time.time() - (older_than or 0)
            return [p for p in pods if mapping.session_from_pod(p).started < horizon]

        def prepare() -> Prepared:
            pods = self._session_pods()
            hit = select(pods)
            if not hit:
                if len(wanted) == 1:
                    self._explain_not_a_session(wanted[0])
                raise BinderctlError(f"no running session matches: {target}")
            found = {p["metadata"]["name"] for p in hit}
            details = f"{len(hit)} of {len(pods)} session(s): {_names([t[1] for t in _refs(hit)])}"
            return self._deletion(
                details,
                hit,
                lambda killed: f"killed {killed} session(s)",
                [n for n in wanted if n not in found],
            )

        return self._action("kill-session", target, prepare, parameters)

    def _explain_not_a_session(self, name: str) -> None:
        pods = self.kube.list(PODS, fieldSelector=f"metadata.name={name}")
        if pods:
            role = mapping.pod_role(pods[0]) or "other"
            raise BinderctlError(
                f"pod {formatting.inert(name, 80)} is not a session (it is a {role} pod); "
                "kill-session only deletes jupyter-* session pods"
            )

    def delete_build(self, pods: Sequence[str]) -> Action:
        """Delete the build pods named ``pods`` (the builds marked on the Builds screen)."""
        wanted = list(dict.fromkeys(pods))
        if not wanted:
            raise UsageError("name the build pods to delete")
        target = _counted(wanted, "build")

        def prepare() -> Prepared:
            builds = self.kube.list(PODS, labelSelector=mapping.BUILD_SELECTOR)
            hit = [p for p in builds if p["metadata"]["name"] in wanted]
            if not hit:
                raise BinderctlError(f"no build pod matches: {target}")
            found = {p["metadata"]["name"] for p in hit}
            return self._deletion(
                f"{len(hit)} build pod(s): {_names([t[1] for t in _refs(hit)])}",
                hit,
                lambda deleted: f"deleted {deleted} build pod(s)",
                [n for n in wanted if n not in found],
            )

        return self._action("delete-build", target, prepare, {"pods": wanted})

    def delete_builds(
        self, *, stuck: bool = True, failed: bool = True, stuck_after: float | None = None
    ) -> Action:
        """Delete every stuck and/or failed build pod."""
        if not (stuck or failed):
            raise UsageError("choose what to delete: --stuck, --failed or both")
        kinds = " and ".join(k for k, on in (("stuck", stuck), ("failed", failed)) if on)
        after = self.stuck_after if stuck_after is None else stuck_after

        def prepare() -> Prepared:
            pods = self.kube.list(PODS, labelSelector=mapping.BUILD_SELECTOR)
            now = time.time()
            hit = []
            for pod in pods:
                build = mapping.build_from_pod(pod, now, after)
                if (stuck and build.stuck) or (failed and build.phase == "Failed"):
                    hit.append(pod)
            if not hit:
                raise BinderctlError(f"no {kinds} builds to delete ({len(pods)} build pod(s))")
            return self._deletion(
                f"{len(hit)} build pod(s): {_names([t[1] for t in _refs(hit)])}",
                hit,
                lambda deleted: f"deleted {deleted} build pod(s)",
            )

        return self._action(
            "delete-builds", f"{kinds} builds", prepare, {"stuck": stuck, "failed": failed}
        )

    # -- bans --------------------------------------------------------------------------
    def _kill_with_evidence(
        self, repos: Sequence[str], outcomes: dict[str, str]
    ) -> tuple[int, int]:
        """Record the kubelet's counters of the repositories' sessions, then delete those
        and their builds in progress; returns how many of each it deleted."""
        from binderctl.services import bans, evidence
        from binderctl.services.cluster import read_traffic

        sessions, builds = bans.repo_pods(self.kube, repos)
        if not sessions and not builds:
            return 0, 0
        counters = evidence.by_key(read_traffic(self.kube) if sessions else {}, sessions)
        ended = time.time()
        evidence.record(
            self.member.name,
            [
                evidence.of_pod(
                    p, counters.get(mapping.key_of(p)), ended=ended, ended_by="ban --kill"
                )
                for p in sessions
            ],
        )
        return self._delete_pods(_refs(sessions), outcomes), self._delete_pods(
            _refs(builds), outcomes
        )

    def ban(
        self,
        repos: Sequence[str],
        *,
        reason: str = "",
        kill: bool = False,
        timeout: float = quota_change.DEFAULT_TIMEOUT,
    ) -> Action:
        """Put ``repos`` into BinderHub's banned_specs (``services/bans.py``); with
        ``kill`` also end their sessions and builds."""
        from binderctl.services import bans
        from binderctl.services.repos import repo_url

        urls = list(dict.fromkeys(repo_url(r) for r in repos))
        if not urls:
            raise UsageError("name the repositories to ban")
        user = audit.local_user()
        wanted = {url: bans.new_ban(url, reason, user) for url in urls}

        def prepare() -> Prepared:
            current = bans.read_bans(self.kube)
            lines = []
            for url, ban in wanted.items():
                since = current.find(url)
                note = f" (banned since {rfc3339(since.time)})" if since else ""
                lines.append(f"{formatting.inert(url, 100)}{note}: {bans.describe(ban)}")
            targets = {url: "not run" for url in urls}
            if kill:
                sessions, builds = bans.repo_pods(self.kube, urls)
                pods = [name for _, name, _ in _refs(sessions + builds)]
                targets.update(dict.fromkeys(pods, "not run"))
                line = f"then kill {len(sessions)} session(s) and {len(builds)} build(s)"
                lines.append(f"{line}: {_names(pods)}" if pods else line)
            return Prepared("; ".join(lines), lambda progress: execute(progress, targets), targets)

        def edit(current: list[bans.Ban]) -> list[bans.Ban]:
            return [b for b in current if b.repo not in wanted] + list(wanted.values())

        def execute(progress: Progress, targets: dict[str, str]) -> str:
            before = quota_change.before_change(self.kube)
            _, changed = bans.change_bans(self.kube, edit)
            targets.update({url: "banned in the chart" for url in urls})
            progress(f"banned_specs set in the HelmChart for {', '.join(urls)}")
            first = self._kill_with_evidence(urls, targets) if kill else (0, 0)
            if changed:
                quota_change.wait_for_release(self.kube, before, progress=progress, timeout=timeout)
            targets.update({url: "banned" for url in urls})
            late = self._kill_with_evidence(urls, targets) if kill else (0, 0)
            outcome = f"BinderHub refuses launches of {', '.join(urls)}"
            if kill:
                killed, stopped = first[0] + late[0], first[1] + late[1]
                outcome += f"; killed {killed} session(s), stopped {stopped} build(s)"
            if any(late):
                outcome += f" ({sum(late)} started before the ban reached BinderHub)"
            return outcome

        target = _repositories(urls)
        parameters = {"repos": urls, "reason": reason, "kill": kill, "timeout": timeout}
        return self._action("ban", target, prepare, parameters, targets=urls)

    def unban(
        self, repos: Sequence[str], *, timeout: float = quota_change.DEFAULT_TIMEOUT
    ) -> Action:
        """Take binderctl's bans of ``repos`` out of BinderHub's banned_specs."""
        from binderctl.services import bans
        from binderctl.services.repos import repo_url

        urls = list(dict.fromkeys(repo_url(r) for r in repos))
        if not urls:
            raise UsageError("name the repositories to unban")

        def prepare() -> Prepared:
            current = bans.read_bans(self.kube)
            missing = [url for url in urls if current.find(url) is None]
            if missing:
                raise BinderctlError(
                    f"not banned by binderctl: {', '.join(missing)}",
                    hint="`binderctl bans` lists the bans, and banned_specs binderctl did not set",
                )
            details = "; ".join(
                f"{url}: {bans.describe(b)}" for url in urls if (b := current.find(url))
            )
            targets = {url: "not run" for url in urls}
            return Prepared(details, lambda progress: execute(progress, targets), targets)

        def execute(progress: Progress, targets: dict[str, str]) -> str:
            before = quota_change.before_change(self.kube)
            _, changed = bans.change_bans(
                self.kube, lambda current: [b for b in current if b.repo not in urls]
            )
            if changed:
                quota_change.wait_for_release(self.kube, before, progress=progress, timeout=timeout)
            targets.update({url: "unbanned" for url in urls})
            return f"BinderHub launches {', '.join(urls)} again"

        target = _repositories(urls)
        return self._action("unban", target, prepare, {"repos": urls, "timeout": timeout})

    # -- the server --------------------------------------------------------------------
    def reboot(self, *, hard: bool = False) -> Action:
        def prepare() -> Prepared:
            from binderctl.services.hetzner import HetznerService

            service = HetznerService.for_member(self.member)
            how = "hard reset (power cycle)" if hard else "soft reboot (ACPI)"
            details = f"{how} of the server of member {self.member.name}"
            return Prepared(details, lambda progress: service.reboot(hard=hard))

        return self._action(
            "reboot", f"server of member {self.member.name}", prepare, {"hard": hard}
        )

    # -- the node over SSH -------------------------------------------------------------
    def _node(self) -> Any:
        from binderctl.services.node import Node

        return Node(self.member, node_address(self.member))

    def prune_images(self) -> Action:
        def prepare() -> Prepared:
            node = self._node()
            details = f"`k3s crictl rmi --prune` on {node.client.address}"
            return Prepared(details, lambda progress: prune(node))

        def prune(node: Any) -> str:
            result = node.prune_images()
            disk = result.disk
            return (
                f"removed {result.images_removed} image(s), freed "
                f"{formatting.size(result.bytes_freed)}; disk {formatting.size(disk.used)}"
                f"/{formatting.size(disk.total)} used"
            )

        return self._action("prune-images", f"node of member {self.member.name}", prepare)

    def renew_certs(self) -> Action:
        def prepare() -> Prepared:
            node = self._node()
            details = (
                f"stop k3s on {node.client.address}, `k3s certificate rotate`, start it, "
                "fetch the new kubeconfig"
            )
            return Prepared(details, lambda progress: rotate(node))

        def rotate(node: Any) -> str:
            kubeconfig = node.rotate_certificates()
            self._kube = None  # the old client holds the old certificate
            expires = kubeconfig.expires.strftime("%Y-%m-%d")
            return f"new client certificate valid until {expires}; kubeconfig {kubeconfig.path}"

        return self._action("renew-certs", f"k3s of member {self.member.name}", prepare)

    # -- staged upgrades (services/upgrade_k3s.py, upgrade_charts.py, upgrade_schedule.py)
    def upgrade_k3s(
        self, *, to: str | None, options: UpgradeOptions, dry_run: bool = False
    ) -> Action:
        from binderctl.services import upgrade_k3s

        return self._action(
            "upgrade-k3s",
            f"k3s of member {self.member.name}",
            lambda: upgrade_k3s.prepare(self, to, options, dry_run),
            _upgrade_parameters(options, to=to, dry_run=dry_run),
        )

    def upgrade_charts(self, *, options: UpgradeOptions, dry_run: bool = False) -> Action:
        from binderctl.services import upgrade_charts

        return self._action(
            "upgrade-charts",
            f"charts of member {self.member.name}",
            lambda: upgrade_charts.prepare(self, options, dry_run),
            _upgrade_parameters(options, dry_run=dry_run),
        )

    def upgrade_schedule(self, *, window: Window, remove: bool = False) -> Action:
        from binderctl.services import upgrade_schedule

        return self._action(
            "upgrade-schedule",
            f"k3s of member {self.member.name}",
            lambda: upgrade_schedule.prepare(self, window, remove),
            {"window": window.text(), "channel": self.upgrades.channel, "remove": remove},
        )


def _upgrade_parameters(options: UpgradeOptions, **given: object) -> dict[str, object]:
    return {
        **given,
        "threshold": options.threshold,
        "force_after": options.force_after,
        "timeout": options.timeout,
    }


def _repositories(urls: Sequence[str]) -> str:
    if len(urls) == 1:
        return f"repository {urls[0]}"
    return f"{len(urls)} repositories: {_names(urls, 3)}"


def _rejoin(health: Health, quota: int | None, check: CheckSettings) -> str:
    """When the federation redirector takes the member back, by its own rule."""
    pods = next(
        (c.detail.get("total_pods") for c in health.checks if c.service == "Pod quota"), None
    )
    if quota is not None and isinstance(pods, int) and pods + check.pod_headroom >= quota:
        return (
            f"the federation redirector keeps the member out while its {pods} pods + "
            f"{check.pod_headroom} >= quota {quota}"
        )
    if health.ok is False:
        failing = ", ".join(c.service for c in health.checks if not c.ok)
        return f"the federation redirector keeps the member out while /health fails: {failing}"
    return (
        "the federation redirector re-checks a dropped member only after its failed_period "
        f"({check.failed_period:g} s): launches return within that"
    )


def describe(action: Action, prepared: Prepared) -> str:
    """The confirmation text: what, exactly what, what may go wrong, the blast radius."""
    warnings = "".join(f"\nWARNING: {w}" for w in prepared.warnings)
    return f"{action.name} {action.target}: {prepared.details}{warnings}\n{action.blast_radius}"
