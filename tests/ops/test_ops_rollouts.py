"""Rollouts that tell the truth, made the way an operator meets them: a bad image set with
the real kubectl, a node cordoned through the API. Components show how far a rollout
is and why it is stuck; restart and rollback wait for it and fail with the reason."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable

import pytest

from binderctl.demo.kube import types
from binderctl.services import audit
from binderctl.services.kube import NODES, Kube
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.kube.kube_kubectl import needs_kubectl
from tests.ops.ops_world import OpsWorld

NAMESPACE = "binderhub"
NOPE = "9.9.9-nope"


def kubectl(world: OpsWorld, *args: str) -> subprocess.CompletedProcess[str]:
    home = world.home / "kubectl-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "KUBECONFIG": str(world.kubeconfig), "HOME": str(home)}
    done = subprocess.run(
        ["kubectl", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done


def status(world: OpsWorld) -> dict:
    done = run_cli(world, "status", "-o", "json")
    assert done.returncode in (0, 1), done.stderr  # 1: an error-level item stands
    return json.loads(done.stdout)


def template_image(world: OpsWorld, name: str) -> str:
    deployment = world.on_loop(lambda: world.store.get(types.DEPLOYMENTS, NAMESPACE, name))
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def set_bad_image(world: OpsWorld, name: str, container: str) -> tuple[str, str]:
    """``kubectl set image`` to a tag that does not exist: (the good image, the bad)."""
    good = template_image(world, name)
    bad = f"{good.rsplit(':', 1)[0]}:{NOPE}"
    kubectl(world, "set", "image", f"deployment/{name}", f"{container}={bad}", "-n", NAMESPACE)
    return good, bad


def stuck(world: OpsWorld, name: str, reason: str = "ImagePullBackOff") -> dict:
    """``status -o json`` once it names ``name``'s rollout stuck for ``reason``."""

    def named() -> dict | None:
        report = status(world)
        problem = report["components"][name]["problem"]
        return report if problem and problem["reason"] == reason else None

    return wait_for(named, what=f"{name} stuck with {reason}")


def cordon(world: OpsWorld) -> None:
    with Kube(world.member) as kube:
        kube.patch(NODES, "demo", {"spec": {"unschedulable": True}})


@pytest.fixture
def world(make_world: Callable[..., OpsWorld]) -> OpsWorld:
    return make_world(sessions=3, speed=20.0, cull_timeout=86400.0)


@needs_kubectl
def test_a_bad_image_reads_as_a_stuck_rollout_not_a_healthy_component(world: OpsWorld) -> None:
    good, bad = set_bad_image(world, "binder", "binder")
    report = stuck(world, "binder")
    binder = report["components"]["binder"]
    assert binder["image"] == bad  # the template's
    assert binder["running_images"] == [good]  # what the old pod, still Ready, runs
    # as kubectl counts them: the new pod is "updated", the old one is the ready one
    assert (binder["ready"], binder["updated"], binder["desired"]) == (1, 1, 1)
    assert binder["rollout_waiting_for"] == "1 old pod(s) pending termination"
    assert binder["problem"]["image"] == bad
    (item,) = [i for i in report["attention"] if i["kind"] == "rollout-stuck"]
    assert item["severity"] == "warning"  # the old pod still serves
    assert (item["action"], item["target"]) == ("rollback", "binder")
    assert f"cannot pull {bad}" in item["text"]
    assert "1/1 old pod(s) still serve k8s-binderhub" in item["text"]
    text = run_cli(world, "status").stdout
    assert "binder 1/1 (rollout stuck: ImagePullBackOff)" in text


