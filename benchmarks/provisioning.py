"""6. Provisioning overhead: ``binderctl --provision --demo`` wall time against the sum
of the waits its demo world's emulators impose.

The figure is the whole command, from spawn to exit: Python starting, the in-process
demo world starting, every pipeline step. The baseline is computed from a world made
exactly as that command makes it (``in_process_world`` at ``PROVISION_DEMO_SPEED``),
by asking its emulators what they make a client wait for:

- the Hetzner emulator: how long its actions run (``faults.action_seconds`` per action,
  overlapping ones counted once) for the actions the pipeline's Hetzner steps start;
- the simulated node: its ``NodeTimings`` (boot, cloud-init, k3s start);
- the cluster: how much simulated time passes, at the world's speed, from the charts
  being applied (by the pipeline's own ``charts.apply_charts``) until
  ``rollout.readiness`` is done. The member's clock is stopped and its timeline run
  from one due timer to the next (helm-controller jobs, image pulls, container starts,
  readiness), so the figure is the simulation's own, with no client delay in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from benchmarks.measure import Row, Target, timed_run
from benchmarks.suite import BINDERCTL, Suite
from binderctl.config import load_config
from binderctl.demo import PROVISION_DEMO_SPEED
from binderctl.demo.member.simulation import Member
from binderctl.demo.world import MEMBER, in_process_world
from binderctl.services import charts, provision, rollout
from binderctl.services.hetzner import HetznerService
from binderctl.services.kube import Kube

NAME = "provisioning"
SETTLE_ROUNDS = 50  # loop turns for the control plane after each timer, before a check
UP_TO = "kubeconfig"  # the steps before the charts


def union_seconds(spans: Iterable[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


async def _next_timer(member: Member) -> None:
    due = member.timeline.next_due()
    if due is None:
        raise RuntimeError("the simulation has nothing left to do and is not ready")
    member.advance(due - member.timeline.now)
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)


async def _freeze(member: Member) -> None:
    await member.stop()


def emulator_waits() -> dict[str, float]:
    """Seconds each emulator of a ``binderctl --provision --demo`` world makes it wait."""
    with in_process_world(speed=PROVISION_DEMO_SPEED) as world:
        runtime = world.runtime
        assert runtime is not None and world.fleet is not None
        member = load_config(world.config_path).member(MEMBER)
        steps = [step.name for step in provision.STEPS]
        before_charts = provision.STEPS[: steps.index(UP_TO) + 1]
        provision.provision(
            member, HetznerService.for_member(member), lambda _: None, before_charts
        )
        actions = world.hetzner.project.actions.values()
        timings = world.fleet.timings
        cluster = world.cluster()
        runtime.run(_freeze(cluster.member))
        timeline = cluster.member.timeline
        with Kube(member) as kube:
            charts.apply_charts(kube, member)
            started = timeline.now
            while not rollout.readiness(kube, member).done:
                runtime.run(_next_timer(cluster.member))
        return {
            "Hetzner actions": union_seconds((a.started, a.started + a.duration) for a in actions),
            "node boot, cloud-init, k3s start": timings.boot
            + timings.cloud_init
            + timings.k3s_start,
            "chart installs and pod starts": (timeline.now - started) / cluster.settings.speed,
        }


def run(suite: Suite) -> list[Row]:
    row = Row(
        NAME,
        "provisioning",
        "binderctl --provision --demo",
        "the emulators' waits",
        "s",
        Target(1.1, 2.0),
    )
    waits = emulator_waits()
    row.notes.append(
        "the waits: " + ", ".join(f"{what} {seconds:.2f} s" for what, seconds in waits.items())
    )
    for _ in range(suite.repeats(3, 1)):
        figure = timed_run([BINDERCTL, "--provision", "--demo"], suite.base_env)
        row.add(figure, sum(waits.values()))
    return [row]
