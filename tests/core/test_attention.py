"""The attention policy as pure functions: one picture of a member in, the items out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from binderctl.models import (
    COMPONENTS,
    Attention,
    Build,
    Component,
    ComponentName,
    Health,
    HealthCheck,
    NodeStatus,
    PodProblem,
    Rotation,
    RotationVerdict,
    Session,
)
from binderctl.services.attention import (
    CERT_RENEW_BEFORE_SECONDS,
    Facts,
    judge,
    worst,
)
from binderctl.services.cluster import ClusterState
from binderctl.widgets.header import HeaderState, render_header

NOW = 1_800_000_000.0
GI = 2**30
HEALTHY_CHECKS = (HealthCheck("Docker registry", True), HealthCheck("JupyterHub API", True))


def node(**changes: object) -> NodeStatus:
    ready = NodeStatus(
        name="demo",
        cpu_capacity=48,
        memory_capacity=192 * GI,
        cpu_allocatable=48,
        memory_allocatable=189 * GI,
        pods_max=336,
        pods_used=20,
        cpu_usage=1.0,
        memory_usage=6 * GI,
        disk_capacity=876 * GI,
        disk_usage=None,
        conditions={"Ready": "True", "DiskPressure": "False", "MemoryPressure": "False"},
        cordoned=False,
    )
    return replace(ready, **changes)  # type: ignore[arg-type]


def session(index: int) -> Session:
    return Session(
        f"jupyter-{index}", "binderhub", f"u{index}", "https://x/r", "HEAD", NOW, "Running"
    )


def state(
    *,
    sessions: int = 3,
    builds: tuple[Build, ...] = (),
    components: dict[ComponentName, Component] | None = None,
    node_status: NodeStatus | None = None,
    rotation: Rotation | None = None,
    health: Health | None = None,
    errors: dict[str, str] | None = None,
) -> ClusterState:
    if components is None:
        components = {n: Component(n, 1, 1, 0, NOW - 600, f"{n}:1") for n in COMPONENTS}
    return ClusterState(
        time=NOW,
        sessions={f"binderhub/jupyter-{i}": session(i) for i in range(sessions)},
        builds={f"binderhub/{b.pod}": b for b in builds},
        components=components,
        nodes={"demo": node_status or node()},
        warnings=(),
        rotation=rotation or Rotation(quota=100, cordoned=False),
        health=health or Health(True, HEALTHY_CHECKS),
        launches_last_hour=0,
        errors=errors or {},
    )


def kinds(items: tuple[Attention, ...]) -> list[tuple[str, str]]:
    return [(item.kind, item.severity) for item in items]


def test_a_healthy_member_needs_nothing() -> None:
    assert judge(state(), Facts(cert_expiry=NOW + 300 * 86400), NOW) == ()


def test_a_component_scaled_to_0_is_down_and_restart_would_not_help() -> None:
    components = {n: Component(n, 1, 1, 0, NOW, "") for n in COMPONENTS}
    components["binder"] = Component("binder", 0, 0, 0, None, "")
    (item,) = judge(state(components=components), Facts(), NOW)
    assert (item.kind, item.severity, item.action) == ("component-down", "error", None)
    assert item.text.startswith("binder is scaled to 0")


def test_no_ready_pod_is_down_fewer_than_desired_is_degraded() -> None:
    components = {n: Component(n, 1, 1, 0, NOW, "") for n in COMPONENTS}
    components["hub"] = Component("hub", 0, 1, 5, None, "")
    components["proxy"] = Component("proxy", 1, 2, 0, NOW, "")
    items = judge(state(components=components), Facts(), NOW)
    assert [(i.kind, i.severity, i.action, i.target) for i in items] == [
        ("component-down", "error", "restart", "hub"),
        ("component-degraded", "warning", "restart", "proxy"),
    ]


def test_under_disk_pressure_the_fix_of_a_down_component_is_pruning() -> None:
    components = {n: Component(n, 1, 1, 0, NOW, "") for n in COMPONENTS}
    components["hub"] = Component("hub", 0, 1, 0, None, "")
    pressed = node(conditions={"Ready": "True", "DiskPressure": "True"})
    items = judge(state(components=components, node_status=pressed), Facts(), NOW)
    down = next(i for i in items if i.kind == "component-down")
    assert (down.action, down.target) == ("prune-images", None)
    assert "DiskPressure" in down.text


def test_components_seen_only_through_their_pods_are_not_judged() -> None:
    # before the workloads are read, desired is not known: nothing is "scaled to 0"
    components = {n: Component(n, 0, 0, 0, None, "", desired_known=False) for n in COMPONENTS}
    assert judge(state(components=components), Facts(), NOW) == ()


IMAGE = "quay.io/jupyterhub/k8s-binderhub:1.0.0"
PULL = PodProblem("binder-7c-x", "ImagePullBackOff", 'Back-off pulling image "b:9"', "b:9")
CRASH = PodProblem("hub-5d-y", "CrashLoopBackOff", "back-off 40s restarting failed container")
CORDON = PodProblem(
    "proxy-9f-z", "Unschedulable", "0/1 nodes are available: 1 node(s) were unschedulable.",
    cordoned=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "problem", "ready", "revision", "expected"),
    [
        ("binder", PULL, 1, 2, ("warning", "rollback", "1/1 old pod(s) still serve k8s-binderhub")),
        ("binder", PULL, 1, 1, ("warning", None, "restarting cannot help")),  # no previous
        ("hub", CRASH, 0, 3, ("error", "rollback", "no hub pod is ready: no session can start")),
        ("proxy", CORDON, 1, 1, ("warning", "resume", "the node is cordoned: `binderctl resume`")),
        ("dind", CRASH, 0, 0, ("error", None, "`binderctl logs dind --previous`")),
    ],
)
def test_a_stuck_rollout_names_its_reason_and_fix(
    name: ComponentName,
    problem: PodProblem,
    ready: int,
    revision: int,
    expected: tuple[str, str | None, str],
) -> None:
    components = {n: Component(n, 1, 1, 0, NOW, "") for n in COMPONENTS}
    components[name] = Component(
        name, ready, 1, 0, NOW, "b:9", updated=1, running=(IMAGE,) if ready else (),
        waiting="1 old pod(s) pending termination", problem=problem, revision=revision,
    )  # fmt: skip
    (item,) = judge(state(components=components), Facts(), NOW)  # one item per component
    severity, action, words = expected
    assert (item.kind, item.severity, item.action) == ("rollout-stuck", severity, action)
    assert item.target == (name if action else None)
    assert f"pod {problem.pod} " in item.text and problem.reason in item.text
    assert words in item.text


def test_a_missing_component_is_down() -> None:
    components = {n: Component(n, 1, 1, 0, NOW, "") for n in COMPONENTS if n != "dind"}
    items = judge(state(components=components), Facts(), NOW)
    assert kinds(items) == [("component-down", "error")]
    assert "dind is not installed" in items[0].text


def test_unreadable_quota_says_why() -> None:
    rotation = Rotation(
        None, False, quota_error="the launch quota in the HelmChart is not a number"
    )
    (item,) = judge(state(rotation=rotation), Facts(), NOW)
    assert (item.kind, item.severity) == ("quota-unreadable", "error")
    assert "not a number" in item.text and "drain and resume cannot" in item.text


def test_at_quota_spells_out_the_redirectors_headroom_rule() -> None:
    build = Build("build-1", "binderhub", "r", "HEAD", "Running", NOW - 60)
    items = judge(
        state(sessions=89, builds=(build,), rotation=Rotation(100, False)),
        Facts(pod_headroom=10),
        NOW,
    )
    assert kinds(items) == [("at-quota", "warning")]
    assert items[0].text.startswith(
        "89 sessions + 1 build + pod_headroom 10 >= quota 100: the redirector sends no "
        "launches here until sessions end"
    )
    assert judge(state(sessions=88, builds=(build,)), Facts(pod_headroom=10), NOW) == ()


def test_the_redirectors_verdict_is_said_once() -> None:
    at_quota = RotationVerdict(False, "quota headroom", "quota headroom: ...", "Pod quota")
    items = judge(state(sessions=95), Facts(observed=at_quota), NOW)
    assert kinds(items) == [("at-quota", "warning")]  # the at-quota item says why
    versions = RotationVerdict(False, "versions", "versions differ from the prime: x")
    items = judge(state(), Facts(observed=versions), NOW)
    assert kinds(items) == [("out-of-rotation", "error")]
    assert "upgrade charts" in items[0].text and items[0].action == "upgrade-charts"
    waiting = RotationVerdict(False, "failed_period", "checks pass again since ...")
    assert kinds(judge(state(), Facts(observed=waiting), NOW)) == [("out-of-rotation", "warning")]
    unknown = RotationVerdict(None, "prime unreachable", "checks pass, but ...")
    assert kinds(judge(state(), Facts(observed=unknown), NOW)) == [("rotation-unknown", "info")]


def test_a_drained_member_is_a_warning_with_resume_whatever_the_redirector_says() -> None:
    out = RotationVerdict(False, "check", "failing check: Pod quota", "Pod quota")
    items = judge(state(rotation=Rotation(0, False)), Facts(observed=out), NOW)
    assert [(i.kind, i.severity, i.action) for i in items] == [("drained", "warning", "resume")]


def test_a_cordon_is_a_warning_that_resume_lifts() -> None:
    (item,) = judge(state(rotation=Rotation(100, True)), Facts(), NOW)
    assert (item.kind, item.severity, item.action) == ("cordoned", "warning", "resume")
    assert "install job" in item.text


def test_health() -> None:
    failing = Health(
        False,
        (
            HealthCheck("Docker registry", False),
            HealthCheck("Pod quota", False, {"_ignore_failure": True}),
        ),
    )
    (item,) = judge(state(health=failing), Facts(), NOW)
    assert (item.kind, item.severity) == ("health-failing", "error")
    assert "Docker registry" in item.text and "Pod quota" not in item.text
    down = Health(None, error="connection refused")
    unreachable = RotationVerdict(False, "unreachable", "does not answer")
    items = judge(state(health=down), Facts(observed=unreachable), NOW)
    assert kinds(items) == [("health-unreachable", "error")]


def test_node_conditions_disk_and_pods() -> None:
    not_ready = node(conditions={"Ready": "False"})
    (item,) = judge(state(node_status=not_ready), Facts(), NOW)
    assert (item.kind, item.severity, item.action) == ("node-not-ready", "error", "reboot")

    pressure = node(conditions={"Ready": "True", "DiskPressure": "True"}, disk_usage=800 * GI)
    (item,) = judge(state(node_status=pressure), Facts(), NOW)
    assert (item.kind, item.severity, item.action) == ("disk-pressure", "warning", "prune-images")
    assert "91% used (800Gi of 876Gi)" in item.text

    filling = node(disk_usage=720 * GI)  # 18 % free: no pressure yet
    (item,) = judge(state(node_status=filling), Facts(), NOW)
    assert (item.kind, item.severity, item.action) == ("disk-full", "warning", "prune-images")

    assert kinds(judge(state(node_status=node(pods_used=336)), Facts(), NOW)) == [
        ("max-pods", "error")
    ]
    assert kinds(judge(state(node_status=node(pods_used=310)), Facts(), NOW)) == [
        ("max-pods", "warning")
    ]


def test_stuck_builds_suggest_restarting_dind() -> None:
    stuck = Build("build-1", "binderhub", "r", "HEAD", "Running", NOW - 7200, stuck=True)
    (item,) = judge(state(builds=(stuck,)), Facts(), NOW)
    assert (item.kind, item.severity, item.action, item.target) == (
        "builds-stuck",
        "warning",
        "restart",
        "dind",
    )


@pytest.mark.parametrize(
    ("left", "severity"),
    [(-60, "error"), (5 * 86400, "warning"), (CERT_RENEW_BEFORE_SECONDS + 60, None)],
)
def test_one_certificate_threshold(left: float, severity: str | None) -> None:
    items = judge(state(), Facts(cert_expiry=NOW + left), NOW)
    assert [(i.kind, i.severity, i.action) for i in items] == (
        [("certificate", severity, "renew-certs")] if severity else []
    )


def test_worst_first_and_the_firewall_is_info() -> None:
    stuck = Build("build-1", "binderhub", "r", "HEAD", "Running", NOW - 7200, stuck=True)
    items = judge(
        state(builds=(stuck,), errors={"events": "timed out", "disk": "no SSH"}),
        Facts(open_ports=(22,), cert_expiry=NOW - 1),
        NOW,
    )
    assert kinds(items) == [
        ("certificate", "error"),
        ("unreadable", "warning"),  # events; the disk only fills a gauge
        ("builds-stuck", "warning"),
        ("firewall-open", "info"),
    ]
    assert worst(items) == "error" and worst(items, {"firewall-open"}) == "info"
    assert worst(()) is None


def test_the_header_colours_rotation_and_quota_by_the_items() -> None:
    rotation = Rotation(None, False, quota_error="unreadable values")
    items = judge(state(rotation=rotation), Facts(), NOW)
    header = render_header(
        HeaderState("demo", rotation=rotation, health_ok=True, sessions=147, attention=items)
    )
    assert "◌ ROTATION ? (quota unreadable)" in header.plain
    assert "sessions 147/?" in header.plain
    styles = {header.plain[span.start : span.end]: str(span.style) for span in header.spans}
    assert styles["◌ ROTATION ? (quota unreadable)"] == "bold red"
    assert styles["sessions 147/?"] == "bold red"
    calm = render_header(HeaderState("demo", rotation=Rotation(100, False), sessions=3))
    assert "● IN ROTATION" in calm.plain and "sessions 3/100" in calm.plain
