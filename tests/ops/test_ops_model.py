"""The live model against the emulator: it converges to a fresh list after dropped
streams, 410 Gone and an API server restart, and reports changes row by row."""

from __future__ import annotations

import threading
from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.models import Change, Session
from binderctl.services.cluster import ClusterModel, ClusterState, collect
from binderctl.services.kube import PODS, Kube
from binderctl.services.session_history import history_path, load_history
from tests.kit.waiting import wait_for
from tests.ops.ops_world import OpsWorld


def truth(world: OpsWorld) -> ClusterState:
    with Kube(world.member) as kube:
        return collect(kube, world.member, ("pods", "nodes", "events"))


def rows(state: ClusterState) -> tuple[dict[str, tuple[str, str]], dict[str, bool], int]:
    """What must agree: sessions (phase, repo), node cordon, pods counted on the node."""
    node = state.node
    assert node is not None
    sessions = {k: (s.phase, s.repo) for k, s in state.sessions.items()}
    return sessions, {node.name: node.cordoned}, node.pods_used


def converged(world: OpsWorld, live: ClusterModel) -> bool:
    live.flush()
    return rows(live.state()) == rows(truth(world))


def behind_the_models_back(world: OpsWorld, *, restart: bool = False, count: int = 3) -> None:
    """Close every stream, forget the event history (a re-watch gets 410 Gone), then
    change the cluster, all in one step on the emulator's loop."""

    def cordon(node: dict) -> None:
        node["spec"]["unschedulable"] = True

    def act() -> list[str]:
        world.stack.server.end_streams()
        world.store.compact()
        sessions = [
            p
            for p in world.store.list(types.PODS, "binderhub")
            if p["metadata"]["labels"].get("component") == "singleuser-server"
        ][:count]
        for pod in sessions:
            world.store.delete(types.PODS, "binderhub", pod["metadata"]["name"])
        world.store.mutate(types.NODES, None, "demo", cordon)
        return [p["metadata"]["name"] for p in sessions]

    if restart:
        world.loop.run(world.stack.server.faults.restart())
    deleted = world.on_loop(act)
    assert len(deleted) == count


def test_model_matches_a_fresh_list(quiet: OpsWorld, model: ClusterModel) -> None:
    wait_for(lambda: converged(quiet, model))
    state = model.state()
    assert len(state.sessions) == 40
    assert set(state.components) == {"hub", "binder", "proxy", "dind"}
    health = wait_for(lambda: model.state().health)  # its own, slower poll
    assert health.ok is True
    assert state.rotation is not None and state.rotation.quota == 100
    assert model.connection == "connected"


def test_model_converges_after_410_gone(quiet: OpsWorld, model: ClusterModel) -> None:
    behind_the_models_back(quiet)
    wait_for(lambda: converged(quiet, model))
    state = model.state()
    assert len(state.sessions) == 37
    assert state.node is not None and state.node.cordoned
    assert state.rotation is not None and state.rotation.problem  # cordoned, quota 100


def test_model_converges_after_api_server_restart(quiet: OpsWorld, model: ClusterModel) -> None:
    behind_the_models_back(quiet, restart=True, count=5)
    wait_for(lambda: converged(quiet, model))
    assert len(model.state().sessions) == 35
    wait_for(lambda: model.connection == "connected")


def test_repeated_drops_keep_the_model_true(quiet: OpsWorld, model: ClusterModel) -> None:
    for _ in range(3):
        quiet.stack.server.faults.drop_watches()
        behind_the_models_back(quiet, count=1)
    wait_for(lambda: converged(quiet, model))
    assert len(model.state().sessions) == 37


def test_subscribers_get_one_change_per_row(quiet: OpsWorld, model: ClusterModel) -> None:
    seen: list[list[Change]] = []
    got = threading.Event()

    def on_changes(changes: list[Change]) -> None:
        seen.append(changes)
        if any(c.kind == "session" and c.new is None for c in changes):
            got.set()

    unsubscribe = model.subscribe(on_changes)
    victim = sorted(model.state().sessions)[0]
    namespace, name = victim.split("/")
    with Kube(quiet.member) as kube:
        kube.delete(PODS, name, namespace, {"gracePeriodSeconds": 0})
    assert got.wait(20)
    unsubscribe()
    session_changes = [c for batch in seen for c in batch if c.kind == "session"]
    assert {c.key for c in session_changes} == {victim}
    removed = [c for c in session_changes if c.new is None]
    assert len(removed) == 1 and isinstance(removed[0].old, Session)


def test_busy_member_converges_once_paused(make_world: Callable[..., OpsWorld]) -> None:
    busy = make_world(sessions=30, speed=10.0, launches_per_minute=12.0)
    with ClusterModel(
        busy.member, poll_interval=0.2, record_history=False, disk_interval=None
    ) as live:
        assert live.wait_synced(20)
        wait_for(lambda: live.launches_total >= 5)  # sessions come and go meanwhile
        for _ in range(3):
            busy.stack.server.faults.drop_watches()
            busy.stack.server.faults.compact()
        busy.loop.run(busy.sim.stop())  # freeze the simulation, then compare
        wait_for(lambda: converged(busy, live))
        history = live.history
        wait_for(lambda: len(history.sessions) >= 2 and len(history.node_cpu) >= 2)


def test_model_feeds_the_session_history(quiet: OpsWorld) -> None:
    with ClusterModel(
        quiet.member, poll_interval=0.1, history_interval=0.0, disk_interval=None
    ) as live:
        assert live.wait_synced(20)
        wait_for(lambda: load_history(quiet.member).last is not None)
    _, running, launches = load_history(quiet.member).last or (0, 0, 0)
    assert running == 40 and launches == 0
    assert history_path(quiet.member).stat().st_mode & 0o777 == 0o600


def test_a_fresh_list_is_delivered_before_the_tick(quiet: OpsWorld) -> None:
    listed = threading.Event()

    def on_changes(changes: list[Change]) -> None:
        if sum(1 for c in changes if c.kind == "session") == 40:
            listed.set()

    live = ClusterModel(
        quiet.member, tick=60.0, poll_interval=60.0, record_history=False, disk_interval=None
    )
    live.subscribe(on_changes)
    with live:
        assert listed.wait(20)  # not at the first tick, a minute after the start
        wait_for(lambda: live.listed)


def test_deferred_work_waits_for_its_event(quiet: OpsWorld) -> None:
    deferred = threading.Event()
    with ClusterModel(
        quiet.member,
        poll_interval=0.1,
        history_interval=0.0,
        disk_interval=None,
        deferred_until=deferred,
    ) as live:
        assert live.wait_synced(20)
        wait_for(lambda: len(live.history_copy().sessions) >= 3)  # polls go on meanwhile
        assert not history_path(quiet.member).exists()
        deferred.set()
        wait_for(lambda: load_history(quiet.member).last is not None)
