"""Drain under faults, through the real CLI: an answer lost after the quota was set (the
drain is not run twice), and a drain killed or interrupted while it waits for BinderHub
to take the quota (the chart keeps quota 0 and the drain record; ``drain`` finishes it,
``resume`` restores the quota recorded at drain time)."""

from __future__ import annotations

import signal

import pytest

from binderctl.demo.member import charts as demo_charts
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import EXIT_FAILED, EXIT_INTERRUPTED
from binderctl.services import audit, quota_change
from binderctl.services.binderhub import fetch_health, set_launch_quota
from binderctl.services.kube import Kube, node_address
from binderctl.services.rotation import read_drain_record
from tests.faults.faultworld import cordoned, quota, record_quota_writes
from tests.kit.cli import run_cli, start_cli
from tests.kit.waiting import wait_for
from tests.kit.worlds import member_of, on_loop

QUOTA_PATCH = "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/binderhub"
RECORDED = 77  # the quota before the drain: not the configured one, so resume must read it


def outcomes() -> list[tuple[str, str]]:
    return [(r.action, r.outcome) for r in audit.read(MEMBER)]


def health_quota(world: DemoWorld) -> int | None:
    member = member_of(world)
    found, reported = quota_change.reported_quota(fetch_health(member, node_address(member)))
    assert found
    return reported


def test_a_drain_whose_answer_is_lost_is_not_run_twice(running: DemoWorld) -> None:
    before = quota(running)
    writes = record_quota_writes(running)
    drop = running.cluster().server.faults.drop("PATCH", QUOTA_PATCH)  # applied, answer lost

    lost = run_cli(running, "drain", "--yes")
    assert lost.returncode == EXIT_FAILED, lost.stderr
    assert "\nbinderctl: " in f"\n{lost.stderr}" and "Traceback" not in lost.stderr
    assert drop.seen == 1 and quota(running) == 0 and not cordoned(running)

    again = run_cli(running, "drain", "--yes")
    assert again.returncode == 0, again.stderr
    assert writes == [(before, 0)]  # the quota was written once
    assert health_quota(running) == 0 and not cordoned(running)
    record = read_drain_record(MEMBER)
    assert record is not None and record.previous_quota == before
    assert outcomes() == [("drain", "failed"), ("drain", "ok")]

    resumed = run_cli(running, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert quota(running) == before and health_quota(running) == before
    assert writes == [(before, 0), (0, before)]


def drain_stopped_while_waiting(world: DemoWorld, how: signal.Signals) -> int:
    """Run `binderctl drain` whose install job cannot pull its image, and stop it with
    ``how`` once it has set the quota and waits for BinderHub."""
    with Kube(member_of(world)) as kube:
        set_launch_quota(kube, RECORDED)
    wait_for(lambda: health_quota(world) == RECORDED, 60, "BinderHub took the quota")
    member = world.cluster().member
    faults = member.faults

    def lose_the_job_image() -> None:  # not on the node (image GC), and cannot be pulled
        member.kubelet.disk.images.pop(demo_charts.KLIPPER_HELM_IMAGE, None)
        faults.unpullable_images.add(demo_charts.KLIPPER_HELM_IMAGE)

    on_loop(world, lose_the_job_image)
    process = start_cli(world, "drain", "--yes")
    try:
        wait_for(lambda: quota(world) == 0, 60, "the drain set the quota")
        process.send_signal(how)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert health_quota(world) == RECORDED and not cordoned(world)
    record = read_drain_record(MEMBER)
    assert record is not None and record.previous_quota == RECORDED
    on_loop(world, faults.unpullable_images.clear)
    return process.returncode


def test_a_drain_killed_while_waiting_is_finished_by_the_next(running: DemoWorld) -> None:
    assert drain_stopped_while_waiting(running, signal.SIGKILL) == -signal.SIGKILL
    finished = run_cli(running, "drain", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert quota(running) == 0 and health_quota(running) == 0
    resumed = run_cli(running, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert quota(running) == RECORDED and health_quota(running) == RECORDED
    # the killed run's action is recorded as lost by the next action; resume used the
    # quota the drain record kept
    assert outcomes() == [("drain", "lost"), ("drain", "ok"), ("resume", "ok")]


@pytest.mark.parametrize("finish", ["resume", "drain"])
def test_a_drain_interrupted_while_waiting_can_be_undone_or_finished(
    running: DemoWorld, finish: str
) -> None:
    assert drain_stopped_while_waiting(running, signal.SIGINT) == EXIT_INTERRUPTED
    assert outcomes() == [("drain", "interrupted")]

    done = run_cli(running, finish, "--yes")
    assert done.returncode == 0, done.stderr
    if finish == "resume":
        assert quota(running) == RECORDED and health_quota(running) == RECORDED
        assert read_drain_record(MEMBER) is None
    else:
        assert quota(running) == 0 and health_quota(running) == 0
        record = read_drain_record(MEMBER)
        assert record is not None and record.previous_quota == RECORDED
