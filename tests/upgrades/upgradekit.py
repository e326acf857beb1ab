"""What the upgrade tests share: a provisioned demo world, the run's state file, the
audit log, the node as the emulated cluster has it, and Ctrl-C at a step."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from binderctl.demo.kube import types
from binderctl.demo.node import SimulatedNode
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import EXIT_INTERRUPTED
from binderctl.services import system_upgrade
from binderctl.services.rotation import DRAIN_RECORD
from tests.kit.cli import interrupt_cli
from tests.kit.worlds import on_loop


def recorded(world: DemoWorld, kind: str = "k3s") -> dict[str, Any]:
    """The run's state file ({} before the first run)."""
    try:
        text = (world.home / "state" / MEMBER / f"upgrade-{kind}.json").read_text()
    except FileNotFoundError:
        return {}
    state: dict[str, Any] = json.loads(text)
    return state


def step_state(world: DemoWorld, step: str, kind: str = "k3s") -> str | None:
    return recorded(world, kind).get("steps", {}).get(step, {}).get("state")


def drain_recorded(world: DemoWorld) -> bool:
    """Whether the drain's record (the quota resume restores) is there."""
    return (world.home / "state" / MEMBER / DRAIN_RECORD).exists()


def audit(world: DemoWorld) -> list[dict[str, Any]]:
    path = world.home / "state" / MEMBER / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def the_node(world: DemoWorld) -> SimulatedNode:
    assert world.fleet is not None
    (node,) = world.fleet.nodes.values()
    return node


def node_version(world: DemoWorld) -> str:
    def read() -> str:
        (node,) = world.cluster().store.list(types.NODES)
        return str(node["status"]["nodeInfo"]["kubeletVersion"])

    return on_loop(world, read)


def k3s_starts(world: DemoWorld, version: str) -> int:
    """How often k3s started from ``version``'s binary on the node."""
    lines = the_node(world).journal.tail("k3s.service", 10_000)
    return sum(1 for line in lines if f"Starting k3s {version} " in line)


def upgrade_jobs(world: DemoWorld) -> list[str]:
    """The names of the Jobs the system-upgrade-controller was ever asked to make."""

    def read() -> list[str]:
        store = world.cluster().store
        events = store.list(types.EVENTS, system_upgrade.NAMESPACE)
        return sorted(
            {
                str(e["involvedObject"]["name"])
                for e in events
                if e["involvedObject"].get("kind") == "Job"
                and e.get("reason") == "SuccessfulCreate"
            }
        )

    return on_loop(world, read)


def interrupt(
    world: DemoWorld,
    args: tuple[str, ...],
    step: str,
    reached: Callable[[], bool],
    kind: str = "k3s",
) -> str:
    """Start ``binderctl ARGS`` and Ctrl-C it while ``step`` runs and ``reached`` holds;
    its stderr."""
    code, stderr = interrupt_cli(
        world, args, lambda: step_state(world, step, kind) == "running" and reached(), step
    )
    assert code == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    return stderr
