"""The live model under Kubernetes API faults: watch streams dropped, 410 Gone, an API
server restart, slow answers, the API server down for a while. After each fault (and a
change made behind the model's back meanwhile) the model matches a fresh list within a
bounded time, and it reconnects by itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.world import DemoWorld
from binderctl.models import Change, ConnectionState
from binderctl.services.cluster import ClusterModel, ClusterState, collect
from binderctl.services.kube import Kube
from binderctl.services.watch import BACKOFF_MAX
from tests.kit.waiting import wait_for
from tests.kit.worlds import member_of, on_loop

# A dropped watch is re-listed at once; a failing one waits at most one backoff first.
CONVERGE_WITHIN = BACKOFF_MAX + 5.0
SLOW = 0.5  # seconds the API server takes to answer, for the "slow answers" fault


def rows(state: ClusterState) -> tuple[object, ...]:
    """What must agree: sessions (phase, repo), the cordon, pods counted on the node."""
    return (
        {key: (s.phase, s.repo) for key, s in state.sessions.items()},
        {name: n.cordoned for name, n in state.nodes.items()},
        {name: n.pods_used for name, n in state.nodes.items()},
    )


def converged(world: DemoWorld, model: ClusterModel) -> bool:
    member = member_of(world)
    with Kube(member) as kube:
        truth = collect(kube, member, ("pods", "nodes"))
    model.flush()
    return not truth.errors and rows(model.state()) == rows(truth)


def change(store: Store) -> None:
    """End one session and flip the node's cordon, straight in the store (on its loop)."""

    def flip(node: Obj) -> None:
        node["spec"]["unschedulable"] = not node["spec"].get("unschedulable", False)

    sessions = [
        p
        for p in store.list(types.PODS)
        if p["metadata"].get("labels", {}).get("component") == "singleuser-server"
    ]
    meta = sessions[0]["metadata"]
    store.delete(types.PODS, meta["namespace"], meta["name"])
    store.mutate(types.NODES, None, store.list(types.NODES)[0]["metadata"]["name"], flip)


def behind_its_back(world: DemoWorld) -> None:
    on_loop(world, lambda: change(world.cluster().store))


def drop_watches(world: DemoWorld) -> None:
    """Streams end; the change happens before the model watches again."""
    k3s = world.cluster()

    def fault() -> None:
        k3s.server.faults.drop_watches()
        change(k3s.store)

    on_loop(world, fault)


def gone_410(world: DemoWorld) -> None:
    """Streams end, the change happens, and the history is forgotten: the model's
    resourceVersion is older than any the server still has, so it gets 410 Gone and
    must list again to see the change."""
    k3s = world.cluster()

    def fault() -> None:
        k3s.server.faults.drop_watches()
        change(k3s.store)
        k3s.server.faults.compact()

    on_loop(world, fault)


def restart(world: DemoWorld) -> None:
    """Every connection is closed, as an API server restart does."""
    assert world.runtime is not None
    world.runtime.run(world.cluster().server.faults.restart())
    behind_its_back(world)


def slow(world: DemoWorld) -> None:
    server = world.cluster().server
    on_loop(world, lambda: setattr(server.faults, "latency", SLOW))
    behind_its_back(world)


FAULTS: dict[str, Callable[[DemoWorld], None]] = {
    "watch streams dropped": drop_watches,
    "410 Gone": gone_410,
    "API server restart (connections closed)": restart,
    "slow answers": slow,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_model_matches_a_fresh_list_soon_after_the_fault(
    live: DemoWorld, model: ClusterModel, fault: str
) -> None:
    assert converged(live, model)
    sessions = len(model.state().sessions)
    for _ in range(2):  # twice: the model also survives the fault it just recovered from
        FAULTS[fault](live)
        wait_for(lambda: converged(live, model), CONVERGE_WITHIN, f"converged after {fault}")
    assert len(model.state().sessions) == sessions - 2
    wait_for(lambda: model.connection == "connected", CONVERGE_WITHIN, "connected")


def test_the_model_reconnects_by_itself_after_the_api_server_was_down(
    live: DemoWorld, model: ClusterModel
) -> None:
    seen: list[ConnectionState] = []

    def on_changes(changes: list[Change]) -> None:
        seen.extend(c.new for c in changes if c.kind == "connection")  # type: ignore[misc]

    model.subscribe(on_changes)
    k3s = live.cluster()
    assert live.runtime is not None
    live.runtime.run(k3s.set_running(False))
    wait_for(lambda: model.connection != "connected", CONVERGE_WITHIN, "noticed the outage")
    behind_its_back(live)  # the cluster changes while the API is down
    wait_for(lambda: "reconnecting" in seen, 5, "reconnecting shown to subscribers")
    live.runtime.run(k3s.set_running(True))
    wait_for(lambda: converged(live, model), CONVERGE_WITHIN, "converged after the outage")
    wait_for(lambda: seen[-1:] == ["connected"], 5, f"connected again (saw {seen})")
    assert model.state().errors == {}
