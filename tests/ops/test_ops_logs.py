"""Log streams from the emulator: tail, timestamps, follow across a rollout restart,
bounded memory, and the `binderctl logs` command."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from binderctl.demo.member import incidents
from binderctl.models import LogLine
from binderctl.services.actions import ActionRunner, Operations
from binderctl.services.kube import Kube
from binderctl.services.logs import LogOptions, LogStream, log_target
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.ops.ops_world import OpsWorld


def collect_lines(stream: LogStream, into: list[LogLine]) -> Callable[[], list[LogLine]]:
    def more() -> list[LogLine]:
        into.extend(stream.take(0.1))
        return into

    return more


def test_follow_survives_a_rollout_restart(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=5, speed=10.0, launches_per_minute=6.0)
    old_hub = {p["metadata"]["name"] for p in world.pods("hub")}
    lines: list[LogLine] = []
    with (
        Kube(world.member) as kube,
        LogStream(kube, log_target("hub"), LogOptions(follow=True, tail=5)) as stream,
    ):
        more = collect_lines(stream, lines)
        wait_for(lambda: any(line.pod in old_hub for line in more()))
        runner = ActionRunner(world.member, readonly=False, confirm=lambda a, p: True)
        runner.run(Operations(world.member).restart("hub"))
        wait_for(lambda: {line.pod for line in more()} - old_hub, timeout=30)
    new_pods = {line.pod for line in lines} - old_hub
    assert new_pods <= {p["metadata"]["name"] for p in world.pods("hub")}
    assert all(line.container == "hub" for line in lines)


def test_tail_and_timestamps(world: OpsWorld) -> None:
    binder = next(p["metadata"]["name"] for p in world.pods("binder"))
    marks = [f"marker line {n}" for n in range(5)]
    world.on_loop(lambda: [world.sim.logs.write("binderhub", binder, "binder", m) for m in marks])
    with Kube(world.member) as kube:
        lines = list(LogStream(kube, log_target("binder"), LogOptions(tail=3)))
    assert [line.text for line in lines] == marks[-3:]
    assert all(line.time.endswith("Z") and line.pod == binder for line in lines)


def test_a_slow_consumer_keeps_memory_bounded(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=2, speed=1.0)
    hub = next(p["metadata"]["name"] for p in world.pods("hub"))
    world.on_loop(lambda: world.sim.flood_logs("binderhub", hub, "hub", 20_000))
    with (
        Kube(world.member) as kube,
        LogStream(kube, log_target("hub"), LogOptions(follow=True, buffer=500)) as stream,
    ):
        wait_for(lambda: stream.dropped > 1000)  # nobody reads: old lines are let go
        assert len(stream.take(0)) <= 500


def test_logs_command(world: OpsWorld) -> None:
    binder = next(p["metadata"]["name"] for p in world.pods("binder"))
    marks = [f"marker \x1b[31mline\x1b[0m {n}" for n in range(5)]  # escapes shown inertly
    world.on_loop(lambda: [world.sim.logs.write("binderhub", binder, "binder", m) for m in marks])
    plain = run_cli(world, "logs", f"binderhub/{binder}", "--tail", "4")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines() == [f"marker ?[31mline?[0m {n}" for n in range(1, 5)]
    assert not plain.stdout.startswith("[")  # one pod, one container: no prefix
    prefixed = run_cli(world, "logs", "binder", "--tail", "2", "--timestamps", "-o", "json")
    assert prefixed.returncode == 0, prefixed.stderr
    documents = [json.loads(line) for line in prefixed.stdout.splitlines()]
    assert len(documents) == 2 and all(d["pod"] == binder and d["time"] for d in documents)
    missing = run_cli(world, "logs", "jupyter-nobody")
    assert missing.returncode == 1 and "no pod jupyter-nobody found" in missing.stderr
    bad = run_cli(world, "logs", "hub;rm -rf")
    assert bad.returncode == 2 and "not a log target" in bad.stderr
    nocontainer = run_cli(world, "logs", "hub", "-c", "nope")
    assert nocontainer.returncode == 1 and "no container named 'nope'" in nocontainer.stderr
    now = run_cli(world, "logs", "hub", "--since", "0s")  # the API refuses sinceSeconds=0
    assert now.returncode == 2 and "--since must be at least 1s" in now.stderr


def test_follow_resumes_a_dropped_stream_without_repeating(world: OpsWorld) -> None:
    binder = next(p["metadata"]["name"] for p in world.pods("binder"))

    def write(text: str) -> None:
        world.on_loop(lambda: world.sim.logs.write("binderhub", binder, "binder", text))

    lines: list[LogLine] = []
    world.loop.run(world.sim.stop())  # simulated time stands still: equal timestamps
    write("before the drop")
    with (
        Kube(world.member) as kube,
        LogStream(kube, log_target("binder"), LogOptions(follow=True)) as stream,
    ):
        more = collect_lines(stream, lines)
        wait_for(lambda: any(line.text == "before the drop" for line in more()))
        world.stack.server.faults.drop_watches()  # ends the log stream too
        write("after the drop")
        wait_for(lambda: any(line.text == "after the drop" for line in more()))
    texts = [line.text for line in lines]
    assert texts.count("before the drop") == 1 and texts.count("after the drop") == 1


def test_a_flood_without_a_rate_streams_every_line_in_order(
    make_world: Callable[..., OpsWorld],
) -> None:
    """Through the API server, a log flooded as fast as it is read comes whole and in
    order: the server holds a batch for the client instead of dropping or repeating
    lines (only the stream's own bounded buffer lets lines go, and counts them)."""
    world = make_world(sessions=2, speed=1.0)
    hub = next(p["metadata"]["name"] for p in world.pods("hub"))
    world.on_loop(lambda: world.sim.flood_logs("binderhub", hub, "hub", None))
    lines: list[LogLine] = []
    with (
        Kube(world.member) as kube,
        LogStream(kube, log_target("hub"), LogOptions(follow=True, tail=0)) as stream,
    ):
        more = collect_lines(stream, lines)
        wait_for(lambda: len(more()) >= 30_000, timeout=60)
    numbers = [int(line.text.split()[2]) for line in lines if line.text.startswith("flood line")]
    assert len(numbers) >= 30_000
    assert all(a < b for a, b in pairwise(numbers))
    assert numbers[-1] - numbers[0] + 1 - len(numbers) <= stream.dropped  # gaps: only its own


def crash(world: OpsWorld, binder: str, last_words: str) -> None:
    """The binder container logs ``last_words`` and exits 1 (the kubelet restarts it)."""

    def end() -> None:
        world.sim.logs.write("binderhub", binder, "binder", last_words)
        run = world.sim.kubelet.run_of("binderhub", binder)
        assert run is not None
        world.sim.kubelet.finish(run, 1)

    world.on_loop(end)


def binder_status(world: OpsWorld, binder: str) -> dict[str, Any]:
    (pod,) = [p for p in world.pods("binder") if p["metadata"]["name"] == binder]
    (status,) = pod["status"]["containerStatuses"]
    return dict(status)


def test_previous_logs_after_a_restart(make_world: Callable[..., OpsWorld]) -> None:
    """`--previous` is the real API's previous=true: refused with the kubelet's message
    while the container has not ended, the ended instance's lines after a restart."""
    world = make_world(sessions=1, speed=60.0)
    binder = next(p["metadata"]["name"] for p in world.pods("binder"))
    target = f"binderhub/{binder}"
    none = run_cli(world, "logs", target, "--previous")
    assert none.returncode == 1
    assert f'previous terminated container "binder" in pod "{binder}" not found' in none.stderr

    def restarted() -> bool:
        status = binder_status(world, binder)
        return status["restartCount"] == 1 and "running" in status["state"]

    crash(world, binder, "the last words before the crash")
    wait_for(restarted, what="binder restarted after its crash")
    previous = run_cli(world, "logs", target, "--previous")
    assert previous.returncode == 0, previous.stderr
    assert previous.stdout.splitlines()[-1] == "the last words before the crash"
    current = run_cli(world, "logs", target)
    assert "the last words before the crash" not in current.stdout


def test_a_crash_looping_container_serves_its_ended_instance(
    make_world: Callable[..., OpsWorld],
) -> None:
    """While a container waits to restart (CrashLoopBackOff) the kubelet serves its
    ended instance, asked for with or without previous (validateContainerLogStatus): the
    lines that tell why it crashed must not read as an empty log."""
    world = make_world(sessions=1, speed=1.0)
    binder = next(p["metadata"]["name"] for p in world.pods("binder"))
    target = f"binderhub/{binder}"

    def backing_off() -> bool:
        waiting = binder_status(world, binder)["state"].get("waiting", {})
        return waiting.get("reason") == "CrashLoopBackOff"

    crash(world, binder, "why it crashed")
    wait_for(backing_off, what="binder waiting to restart")
    for extra in ((), ("--previous",)):
        shown = run_cli(world, "logs", target, *extra)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.splitlines()[-1] == "why it crashed", extra


def test_build_logs_are_their_messages(world: OpsWorld) -> None:
    """A build pod logs repo2docker's JSON events; they are read as their message text
    (BinderHub's build log), and a line that is not JSON as it is."""
    pod = world.on_loop(incidents.hang_build, world.sim, 60.0)

    def pushed() -> bool:  # the build ran its course (and hung after pushing)
        lines = world.on_loop(world.sim.logs.lines, "binderhub", pod, "builder", False)
        return any("digest: sha256:" in line.text for line in lines)

    wait_for(pushed, what="the hung build's log")
    world.on_loop(lambda: world.sim.logs.write("binderhub", pod, "builder", "plain words"))
    with Kube(world.member) as kube:
        lines = list(LogStream(kube, log_target(pod), LogOptions()))
    texts = [line.text for line in lines]
    assert texts[0] == "Picked Git content provider." and texts[-1] == "plain words"
    assert not any(text.startswith("{") or text.endswith("\\n") for text in texts)
    raw = run_cli(world, "logs", pod).stdout.splitlines()
    assert raw == texts