@needs_kubectl
def test_restart_cannot_help_a_bad_image_and_says_so(world: OpsWorld) -> None:
    bad = set_bad_image(world, "binder", "binder")[1]
    stuck(world, "binder")
    done = run_cli(world, "restart", "binder", "--yes")
    assert done.returncode == 1, done.stdout
    assert "warning: pod binder-" in done.stderr  # said before it restarted
    assert "restarting cannot help while the template names this image" in done.stderr
    assert "the restart of binder cannot finish: the new binder pod binder-" in done.stderr
    assert f"cannot pull {bad} (ImagePullBackOff" in done.stderr
    assert "`binderctl rollback binder` returns to the previous revision" in done.stderr
    assert "Traceback" not in done.stderr
    (record,) = audit.read(world.member.name)
    assert (record.action, record.outcome) == ("restart", "failed")


@needs_kubectl
def test_rollback_returns_to_the_previous_template_as_kubectl_rollout_undo(
    world: OpsWorld,
) -> None:
    good = set_bad_image(world, "hub", "hub")[0]
    report = stuck(world, "hub")
    (item,) = [i for i in report["attention"] if i["kind"] == "rollout-stuck"]
    assert item["severity"] == "error"  # Recreate: the old hub went first, none serves
    assert "no hub pod is ready: no session can start" in item["text"]

    done = run_cli(world, "rollback", "hub", "--yes")
    assert done.returncode == 0, done.stderr
    assert "rolled back hub to the template of revision 1" in done.stdout
    assert "deployment binderhub/hub rolled out: 1/1 pods updated, 1 available" in done.stdout
    assert template_image(world, "hub") == good
    history = kubectl(world, "rollout", "history", "deployment/hub", "-n", NAMESPACE).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    report = status(world)
    assert report["components"]["hub"]["problem"] is None
    assert report["components"]["hub"]["running_images"] == [good]
    assert "rollout-stuck" not in {i["kind"] for i in report["attention"]}
    (record,) = audit.read(world.member.name)
    assert (record.action, record.target, record.outcome) == ("rollback", "hub", "ok")

    again = run_cli(world, "rollback", "hub", "--yes")  # back to revision 2: the bad image
    assert again.returncode == 1
    assert "the rollback of hub cannot finish" in again.stderr and NOPE in again.stderr


def test_rollback_without_history_says_so(world: OpsWorld) -> None:
    done = run_cli(world, "rollback", "proxy", "--yes")
    assert done.returncode == 1
    assert 'no rollout history found for deployment "proxy"' in done.stderr
    refused = run_cli(world, "rollback", "dind", "--yes")
    assert refused.returncode == 2 and "invalid choice: 'dind'" in refused.stderr


def test_a_restart_on_a_cordoned_node_fails_with_the_reason(world: OpsWorld) -> None:
    cordon(world)
    old = {p["metadata"]["name"] for p in world.pods("proxy")}
    done = run_cli(world, "restart", "proxy", "--yes")
    assert done.returncode == 1, done.stdout
    assert "warning: node demo is cordoned: the new proxy pod will stay Pending" in done.stderr
    assert "the restart of proxy cannot finish: the new proxy pod proxy-" in done.stderr
    assert "is Pending: the node is cordoned (Unschedulable: 0/1 nodes are available: " in (
        done.stderr
    )
    assert "`binderctl resume` uncordons it" in done.stderr
    report = status(world)
    (item,) = [i for i in report["attention"] if i["kind"] == "rollout-stuck"]
    assert (item["action"], item["target"]) == ("resume", "proxy")

    assert run_cli(world, "resume", "--yes").returncode == 0  # uncordons: the restart goes on
    wait_for(lambda: {p["metadata"]["name"] for p in world.pods("proxy")}.isdisjoint(old))


def test_restart_waits_for_the_new_pod(world: OpsWorld) -> None:
    old = {p["metadata"]["name"] for p in world.pods("proxy")}
    done = run_cli(world, "restart", "proxy", "--yes")
    assert done.returncode == 0, done.stderr
    assert "rollout restart of deployment binderhub/proxy started" in done.stderr
    assert "deployment binderhub/proxy rolled out: 1/1 pods updated, 1 available" in done.stdout
    ready = [
        p
        for p in world.pods("proxy")
        if not p["metadata"].get("deletionTimestamp")
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])
    ]
    assert ready and not {p["metadata"]["name"] for p in ready} & old
