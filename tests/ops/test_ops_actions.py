"""Incident actions against the simulated member, through the real CLI where the
operator would use it: drain/resume, read-only, audit records, kill by repo, dind."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import yaml

from binderctl.demo.kube import types
from binderctl.demo.member import naming
from binderctl.errors import BinderctlError, RefusedError
from binderctl.services import audit
from binderctl.services.actions import ActionRunner, Operations
from binderctl.services.binderhub import set_launch_quota
from binderctl.services.cluster import collect
from binderctl.services.kube import NODES, Kube
from binderctl.services.repos import repo_matches
from binderctl.services.rotation import drain_record_path, write_drain_record
from tests.kit.cli import run_cli, run_on_terminal
from tests.kit.waiting import wait_for
from tests.ops.ops_world import OpsWorld


def chart_quota(world: OpsWorld) -> int | None:
    chart = world.on_loop(lambda: world.store.get(types.HELMCHARTS, "kube-system", "binderhub"))
    return yaml.safe_load(chart["spec"]["valuesContent"])["config"]["LaunchQuota"]["total_quota"]


def cordoned(world: OpsWorld) -> bool:
    node = world.on_loop(lambda: world.store.get(types.NODES, None, "demo"))
    return bool(node["spec"].get("unschedulable"))


def records(world: OpsWorld) -> list[audit.AuditRecord]:
    return audit.read(world.member.name)


def status(world: OpsWorld) -> dict:
    result = run_cli(world, "status", "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("quota", [77, None])
def test_drain_then_resume_restores_quota_and_schedulability(
    make_world: Callable[..., OpsWorld], quota: int | None
) -> None:
    world = make_world(sessions=10, speed=20.0, quota=quota, cull_timeout=86400.0)
    assert chart_quota(world) == quota and not cordoned(world)

    drained = run_cli(world, "drain", "--yes")
    assert drained.returncode == 0, drained.stderr
    assert chart_quota(world) == 0 and not cordoned(world)
    record = drain_record_path(world.member.name)
    assert record.stat().st_mode & 0o777 == 0o600
    rotation = status(world)["rotation"]
    assert rotation["in_rotation"] is False and rotation["drain_recorded"] is True
    assert rotation["previous_quota"] == quota and rotation["problem"] is None

    resumed = run_cli(world, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert chart_quota(world) == quota and not cordoned(world)
    assert not record.exists()
    assert status(world)["rotation"]["in_rotation"] is (quota != 0)
    assert [(r.action, r.outcome) for r in records(world)] == [("drain", "ok"), ("resume", "ok")]


def test_a_node_cordoned_by_an_older_drain_is_reported_and_uncordoned(
    make_world: Callable[..., OpsWorld],
) -> None:
    world = make_world(sessions=5, speed=20.0, quota=42, cull_timeout=86400.0)
    # what binderctl's drain left before it stopped cordoning: record, quota 0, cordon
    write_drain_record(world.member.name, 42, "someone")
    with Kube(world.member) as kube:
        set_launch_quota(kube, 0)
        kube.patch(NODES, "demo", {"spec": {"unschedulable": True}})
    report = run_cli(world, "status")
    assert report.returncode == 0
    assert "install job and new binder, hub or proxy pods stay Pending" in " ".join(
        report.stdout.split()
    )
    assert status(world)["rotation"]["problem"]

    again = run_cli(world, "drain", "--yes")  # uncordons, keeps the recorded quota
    assert again.returncode == 0, again.stderr
    assert not cordoned(world) and chart_quota(world) == 0
    assert status(world)["rotation"]["problem"] is None
    assert run_cli(world, "resume", "--yes").returncode == 0
    assert chart_quota(world) == 42 and not cordoned(world)


ACTIONS = [
    ["drain", "--wait", "--force-after", "1s"],
    ["resume"],
    ["restart", "hub"],
    ["restart", "proxy"],
    ["restart", "dind"],
    ["rollback", "hub"],
    ["kill-session", "jupyter-anyone"],
    ["kill-session", "--repo", "https://github.com/binder-examples/requirements"],
    ["kill-session", "--older-than", "1m"],
    ["delete-builds"],
    ["prune-images"],
    ["reboot"],
    ["reboot", "--hard"],
    ["renew-certs"],
]


def test_readonly_refuses_every_action(world: OpsWorld) -> None:
    sessions_before = {p["metadata"]["uid"] for p in world.pods("singleuser-server")}
    for args in ACTIONS:
        result = run_cli(world, *args, "--readonly", "--yes")  # the flag after the subcommand
        assert result.returncode == 3, (args, result.stdout, result.stderr)
        assert "read-only mode: refused" in result.stderr
        assert "Traceback" not in result.stderr
    before = run_cli(world, "--readonly", "drain", "--yes")  # and before it
    assert before.returncode == 3 and "read-only" in before.stderr
    refused = records(world)
    assert len(refused) == len(ACTIONS) + 1
    assert {r.outcome for r in refused} == {"refused"}
    assert chart_quota(world) == 100 and not cordoned(world)
    assert {p["metadata"]["uid"] for p in world.pods("singleuser-server")} >= sessions_before


def test_readonly_from_the_config(world: OpsWorld) -> None:
    text = world.config_path.read_text()
    world.config_path.write_text(text + "readonly = true\n")
    result = run_cli(world, "restart", "binder", "--yes")
    assert result.returncode == 3 and "read-only" in result.stderr
    assert [r.outcome for r in records(world)] == ["refused"]


def test_every_action_leaves_one_audit_record(world: OpsWorld) -> None:
    member = world.member
    yes = ActionRunner(member, readonly=False, confirm=lambda action, prepared: True)
    no = ActionRunner(member, readonly=False, confirm=lambda action, prepared: False)
    ops = Operations(member)

    yes.run(ops.restart("binder"))
    with pytest.raises(RefusedError, match="not confirmed"):
        no.run(ops.restart("hub"))
    with pytest.raises(BinderctlError, match="no running session matches"):
        yes.run(ops.kill_sessions(names=["jupyter-nobody-here"]))
    with pytest.raises(RefusedError, match="read-only"):
        ActionRunner(member, readonly=True, confirm=lambda a, p: True).run(ops.resume())
    piped = run_cli(world, "restart", "proxy")  # no terminal to ask on, no --yes
    assert piped.returncode == 3 and "--yes" in piped.stderr

    seen = [(r.action, r.target, r.outcome) for r in records(world)]
    assert seen == [
        ("restart", "binder", "ok"),
        ("restart", "hub", "refused"),
        ("kill-session", "session jupyter-nobody-here", "failed"),
        ("resume", f"member {member.name}", "refused"),
        ("restart", "proxy", "refused"),
    ]
    path = audit.audit_path(member.name)
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_text().splitlines()) == 5
    shown = run_cli(world, "audit", "-o", "json")
    assert [r["outcome"] for r in json.loads(shown.stdout)] == [s[2] for s in seen]


def test_kill_sessions_of_a_repo_kills_exactly_those(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=40, speed=1.0)
    with Kube(world.member) as kube:
        sessions = collect(kube, world.member, ("pods",)).sessions
    by_repo: dict[str, list[str]] = {}
    for session in sessions.values():
        by_repo.setdefault(session.repo, []).append(session.pod)
    repo, victims = max(by_repo.items(), key=lambda item: len(item[1]))
    assert len(victims) >= 2
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in world.pods("singleuser-server")}

    result = run_cli(world, "kill-session", "--repo", repo, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"killed {len(victims)} session(s)" in result.stdout

    after = {p["metadata"]["name"]: p for p in world.pods("singleuser-server")}
    for name in victims:
        assert name not in after or after[name]["metadata"].get("deletionTimestamp")
    survivors = set(before) - set(victims)
    assert survivors and all(after[name]["metadata"]["uid"] == before[name] for name in survivors)
    assert not any(after[name]["metadata"].get("deletionTimestamp") for name in survivors)
    assert all(not repo_matches(repo, sessions[f"binderhub/{n}"].repo) for n in survivors)
    (record,) = records(world)
    assert record.parameters == {"repo": repo} and record.outcome == "ok"


def test_kill_session_refuses_a_pod_that_is_not_a_session(world: OpsWorld) -> None:
    hub = next(p["metadata"]["name"] for p in world.pods("hub"))
    result = run_cli(world, "kill-session", hub, "--yes")
    assert result.returncode == 1
    assert "is not a session" in result.stderr
    assert any(p["metadata"]["name"] == hub for p in world.pods("hub"))


def start_hung_build(world: OpsWorld) -> str:
    sim = world.sim

    def start() -> str:
        launch = sim.hub.catalog.pick()
        image = naming.image_name(sim.settings.image_prefix, launch.repo.build_slug, launch.ref)
        sim.builds.request(launch, image, lambda ok: None)
        name = naming.build_name(launch.repo.build_slug, launch.ref)
        sim.builds.builds[name].outcome = "hang"
        return name

    return world.on_loop(start)


def test_a_hung_build_is_freed_by_recycling_dind(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=5, speed=300.0)
    name = start_hung_build(world)
    sim = world.sim
    wait_for(lambda: world.on_loop(lambda: bool(sim.builds.builds.get(name) and
                                                sim.builds.builds[name].hung)))  # fmt: skip
    built_before = world.on_loop(lambda: sim.builds.succeeded)

    listed = run_cli(world, "builds", "--stuck-after", "0s", "-o", "json")
    (stuck,) = [b for b in json.loads(listed.stdout) if b["pod"] == name]
    assert stuck["stuck"] is True and stuck["phase"] == "Running"

    result = run_cli(world, "restart-dind", "--yes")  # the catalogue's alias of `restart dind`
    assert result.returncode == 0, result.stderr
    assert "dind pod(s)" in result.stdout
    (record,) = records(world)
    assert (record.action, record.target, record.outcome) == ("restart", "dind", "ok")
    assert record.targets and set(record.targets.values()) == {"deleted"}
    wait_for(lambda: all(p["metadata"]["name"] != name for p in world.pods("binderhub-build")))
    assert world.on_loop(lambda: sim.builds.succeeded) == built_before + 1
    wait_for(lambda: any(p["status"].get("phase") == "Running"
                         for p in world.pods("image-builder")))  # fmt: skip


def test_delete_stuck_builds(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=5, speed=300.0)
    name = start_hung_build(world)
    wait_for(lambda: any(p["metadata"]["name"] == name and p["status"].get("phase") == "Running"
                         for p in world.pods("binderhub-build")))  # fmt: skip
    result = run_cli(world, "delete-builds", "--stuck", "--stuck-after", "0s", "--yes")
    assert result.returncode == 0, result.stderr
    pods = {p["metadata"]["name"]: p for p in world.pods("binderhub-build")}
    assert name not in pods or pods[name]["metadata"].get("deletionTimestamp")
    nothing = run_cli(world, "delete-builds", "--failed", "--yes")
    assert nothing.returncode == 1 and "no failed builds" in nothing.stderr


def test_rollout_restart_replaces_the_pod(world: OpsWorld) -> None:
    old = {p["metadata"]["name"] for p in world.pods("proxy")}
    result = run_cli(world, "restart", "proxy", "--yes")
    assert result.returncode == 0, result.stderr
    deployment = world.on_loop(lambda: world.store.get(types.DEPLOYMENTS, "binderhub", "proxy"))
    annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    wait_for(lambda: {p["metadata"]["name"] for p in world.pods("proxy")} - old)


def test_drain_force_evicts_what_remains(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=8, speed=20.0, cull_timeout=86400.0)
    result = run_cli(world, "drain", "--force-after", "0s", "--yes")
    assert result.returncode == 0, result.stderr
    assert "evicted 8 remaining session(s)" in result.stdout
    left = world.pods("singleuser-server")
    assert all(p["metadata"].get("deletionTimestamp") for p in left)
    (record,) = records(world)
    assert record.parameters["force_after"] == 0 and record.outcome == "ok"


@pytest.mark.parametrize(("answer", "code"), [("n\n", 3), ("\n", 3), ("y\n", 0)])
def test_terminal_prompt_defaults_to_no(world: OpsWorld, answer: str, code: int) -> None:
    result = run_on_terminal(world, answer, "restart", "binder")  # binderctl asks
    assert result.returncode == code, result.stderr
    assert "The site blinks while binder restarts" in result.stderr  # the blast radius
    assert "Go ahead? [y/N]" in result.stderr
    (record,) = records(world)
    assert record.outcome == ("ok" if code == 0 else "refused")
