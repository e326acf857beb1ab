"""A run stopped at any step (Ctrl-C, or a failure where the step cannot be held) and
then resumed finishes the member, with exactly one of each Hetzner resource.

Each case brings the world to where its step starts (in-process, for late steps), arms
a fault that holds the step, sends SIGINT to the real ``binderctl --provision`` once
provision.json says the step is running, releases the fault and runs it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from binderctl.demo.hetzner.events import ServerEvent, ServerInfo
from binderctl.demo.member.charts import CHP_IMAGE
from binderctl.demo.node import NodeFaults
from binderctl.demo.node.k3s import K3S_YAML
from binderctl.demo.world import DemoWorld
from binderctl.errors import EXIT_FAILED, EXIT_INTERRUPTED
from tests.kit.cli import interrupt_cli, run_cli
from tests.kit.worlds import ONE_OF_EACH, labelled
from tests.provision.provisionkit import (
    HEALTHY,
    STEP_NAMES,
    assert_clean,
    provision_through,
    recorded,
    the_node,
)

HOLD = 600.0  # an armed Hetzner fault holds its answer this long: SIGINT comes first
K3S_HOLD = 4.0  # a k3s start cannot be released early, only waited out
KUBE_LATENCY = 0.5  # seconds added to each Kubernetes API request while charts are held


def _nothing() -> None:
    return None


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Hold:
    release: Callable[[], None] = _nothing  # lets the step go on
    reached: Callable[[], bool] = _always  # the step is inside what is held


Arm = Callable[[DemoWorld], Hold]


@dataclass(frozen=True)
class Case:
    arm: Arm  # holds the step (or makes it fail)
    before: str | None = None  # run the pipeline in-process through this step first
    fails: str | None = None  # the step fails with this message instead of being held


def hetzner_held(method: str, path: str) -> Arm:
    """The first such request takes effect, and its answer is held back."""

    def arm(world: DemoWorld) -> Hold:
        failure = world.hetzner.faults.fail(method, path, delay=HOLD, status=None, after=True)
        return Hold(reached=lambda: failure.seen > 0)

    return arm


def on_new_node(world: DemoWorld, change: Callable[[NodeFaults], None]) -> None:
    """Change the faults of the node the next server becomes, before it boots."""

    async def hook(server: ServerInfo) -> None:
        assert world.fleet is not None
        change(world.fleet.nodes[server.id].faults)

    world.hetzner.hooks.add(ServerEvent.RUNNING, hook)


def ssh_dropped(world: DemoWorld) -> Hold:
    on_new_node(world, lambda faults: setattr(faults, "drop_new_connections", 10**9))
    return Hold(release=lambda: setattr(the_node(world).faults, "drop_new_connections", 0))


def k3s_slow(world: DemoWorld) -> Hold:
    on_new_node(world, lambda faults: setattr(faults, "k3s_start_delay", K3S_HOLD))
    return Hold()


def k3s_yaml_missing(world: DemoWorld) -> Hold:
    node = the_node(world)
    kept = node.fs.get(K3S_YAML)
    assert kept is not None
    node.fs.remove(K3S_YAML)
    return Hold(release=lambda: node.fs.write(K3S_YAML, kept.content, mode=kept.mode))


def kube_slow(world: DemoWorld) -> Hold:
    faults = world.cluster().server.faults
    faults.latency = KUBE_LATENCY
    return Hold(release=lambda: setattr(faults, "latency", 0.0))


def proxy_image_missing(world: DemoWorld) -> Hold:
    faults = world.cluster().member.faults
    faults.unpullable_images.add(CHP_IMAGE)
    return Hold(release=lambda: faults.unpullable_images.discard(CHP_IMAGE))


def registry_down(world: DemoWorld) -> Hold:
    faults = world.cluster().member.faults
    faults.registry_down = True
    return Hold(release=lambda: setattr(faults, "registry_down", False))


def dns_unset(world: DemoWorld) -> Hold:
    world.dns.follow_primary_ip = False
    return Hold(release=lambda: setattr(world.dns, "follow_primary_ip", True))


CASES = {
    "check": Case(hetzner_held("GET", "/server_types")),
    "ssh-key": Case(hetzner_held("POST", "/ssh_keys")),
    "firewall": Case(hetzner_held("POST", "/firewalls")),
    "primary-ip": Case(hetzner_held("POST", "/primary_ips")),
    "dns": Case(dns_unset),
    "server": Case(hetzner_held("POST", "/servers")),
    "ssh": Case(ssh_dropped),
    "k3s": Case(k3s_slow),
    "kubeconfig": Case(k3s_yaml_missing, before="k3s", fails=f"cannot read {K3S_YAML} on 127."),
    "charts": Case(kube_slow, before="kubeconfig"),
    "rollout": Case(proxy_image_missing, before="kubeconfig"),
    "health": Case(registry_down, before="rollout"),
}


def interrupt_at(world: DemoWorld, step: str, hold: Hold) -> None:
    """Start ``binderctl --provision`` and Ctrl-C it while ``step`` is held."""
    code, stderr = interrupt_cli(
        world,
        ("--provision", "--yes"),
        lambda: recorded(world).get(step, {}).get("state") == "running" and hold.reached(),
        f"step {step}",
    )
    assert code == EXIT_INTERRUPTED, stderr
    assert "binderctl: interrupted" in stderr
    assert_clean(world, stderr)


def test_every_step_has_a_case() -> None:
    assert list(CASES) == STEP_NAMES


@pytest.mark.parametrize("step", STEP_NAMES)
def test_stopped_at_a_step_then_resumed(step: str, world: DemoWorld) -> None:
    case = CASES[step]
    if case.before is not None:
        provision_through(world, case.before)
    hold = case.arm(world)
    if case.fails is None:
        interrupt_at(world, step, hold)
        assert recorded(world)[step]["state"] == "interrupted"
    else:
        failed = run_cli(world, "--provision", "--yes")
        assert failed.returncode == EXIT_FAILED, failed.stderr
        assert case.fails in failed.stderr
        assert_clean(world, failed.stderr)
        assert recorded(world)[step]["state"] == "failed"
    hold.release()
    finished = run_cli(world, "--provision", "--yes", "-o", "json")
    assert finished.returncode == 0, finished.stderr
    assert_clean(world, finished.stdout, finished.stderr)
    summary = json.loads(finished.stdout)
    assert summary["health"] == HEALTHY
    steps = {s["step"]: s for s in summary["steps"]}
    assert {s["state"] for s in steps.values()} == {"done"}
    earlier = STEP_NAMES[: STEP_NAMES.index(step)]
    assert [name for name in earlier if not steps[name]["verified"]] == []
    assert not steps[step]["verified"]
    assert labelled(world) == ONE_OF_EACH
