"""Drain and resume as they work on a real single-node k3s member: the launch quota
reaches BinderHub only through helm-controller's install job and a binder rollout, and
is seen in BinderHub's /health (what the federation redirector reads)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from binderctl.demo.kube import types
from binderctl.demo.member import charts as demo_charts
from binderctl.errors import BinderctlError
from binderctl.federation_config import PRODUCTION_CHECK
from binderctl.models import Health, HealthCheck
from binderctl.services import quota_change
from binderctl.services.binderhub import fetch_health, set_launch_quota
from binderctl.services.kube import NODES, Kube
from binderctl.services.rotation import read_drain_record
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.ops.ops_world import OpsWorld

SPEED = 20.0  # the install job (12 s) and a binder start (5 s) take under a second


def health_quota(world: OpsWorld) -> int | None:
    health = fetch_health(world.member, "127.0.0.1")
    found, quota = quota_change.reported_quota(health)
    assert found, health
    return quota


def total_pods(world: OpsWorld) -> int:
    health = fetch_health(world.member, "127.0.0.1")
    check = next(c for c in health.checks if c.service == "Pod quota")
    return int(check.detail["total_pods"])  # type: ignore[call-overload]


def cordoned(world: OpsWorld) -> bool:
    node = world.on_loop(lambda: world.store.get(types.NODES, None, "demo"))
    return bool(node["spec"].get("unschedulable"))


def unschedulable(world: OpsWorld) -> list[dict]:
    """Pods the scheduler leaves Pending because the node is cordoned."""
    return [
        p for p in world.pods()
        if any(c["type"] == "PodScheduled" and "unschedulable" in (c.get("message") or "")
               for c in (p.get("status") or {}).get("conditions") or [])
    ]  # fmt: skip


@pytest.fixture
def drained_world(make_world: Callable[..., OpsWorld]) -> OpsWorld:
    world = make_world(sessions=10, speed=SPEED, quota=77, cull_timeout=86400.0)
    drained = run_cli(world, "drain", "--yes")
    assert drained.returncode == 0, drained.stderr
    return world


def test_the_old_order_leaves_binderhub_at_the_old_quota_and_drain_does_not(
    make_world: Callable[..., OpsWorld],
) -> None:
    world = make_world(sessions=10, speed=SPEED, quota=77, cull_timeout=86400.0)
    assert health_quota(world) == 77
    with Kube(world.member) as kube:  # what binderctl's drain did: quota 0, then cordon
        before = quota_change.before_change(kube)
        set_launch_quota(kube, 0)
        kube.patch(NODES, "demo", {"spec": {"unschedulable": True}})
        # the install job's pod, or (if it was scheduled before the cordon) the new binder pod
        (pod,) = wait_for(lambda: unschedulable(world))
        assert pod["status"]["phase"] == "Pending"
        assert pod["metadata"]["name"].startswith(("helm-install-binderhub-", "binder-"))
        with pytest.raises(BinderctlError) as stuck:  # 2 s: 40 s on the member
            quota_change.wait_for_quota(
                world.member, kube, "127.0.0.1", 0, before, progress=print, timeout=2.0
            )
    assert "/health still reports quota 77" in stuck.value.message
    assert re.search(
        r"stuck at (job kube-system/helm-install-binderhub|deployment binderhub/binder): .*"
        rf"pod {pod['metadata']['name']} Pending \(node cordoned\): 0/1 nodes are available: "
        r"1 node\(s\) were unschedulable",
        stuck.value.message,
    ), stuck.value.message
    assert health_quota(world) == 77  # the redirector keeps sending launches here

    drained = run_cli(world, "drain", "--yes")
    assert drained.returncode == 0, drained.stderr
    assert health_quota(world) == 0  # out by the redirector's rule when drain returns
    assert total_pods(world) + PRODUCTION_CHECK.pod_headroom >= 0 and not cordoned(world)
    assert "uncordoned demo" in drained.stderr
    assert "BinderHub /health reports launch quota 0" in drained.stderr
    assert "the launch quota was already 0" in drained.stderr  # set without binderctl


def test_drain_waits_for_health_and_resume_restores_it(drained_world: OpsWorld) -> None:
    world = drained_world
    assert health_quota(world) == 0 and not cordoned(world)
    old_binder = [p["metadata"]["name"] for p in world.pods("binder")]

    resumed = run_cli(world, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert health_quota(world) == 77  # when resume returns
    assert "failed_period (90 s)" in resumed.stdout  # the ops world's config: production
    assert read_drain_record(world.member.name) is None
    assert not set(old_binder) & {p["metadata"]["name"] for p in world.pods("binder")}


def test_resume_uncordons_a_node_an_older_drain_cordoned(drained_world: OpsWorld) -> None:
    world = drained_world
    world.on_loop(lambda: world.store.mutate(
        types.NODES, None, "demo", lambda n: n["spec"].update(unschedulable=True)))  # fmt: skip
    resumed = run_cli(world, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "uncordoned demo" in resumed.stderr
    assert not cordoned(world) and health_quota(world) == 77


def test_restart_binder_on_a_drained_member(drained_world: OpsWorld) -> None:
    world = drained_world
    old = {p["metadata"]["name"] for p in world.pods("binder")}
    restarted = run_cli(world, "restart", "binder", "--yes")
    assert restarted.returncode == 0, restarted.stderr

    def rolled() -> bool:
        names = {p["metadata"]["name"] for p in world.pods("binder")}
        return bool(names) and not names & old

    wait_for(rolled)
    assert health_quota(world) == 0  # the new pod reads the drained config

    world.on_loop(lambda: world.store.mutate(
        types.NODES, None, "demo", lambda n: n["spec"].update(unschedulable=True)))  # fmt: skip
    # restartedAt has whole seconds, as kubectl's: a restart within the same second as the
    # last one changes no template (and so starts no rollout)
    time.sleep(1.1)
    stuck = run_cli(world, "restart", "binder", "--yes")  # it warns, tries, and says why not
    assert stuck.returncode == 1
    assert "warning: node demo is cordoned: the new binder pod will stay Pending" in stuck.stderr
    assert "the new binder pod binder-" in stuck.stderr
    assert "is Pending: the node is cordoned" in stuck.stderr


def test_a_drain_that_cannot_take_effect_names_what_is_stuck(
    make_world: Callable[..., OpsWorld],
) -> None:
    world = make_world(sessions=3, speed=SPEED, quota=50, cull_timeout=86400.0)

    def lose_the_job_image() -> None:  # not on the node (image GC), and cannot be pulled
        world.sim.kubelet.disk.images.pop(demo_charts.KLIPPER_HELM_IMAGE, None)
        world.sim.faults.unpullable_images.add(demo_charts.KLIPPER_HELM_IMAGE)

    world.on_loop(lose_the_job_image)
    failed = run_cli(world, "drain", "--yes", "--timeout", "3s")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "did not take launch quota 0 within 3s: /health still reports quota 50" in (
        failed.stderr
    )
    assert re.search(
        r"stuck at job kube-system/helm-install-binderhub: pod helm-install-binderhub-\S+ "
        r"Pending: (ErrImagePull|ImagePullBackOff)",
        failed.stderr,
    )
    assert health_quota(world) == 50

    world.on_loop(world.sim.faults.unpullable_images.clear)  # the next pull works: drain again
    again = run_cli(world, "drain", "--yes")
    assert again.returncode == 0, again.stderr
    assert health_quota(world) == 0
    record = read_drain_record(world.member.name)
    assert record is not None and record.previous_quota == 50


def test_reported_quota_reads_only_the_pod_quota_check() -> None:
    def health(*checks: HealthCheck) -> Health:
        return Health(ok=True, checks=checks)

    registry = HealthCheck("Docker registry", True, {})
    assert quota_change.reported_quota(health(registry)) == (False, None)
    for quota in (0, 77, None):
        check = HealthCheck("Pod quota", True, {"quota": quota, "total_pods": 3})
        assert quota_change.reported_quota(health(registry, check)) == (True, quota)
    for odd in (True, "0", 1.5):  # not what BinderHub sends: not a quota
        check = HealthCheck("Pod quota", True, {"quota": odd})
        assert quota_change.reported_quota(health(check)) == (False, None)
