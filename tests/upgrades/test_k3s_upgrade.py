"""`binderctl upgrade k3s` on the demo, through the real CLI: the plan shows k3s behind,
a dry run changes nothing, a run stopped at every step resumes to the end with each
step done once, and a failure leaves the member drained with a way back.

The demo member runs k3s v1.35.3+k3s1, a minor behind the emulated stable channel
(v1.36.3+k3s1); the upgrade goes through the emulated system-upgrade-controller, whose
Job replaces the node's k3s binary and restarts k3s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from binderctl.demo.world import DEMO_K3S_VERSION, DemoWorld
from binderctl.errors import EXIT_FAILED
from binderctl.services import system_upgrade, upgrade_k3s
from tests.kit.cli import run_cli
from tests.kit.worlds import HAS_KUBECTL, QUICK, kubectl, on_loop
from tests.upgrades.upgradekit import (
    audit,
    drain_recorded,
    interrupt,
    k3s_starts,
    node_version,
    recorded,
    step_state,
    the_node,
    upgrade_jobs,
)

STABLE = "v1.36.3+k3s1"
STEPS = [step.name for step in upgrade_k3s.STEPS]
FORCED = ("upgrade", "k3s", "--yes", "--force-after", "0s")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DemoWorld]:
    with DemoWorld(tmp_path / "demo", **QUICK) as world:
        world.provision()
        yield world


@dataclass(frozen=True)
class Hold:
    arm: Callable[[DemoWorld], None]  # makes the step wait
    release: Callable[[DemoWorld], None]
    reached: Callable[[DemoWorld], bool] = lambda world: True
    args: tuple[str, ...] = FORCED


def _faults(world: DemoWorld):  # type: ignore[no-untyped-def]  # the member's knobs
    return world.cluster().member.faults


def _sessions(world: DemoWorld) -> None:
    on_loop(world, world.cluster().member.add_sessions, 2)


HOLDS = {
    # the disk is read over SSH: the node answers slowly
    "check": Hold(
        lambda w: setattr(the_node(w).faults, "banner_delay", 5.0),
        lambda w: setattr(the_node(w).faults, "banner_delay", 0.0),
    ),
    # the controller's image cannot be pulled yet
    "prepare": Hold(
        lambda w: _faults(w).unpullable_images.add(system_upgrade.CONTROLLER_IMAGE),
        lambda w: _faults(w).unpullable_images.discard(system_upgrade.CONTROLLER_IMAGE),
    ),
    # sessions run and nothing evicts them
    "drain": Hold(_sessions, lambda w: None, args=("upgrade", "k3s", "--yes")),
    # k3s takes long to start again: the API is down
    "upgrade": Hold(
        lambda w: setattr(the_node(w).faults, "k3s_start_delay", 3.0),
        lambda w: setattr(the_node(w).faults, "k3s_start_delay", 0.0),
        reached=lambda w: the_node(w).k3s.state != "active",
    ),
    # BinderHub's /health fails
    "verify": Hold(
        lambda w: setattr(_faults(w), "registry_down", True),
        lambda w: setattr(_faults(w), "registry_down", False),
    ),
    # every Kubernetes API request is slow
    "resume": Hold(
        lambda w: setattr(w.cluster().server.faults, "latency", 0.5),
        lambda w: setattr(w.cluster().server.faults, "latency", 0.0),
    ),
}


def test_every_step_has_a_hold() -> None:
    assert list(HOLDS) == STEPS


def test_plan_dry_run_then_stopped_at_every_step_and_resumed(world: DemoWorld) -> None:
    planned = run_cli(world, "upgrade", "plan", "-o", "json")
    assert planned.returncode == 0, planned.stderr
    k3s = json.loads(planned.stdout)["components"][0]
    assert (k3s["running"]["version"], k3s["current"]["version"]) == (DEMO_K3S_VERSION, STABLE)
    assert (k3s["status"], k3s["action"]) == ("behind", "upgrade-k3s")

    dry = run_cli(world, "upgrade", "k3s", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert [line.split(":")[0] for line in dry.stdout.splitlines()[1:]] == [
        f"{n}. {name}" for n, name in enumerate(STEPS, 1)
    ]
    assert recorded(world) == {} and audit(world) == []
    assert node_version(world) == DEMO_K3S_VERSION

    for step in STEPS:
        hold = HOLDS[step]
        hold.arm(world)
        interrupt(world, hold.args, step, lambda hold=hold: hold.reached(world))
        assert step_state(world, step) == "interrupted"
        hold.release(world)
        earlier = recorded(world)["steps"]
        assert all(earlier[s]["state"] == "done" for s in STEPS[: STEPS.index(step)])

    finished = run_cli(world, *FORCED, "-o", "json")
    assert finished.returncode == 0, finished.stderr
    outcome = json.loads(finished.stdout)
    assert outcome["targets"] == {**{s: "verified" for s in STEPS[:-1]}, "resume": "done"}
    assert recorded(world)["finished"]
    # the node reports the new release, as kubectl sees it
    assert node_version(world) == STABLE
    if HAS_KUBECTL:
        info = "jsonpath={.items[0].status.nodeInfo.kubeletVersion}"
        assert kubectl(world, "get", "nodes", "-o", info) == STABLE
    # each step's work was done once: one Job, one k3s start from the new binary, one
    # audit record of each step's work (the others say "verified")
    assert len(upgrade_jobs(world)) == 1
    assert k3s_starts(world, STABLE) == 1
    done = [
        r["target"] for r in audit(world)
        if r["action"] == "upgrade-k3s" and r["target"].startswith("step ")
        and r["outcome"] == "ok" and not r["detail"].startswith("verified")
    ]  # fmt: skip
    assert sorted(done) == sorted(f"step {s}" for s in STEPS)
    assert not drain_recorded(world)  # resumed
    again = run_cli(world, "upgrade", "k3s", "--yes")
    assert again.returncode == 0 and "nothing to upgrade" in again.stdout, again.stderr


def test_a_failure_stops_drained_and_says_how_to_go_back(world: DemoWorld) -> None:
    # a release with no k3s-upgrade image: the upgrade step fails, k3s is untouched
    missing = run_cli(world, *FORCED, "--to", "v1.36.9+k3s1")
    assert missing.returncode == EXIT_FAILED, missing.stderr
    assert "cannot be pulled" in missing.stderr and "nothing to roll back" in missing.stderr
    assert step_state(world, "upgrade") == "failed"
    assert node_version(world) == DEMO_K3S_VERSION
    assert drain_recorded(world)  # stays drained
    # another target while k3s is untouched starts over; verify fails on /health
    _faults(world).registry_down = True
    failed = run_cli(world, *FORCED, "--to", STABLE, "--timeout", "5s")
    assert failed.returncode == EXIT_FAILED, failed.stderr
    assert "does not verify" in failed.stderr and "Docker registry" in failed.stderr
    assert "stays drained" in failed.stderr and "Rolling Back K3s" in failed.stderr
    assert step_state(world, "verify") == "failed" and step_state(world, "resume") is None
    assert node_version(world) == STABLE
    status = json.loads(run_cli(world, "status", "-o", "json").stdout)
    assert status["rotation"]["quota"] == 0
    # fixed: the same command verifies and resumes
    _faults(world).registry_down = False
    fixed = run_cli(world, *FORCED)
    assert fixed.returncode == 0, fixed.stderr
    assert step_state(world, "resume") == "done"
    assert not drain_recorded(world)
