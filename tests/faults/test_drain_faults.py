"""Drain under faults, through the real CLI: an answer lost after the quota was set (the
drain is not run twice), and a drain killed or interrupted between setting the quota
and cordoning the node (``status`` reports it; ``drain`` finishes it; ``resume``
restores the quota recorded at drain time)."""

from __future__ import annotations

import json
import signal

import pytest
from faultworld import (
    cordoned,
    member_of,
    popen_cli,
    quota,
    record_quota_writes,
    run_cli,
    wait_for,
)

from binderctl.demo.kube.server import Drop
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import EXIT_FAILED, EXIT_INTERRUPTED
from binderctl.services import audit
from binderctl.services.binderhub import set_launch_quota
from binderctl.services.cluster import ClusterModel
from binderctl.services.kube import Kube
from binderctl.services.rotation import read_drain_record

QUOTA_PATCH = "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/binderhub"
CORDON_PATCH = r"/api/v1/nodes/[^/]+"
HALF_DRAINED = "a drain was interrupted between setting the quota to 0 and cordoning"
SETTLE = 20.0  # seconds for the live model to show what the cluster now holds
RECORDED = 77  # the quota before the drain: not the configured one, so resume must read it


def outcomes() -> list[tuple[str, str]]:
    return [(r.action, r.outcome) for r in audit.read(MEMBER)]


def rotation_problem(world: DemoWorld) -> str | None:
    report = run_cli(world, "status", "-o", "json")
    assert report.returncode == 0, report.stderr
    return json.loads(report.stdout)["rotation"]["problem"]


def test_a_drain_whose_answer_is_lost_is_not_run_twice(
    live: DemoWorld, model: ClusterModel
) -> None:
    before = quota(live)
    writes = record_quota_writes(live)
    drop = live.cluster().server.faults.drop("PATCH", QUOTA_PATCH)  # applied, answer lost

    lost = run_cli(live, "drain", "--yes")
    assert lost.returncode == EXIT_FAILED, lost.stderr
    assert "\nbinderctl: " in f"\n{lost.stderr}" and "Traceback" not in lost.stderr
    assert drop.seen == 1 and quota(live) == 0 and not cordoned(live)
    problem = wait_for(lambda: model.state().rotation.problem, SETTLE, "the model sees it")
    assert HALF_DRAINED in problem and HALF_DRAINED in (rotation_problem(live) or "")

    again = run_cli(live, "drain", "--yes")
    assert again.returncode == 0, again.stderr
    assert cordoned(live) and writes == [(before, 0)]  # the quota was written once
    record = read_drain_record(MEMBER)
    assert record is not None and record.previous_quota == before
    wait_for(lambda: not model.state().rotation.problem, SETTLE, "the model sees it done")
    assert outcomes() == [("drain", "failed"), ("drain", "ok")]

    resumed = run_cli(live, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert quota(live) == before and not cordoned(live)
    assert writes == [(before, 0), (0, before)]


def drain_stopped_before_the_cordon(world: DemoWorld, how: signal.Signals) -> int:
    """Run `binderctl drain`, hold its cordon request, and stop it there with ``how``."""
    with Kube(member_of(world)) as kube:
        set_launch_quota(kube, RECORDED)
    drop: Drop = world.cluster().server.faults.drop("PATCH", CORDON_PATCH, after=False, hold=60)
    process = popen_cli(world, "drain", "--yes")
    try:
        wait_for(lambda: drop.seen == 1, 60, "the drain reached the cordon")
        assert quota(world) == 0
        process.send_signal(how)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert not cordoned(world)
    record = read_drain_record(MEMBER)
    assert record is not None and record.previous_quota == RECORDED
    return process.returncode


def test_a_drain_killed_before_the_cordon_is_reported_then_finished(live: DemoWorld) -> None:
    assert drain_stopped_before_the_cordon(live, signal.SIGKILL) == -signal.SIGKILL
    report = run_cli(live, "status")
    assert report.returncode == 0 and HALF_DRAINED in " ".join(report.stdout.split())

    finished = run_cli(live, "drain", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert cordoned(live) and quota(live) == 0 and rotation_problem(live) is None
    resumed = run_cli(live, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert quota(live) == RECORDED and not cordoned(live)
    # the killed run's action is recorded as lost by the next action; resume used the
    # quota the drain record kept
    assert outcomes() == [("drain", "lost"), ("drain", "ok"), ("resume", "ok")]


@pytest.mark.parametrize("finish", ["resume", "drain"])
def test_a_drain_interrupted_before_the_cordon_is_recorded_and_can_be_undone_or_finished(
    live: DemoWorld, finish: str
) -> None:
    assert drain_stopped_before_the_cordon(live, signal.SIGINT) == EXIT_INTERRUPTED
    assert outcomes() == [("drain", "interrupted")]
    assert HALF_DRAINED in (rotation_problem(live) or "")

    done = run_cli(live, finish, "--yes")
    assert done.returncode == 0, done.stderr
    assert rotation_problem(live) is None
    if finish == "resume":
        assert quota(live) == RECORDED and not cordoned(live)
        assert read_drain_record(MEMBER) is None
    else:
        assert quota(live) == 0 and cordoned(live)
        record = read_drain_record(MEMBER)
        assert record is not None and record.previous_quota == RECORDED
