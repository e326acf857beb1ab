"""`binderctl upgrade charts`: the BinderHub chart and ``build_image`` to the prime's
versions, cert-manager and traefik to binderctl's pins, staged like `upgrade k3s`.

The federation redirector drops a member whose ``/versions`` differs from the prime's,
so the BinderHub chart and ``build_image`` follow the prime (``prime_versions.resolve``);
cert-manager and traefik follow binderctl's pins (``services/charts.py``: mybinder's).
Every chart is applied through its HelmChart with ``failurePolicy: abort`` (the
stateless ClusterIssuer chart: ``reinstall``): a failed ``helm upgrade`` leaves the
release as it was and waits for an operator, where the default, ``reinstall``, would
uninstall it, hub database and all (k3s-io/klipper-helm ``entry``).

Steps: ``check`` (what changes, from what to what), ``drain``, ``apply`` (the changed
HelmCharts; each one's new install Job succeeds), ``verify`` (every workload ready,
``/health`` ok, ``/versions`` equal to the prime's), ``resume``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.services import charts, prime_versions, rollout
from binderctl.services.binderhub import fetch_health
from binderctl.services.kube import HELMCHARTS, JOBS, PODS, Kube, Obj, node_address
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

# klipper-helm's words when a release cannot be upgraded (entry; helm's "UPGRADE FAILED")
HELM_FAILED = ("Error: UPGRADE FAILED", "Error: INSTALLATION FAILED", "waiting for operator")


def _charts(kube: Kube) -> dict[str, Obj]:
    return {c["metadata"]["name"]: c for c in kube.list(HELMCHARTS, charts.CHART_NAMESPACE)}


def build_image_of(chart: Obj | None) -> str:
    """The ``build_image`` a BinderHub HelmChart's values name ("" when none)."""
    values = charts_values(chart)
    executor = ((values.get("config") or {}).get("KubernetesBuildExecutor")) or {}
    return str(executor.get("build_image") or "")


def charts_values(chart: Obj | None) -> dict[str, Any]:
    import yaml

    text = ((chart or {}).get("spec") or {}).get("valuesContent") or ""
    try:
        values = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return {}
    return values if isinstance(values, dict) else {}


def wanted_member(member: MemberConfig, facts: dict[str, Any]) -> MemberConfig:
    return replace(
        member, binderhub_chart_version=facts["chart_version"], build_image=facts["build_image"]
    )


def _changes(kube: Kube, member: MemberConfig, quota: int | None) -> dict[str, dict[str, str]]:
    """Each HelmChart that would change: its version before and after (and build_image)."""
    drift = charts.chart_drift(kube, member, quota)
    present = _charts(kube)
    wanted = {c["metadata"]["name"]: c for c in charts.helm_charts(member, node_address(member))}
    changes: dict[str, dict[str, str]] = {}
    for name, state in drift.items():
        if state == "unchanged" or name not in wanted:
            continue
        old = (present.get(name) or {}).get("spec") or {}
        changes[name] = {
            "from": str(old.get("version") or ("missing" if state == "missing" else "")),
            "to": str(wanted[name]["spec"].get("version") or ""),
        }
    old_image = build_image_of(present.get(charts.RELEASE))
    if member.build_image and old_image != member.build_image:
        changes["build_image"] = {"from": old_image, "to": member.build_image}
    return changes


def _describe_change(name: str, change: dict[str, str]) -> str:
    if change["from"] == change["to"]:
        return f"{name} {change['to']} (values or failurePolicy)"
    return f"{name} {change['from']} -> {change['to']}"


def _rollback(facts: dict[str, Any]) -> str:
    old = [
        f"{name} {change['from']}"
        for name, change in facts["changes"].items()
        if name != "build_image" and change["from"] not in ("", "missing")
    ]
    image = facts["changes"].get("build_image", {}).get("from")
    back = ", ".join(old) + (f", build_image {image}" if image else "")
    return (
        "helm-controller keeps a release whose upgrade failed as it was (failurePolicy "
        f"abort); to go back, set the HelmCharts to what they were ({back}): `kubectl -n "
        "kube-system edit helmchart NAME`, or `helm -n NAMESPACE rollback RELEASE` from a "
        "machine with helm and the kubeconfig"
    )


