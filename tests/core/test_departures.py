"""Pure parts of telling why a session ended: the pod's last state, the hub's log."""

from __future__ import annotations

from binderctl.models import Departure
from binderctl.services.departures import PATIENCE, explain, hub_stops, left_as, summary
from binderctl.services.mapping import session_identity

# As JupyterHub's log_request and jupyterhub-idle-culler write them.
HUB_LOG = [
    "[I 2026-01-01 00:00:01.000 JupyterHub log:192] 200 GET /hub/api/users?state=ready "
    "(jupyterhub-idle-culler@127.0.0.1) 12.00ms",
    "[I 260101 00:00:01 __init__:252] Culling server binder-a-1 (inactive for 1:00:00)",
    "[I 2026-01-01 00:00:02.000 JupyterHub log:192] 204 DELETE /hub/api/users/binder-a-1/server "
    "(jupyterhub-idle-culler@127.0.0.1) 512.00ms",
    "[I 2026-01-01 00:00:03.000 JupyterHub log:192] 202 DELETE "
    "/hub/api/users/ann%40example/servers/lab (ann%40example@10.0.0.7) 20.00ms",
    "[I 2026-01-01 00:00:04.000 JupyterHub log:192] 204 DELETE /hub/api/users/bob/server "
    "(admin@10.0.0.8) 9.00ms",
    "[I 260101 00:00:05 __init__:261] Culling server carl (age: 6:00:00, inactive for 0:01:00)",
]


def test_the_hub_s_log_says_who_stopped_whom() -> None:
    assert hub_stops(HUB_LOG) == {
        "binder-a-1": "jupyterhub-idle-culler",
        "ann@example": "ann%40example",
        "bob": "admin",
        "carl": "jupyterhub-idle-culler",
    }


def _deleted(*ends: dict[str, object], phase: str = "Succeeded") -> dict[str, object]:
    """A session pod's last state as its DELETED event carries it: KubeSpawner deletes
    with a grace period of 1 s; the kubelet deletes the pod once its phase is terminal."""
    return {
        "metadata": {
            "deletionTimestamp": "2026-01-01T00:10:01Z",
            "deletionGracePeriodSeconds": 1,
        },
        "status": {
            "phase": phase,
            "containerStatuses": [{"state": {"terminated": end}} for end in ends],
        },
    }


STOPPED = {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-01-01T00:10:01Z"}
ENDED_BEFORE = {"exitCode": 1, "reason": "Error", "finishedAt": "2026-01-01T00:09:30Z"}
NEVER_RAN = {"exitCode": 137, "reason": "ContainerStatusUnknown"}


def test_the_last_state_tells_evicted_finished_and_never_started() -> None:
    evicted = {"status": {"phase": "Failed", "reason": "Evicted"}}
    preempted = {"status": {"conditions": [{"type": "DisruptionTarget", "status": "True",
                                            "reason": "PreemptionByScheduler"}]}}  # fmt: skip
    running = {"status": {"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]}}
    assert left_as(evicted) == ("evicted", "the kubelet")
    assert left_as(preempted) == ("evicted", "the scheduler (preemption)")
    assert left_as(_deleted(ENDED_BEFORE, phase="Failed")) == ("finished", "")
    assert left_as(_deleted(NEVER_RAN, phase="Failed")) == ("never started", "")
    assert left_as({"status": {"phase": "Pending"}}) == ("never started", "")
    assert left_as(running) is None and left_as(None) is None


def test_a_container_stopped_for_the_deletion_did_not_finish_on_its_own() -> None:
    # culled, stopped, killed: the container ends after the deletion was asked for, so
    # the audit log and the hub's log must tell who
    assert left_as(_deleted(STOPPED)) is None


def test_an_eviction_through_the_api_waits_for_the_audit_log() -> None:
    drained = {"status": {"conditions": [{"type": "DisruptionTarget", "status": "True",
                                          "reason": "EvictionByEvictionAPI"}]}}  # fmt: skip
    assert left_as(drained) == ("", "the eviction API")
    guess = Departure("binderhub/jupyter-eve", "eve", 100.0, "", "the eviction API")
    by_drain = explain(guess, {"jupyter-eve": "drain"}, {}, 101.0)
    assert by_drain is not None and (by_drain.cause, by_drain.by) == ("killed", "binderctl drain")
    assert explain(guess, {}, {}, 101.0) is None
    later = explain(guess, {}, {}, 100.0 + PATIENCE)
    assert later is not None and (later.cause, later.by) == ("evicted", "the eviction API")


def test_a_hub_under_a_base_url_is_read_too() -> None:
    line = (
        "[I 2026-01-01 00:00:02.000 JupyterHub log:192] 204 DELETE "
        "/binder/hub/api/users/dan/server (jupyterhub-idle-culler@127.0.0.1) 5.00ms"
    )
    assert hub_stops([line]) == {"dan": "jupyterhub-idle-culler"}


def test_explain_prefers_binderctl_then_the_hub_then_gives_up() -> None:
    gone = Departure("binderhub/jupyter-bob", "bob", 100.0)
    stops = hub_stops(HUB_LOG)
    killed = explain(gone, {"jupyter-bob": "kill-session"}, stops, 101.0)
    assert killed is not None and (killed.cause, killed.by) == ("killed", "binderctl kill-session")
    stopped = explain(gone, {}, stops, 101.0)
    assert stopped is not None and (stopped.cause, stopped.by) == ("stopped", "admin")
    unknown = Departure("binderhub/jupyter-dan", "dan", 100.0)
    assert explain(unknown, {}, stops, 100.0 + PATIENCE / 2) is None  # still waiting
    deleted = explain(unknown, {}, stops, 100.0 + PATIENCE)
    assert deleted is not None and deleted.cause == "deleted"


def test_summary_names_the_drop_and_its_causes() -> None:
    culled = [Departure(f"ns/p{i}", f"u{i}", 1000.0 + i / 10, "culled", "the idle culler")
              for i in range(171)]  # fmt: skip
    evicted = [Departure("ns/q", "q", 900.0, "evicted", "the kubelet")]
    text = summary([*culled, *evicted], 1030.0)
    assert text == (
        "172 sessions ended in the last 10m: -171 in 17s (13s ago); 171 culled by the idle culler, "
        "1 evicted by the kubelet"
    )
    assert summary(culled, 1000.0 + 3600) is None


def test_the_user_is_the_name_the_hub_knows_not_its_label_slug() -> None:
    """KubeSpawner labels a pod with a slug of the user name (hashed when the name holds
    "--") and annotates it with the name itself, which the hub's log uses."""
    pod = {
        "metadata": {
            "name": "jupyter-org--repo-abc",
            "labels": {"hub.jupyter.org/username": "org---repo-abc---1a2b3c"},
            "annotations": {"hub.jupyter.org/username": "org--repo-abc"},
        },
        "spec": {"containers": [{"name": "notebook", "image": "r/i:t"}]},
    }
    assert session_identity(pod).user == "org--repo-abc"
    del pod["metadata"]["annotations"]
    assert session_identity(pod).user == "org---repo-abc---1a2b3c"
