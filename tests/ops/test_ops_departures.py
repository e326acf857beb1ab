"""Why sessions ended, as the live model tells it: culled by the idle culler (the hub's
log), killed by binderctl (the audit log), evicted by the kubelet and finished (the
pod's last state)."""

from __future__ import annotations

from binderctl.models import Departure
from binderctl.services import departures
from binderctl.services.actions import ActionRunner, Operations
from binderctl.services.cluster import ClusterModel
from tests.kit.waiting import wait_for
from tests.ops.ops_world import OpsWorld


def test_each_ended_session_says_why(quiet: OpsWorld, model: ClusterModel) -> None:
    hub, kubelet = quiet.sim.hub, quiet.sim.kubelet
    pods = sorted(s.pod for s in hub.sessions.values() if s.state == "running")
    idle, killed, evicted, finished = pods[:5], pods[5:7], pods[7], pods[8]

    def idle_then_cull() -> None:  # inactive for longer than cull_timeout
        now = quiet.sim.timeline.now
        for pod in pods:  # the others busy and young: the culler leaves them
            session = hub.sessions[pod]
            session.created, session.active_until = now, now + 10 * 3600
        for pod in idle:
            hub.sessions[pod].active_until = now - 10 * 3600
        hub.cull()

    def evict_and_finish() -> None:
        for pod, end in ((evicted, "evict"), (finished, "finish")):
            run = kubelet.run_of("binderhub", pod)
            assert run is not None
            if end == "evict":
                kubelet.evict(run, "The node was low on resource: ephemeral-storage.")
            else:
                kubelet.finish(run, 0, restart=False)

    quiet.on_loop(idle_then_cull)
    runner = ActionRunner(quiet.member, readonly=False, confirm=lambda a, p: True)
    runner.run(Operations(quiet.member).kill_sessions(names=killed))
    quiet.on_loop(evict_and_finish)

    def told() -> dict[str, Departure]:
        model.flush()
        ended = {d.pod.rsplit("/", 1)[1]: d for d in model.state().departures}
        whole = {*idle, *killed, evicted, finished} <= ended.keys()
        return ended if whole and all(d.cause for d in ended.values()) else {}

    ended = wait_for(told, what=lambda: f"every ended session told: {model.state().departures}")
    assert {(ended[p].cause, ended[p].by) for p in idle} == {("culled", "the idle culler")}
    assert {(ended[p].cause, ended[p].by) for p in killed} == {("killed", "binderctl kill-session")}
    assert (ended[evicted].cause, ended[evicted].by) == ("evicted", "the kubelet")
    assert ended[finished].cause == "finished"
    summary = departures.summary(model.state().departures, max(d.time for d in ended.values()))
    assert summary is not None and summary.startswith("9 sessions ended in the last 10m: -9 ")
    assert "5 culled by the idle culler, 2 killed by binderctl kill-session" in summary
    assert "1 evicted by the kubelet" in summary and "1 finished" in summary