# -- the steps -----------------------------------------------------------------------


def _check(run: UpgradeRun) -> StepResult:
    present = _charts(run.kube)
    missing = [s.name for s in charts.sources(run.member) if s.name not in present]
    if missing:
        raise BinderctlError(
            f"the member has no HelmChart {', '.join(missing)}: it is not provisioned",
            hint="run `binderctl --provision` first",
        )
    risky = [
        name for name, chart in present.items()
        if (chart.get("spec") or {}).get("failurePolicy", "reinstall") != "abort"
        and name in run.facts["changes"] and name != charts.ISSUER.name
    ]  # fmt: skip
    note = f"; failurePolicy becomes abort for {', '.join(risky)} with this change" if risky else ""
    words = ", ".join(_describe_change(n, c) for n, c in run.facts["changes"].items())
    return StepResult(f"{words} (prime: {run.facts['prime']}){note}")


def _job_uid(kube: Kube, name: str) -> str:
    chart = _charts(kube).get(name) or {}
    job_name = (chart.get("status") or {}).get("jobName") or f"helm-install-{name}"
    jobs = {j["metadata"]["name"]: j for j in kube.list(JOBS, charts.CHART_NAMESPACE)}
    return str((jobs.get(job_name) or {}).get("metadata", {}).get("uid") or "")


def _install_state(kube: Kube, name: str, before: str) -> tuple[bool, str | None, str]:
    """(installed, why it failed, where it is) of chart ``name``'s new install Job."""
    job_name = f"helm-install-{name}"
    jobs = [j for j in kube.list(JOBS, charts.CHART_NAMESPACE) if j["metadata"]["name"] == job_name]
    if not jobs or jobs[0]["metadata"].get("uid") == before:
        return False, None, f"chart {name}: helm-controller has not started a new install job"
    job = jobs[0]
    if (job.get("status") or {}).get("succeeded"):
        return True, None, f"chart {name} installed"
    uid = job["metadata"]["uid"]
    for pod in kube.list(PODS, charts.CHART_NAMESPACE, labelSelector=f"controller-uid={uid}"):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            state = status.get("state") or {}
            last = (status.get("lastState") or {}).get("terminated") or {}
            if (state.get("terminated") or last).get("exitCode") not in (None, 0):
                text = _log_tail(kube, pod)
                if any(words in text for words in HELM_FAILED):
                    return False, f"chart {name}: {text}", ""
    return False, None, f"chart {name}: install job {job_name} running"


def _log_tail(kube: Kube, pod: Obj) -> str:
    """The line that says why helm failed (else the last one)."""
    lines = log_tail(kube, pod, 20)
    failed = [line for line in lines if any(words in line for words in HELM_FAILED)]
    return (failed or lines or [""])[-1]


def _apply(run: UpgradeRun) -> StepResult:
    kube, member = run.kube, wanted_member(run.member, run.facts)
    changed = [n for n in run.facts["changes"] if n != "build_image"]
    if "build_image" in run.facts["changes"] and charts.RELEASE not in changed:
        changed.append(charts.RELEASE)
    before = {name: _job_uid(kube, name) for name in changed}
    outcome = charts.apply_charts(kube, member, 0)
    run.progress(", ".join(f"{n} {s}" for n, s in outcome.items() if s != "unchanged"))

    def pending() -> str | None:
        waiting = []
        for name in changed:
            installed, failed, where = _install_state(kube, name, before[name])
            if failed is not None:
                raise failure(f"the upgrade of {failed}", _rollback(run.facts))
            if not installed:
                waiting.append(where)
        return "; ".join(waiting) if waiting else None

    wait_until(
        run,
        pending,
        lambda line: failure(
            f"the charts are not installed after {int(run.options.timeout)}s: {line}",
            _rollback(run.facts),
        ),
    )
    return StepResult(f"installed: {', '.join(changed)}")


def _applied(run: UpgradeRun) -> StepResult | None:
    drift = charts.chart_drift(run.kube, wanted_member(run.member, run.facts), 0)
    if any(state != "unchanged" for state in drift.values()):
        return None
    return StepResult("the HelmCharts name the new versions")


def _expected_versions(run: UpgradeRun) -> dict[str, Any]:
    """The prime's ``/versions`` (as the redirector compares), else what the pins give."""
    try:
        return prime_versions.fetch_versions(run.facts["prime"])
    except ValueError:
        return prime_versions.versions_for(run.facts["chart_version"], run.facts["build_image"])


def _problems(run: UpgradeRun) -> list[str]:
    member = wanted_member(run.member, run.facts)
    state = rollout.readiness(run.kube, member)
    problems = [f"{what}: {why}" for what, why in sorted(state.pending.items())]
    health = fetch_health(member, node_address(member))
    if health.ok is not True:
        failing = ", ".join(c.service for c in health.checks if not c.ok)
        problems.append(f"/health: {health.error or failing or 'not ok'}")
    diffs = prime_versions.differences(health.versions, _expected_versions(run))
    if diffs:
        problems.append(f"/versions differs from the prime's: {prime_versions.describe(diffs)}")
    return problems


STEPS: tuple[UpgradeStep, ...] = (
    UpgradeStep("check", "Check", _check, _check),
    DRAIN_STEP,
    UpgradeStep("apply", "Apply charts", _apply, _applied),
    verify_step(
        _problems,
        lambda run: "every workload ready; /health ok; /versions equal to the prime's",
        lambda run: "the charts upgrade",
        lambda run: _rollback(run.facts),
    ),
    RESUME_STEP,
)


def describe(facts: dict[str, Any]) -> list[tuple[str, str]]:
    changes = ", ".join(_describe_change(n, c) for n, c in facts["changes"].items())
    return [
        ("check", f"the HelmCharts exist; what changes: {changes}"),
        ("drain", "launch quota 0 until BinderHub's /health reports it and the redirector has "
                  "checked; then sessions fall to the threshold (or are evicted after "
                  "--force-after)"),
        ("apply", "update the changed HelmCharts (failurePolicy abort; quota kept at 0) and "
                  "wait for each one's new helm install job"),
        ("verify", "every workload ready; /health ok; /versions equal to the prime's "
                   f"({facts['prime']})"),
        ("resume", "leave the member drained: it was drained before the upgrade began"
                   if facts.get("was_drained") else
                   "restore the launch quota the drain recorded; the redirector takes the "
                   "member back within its failed_period"),
    ]  # fmt: skip


def prepare(ops: Operations, options: UpgradeOptions, dry_run: bool) -> Prepared:
    """Finish an unfinished run, else move to the prime's versions and binderctl's pins."""
    state = unfinished(ops.member, "charts")
    if state is not None:
        facts: dict[str, Any] | None = state["facts"]
        about = "finishing the charts upgrade"
    else:
        kube = ops.kube
        drained = was_drained(ops.member, kube)  # the cluster first: it must answer
        pins = prime_versions.resolve(ops.member, ops.federation)
        member = pins.apply(ops.member)
        changes = _changes(kube, member, 0 if drained else None)
        prime = ops.federation.prime_versions_url
        if not changes:
            facts, about = None, f"the charts are current (prime: {prime})"
        else:
            facts = {
                "changes": changes,
                "chart_version": pins.chart_version,
                "build_image": pins.build_image,
                "prime": prime,
                "warnings": list(pins.warnings),
                "was_drained": drained,
            }
            about = "charts: " + ", ".join(_describe_change(n, c) for n, c in changes.items())
    lines = describe(facts) if facts is not None else []
    return prepared(
        ops, "charts", facts, steps=STEPS, lines=lines, about=about, options=options,
        dry_run=dry_run, fresh=False,
    )  # fmt: skip
