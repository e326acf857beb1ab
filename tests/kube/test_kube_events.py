"""The event recorder: repeats bump one event, and an event goes an hour after its last
write (the API server's --event-ttl), on the simulated time of whoever records."""

from __future__ import annotations

from binderctl.demo.kube import types
from binderctl.demo.kube.events import EVENT_TTL, EventRecorder, Source
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member.timeline import Timeline

EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z
KUBELET = Source("kubelet", "demo")
SCHEDULER = Source("default-scheduler", "default-scheduler-demo", modern=True)


def recorder(limit: int = 3000) -> tuple[Store, Timeline, EventRecorder]:
    store, timeline = Store(), Timeline()
    store.register(types.EVENTS)
    store.register(types.PODS)
    events = EventRecorder(store, lambda: EPOCH + timeline.now, timeline.after, limit=limit)
    return store, timeline, events


def pod(store: Store, name: str) -> Obj:
    return store.create(types.PODS, {"metadata": {"name": name, "namespace": "binderhub"}})


def test_a_repeat_bumps_one_event_and_restarts_its_ttl() -> None:
    store, timeline, events = recorder()
    session = pod(store, "jupyter-a")
    events.emit(session, "Warning", "BackOff", "Back-off pulling image", KUBELET)
    timeline.run_until(EVENT_TTL / 2)
    events.emit(session, "Warning", "BackOff", "Back-off pulling image", KUBELET)
    (event,) = store.list(types.EVENTS)
    assert event["count"] == 2
    assert event["firstTimestamp"] == "2026-01-01T00:00:00Z"
    assert event["lastTimestamp"] == "2026-01-01T00:30:00Z"
    assert event["source"] == {"component": "kubelet", "host": "demo"}
    timeline.run_until(EVENT_TTL)  # an hour after the first write: the second one holds it
    assert store.list(types.EVENTS)
    timeline.run_until(EVENT_TTL * 1.5)
    assert store.list(types.EVENTS) == []


def test_an_event_expires_after_the_ttl_whoever_records_it() -> None:
    store, timeline, events = recorder()
    session = pod(store, "jupyter-b")
    events.emit(
        session, "Normal", "Scheduled", "Successfully assigned", SCHEDULER, action="Binding"
    )
    events.emit(
        session, "Normal", "Scheduled", "Successfully assigned", SCHEDULER, action="Binding"
    )
    events.emit(session, "Normal", "Pulled", "Container image already present", KUBELET)
    scheduled, pulled = sorted(store.list(types.EVENTS), key=lambda e: e["reason"], reverse=True)
    assert scheduled["series"]["count"] == 2 and scheduled["eventTime"]
    assert (
        scheduled["action"] == "Binding" and scheduled["reportingComponent"] == "default-scheduler"
    )
    assert pulled["count"] == 1
    timeline.run_until(EVENT_TTL - 1)
    assert len(store.list(types.EVENTS)) == 2
    timeline.run_until(EVENT_TTL)
    assert store.list(types.EVENTS) == []


def test_the_oldest_events_go_past_the_limit_and_a_deleted_one_is_made_anew() -> None:
    store, timeline, events = recorder(limit=2)
    for name in ("jupyter-c", "jupyter-d", "jupyter-e"):
        events.emit(pod(store, name), "Normal", "Started", "Started container", KUBELET)
    assert sorted(e["involvedObject"]["name"] for e in store.list(types.EVENTS)) == [
        "jupyter-d",
        "jupyter-e",
    ]
    (latest,) = [e for e in store.list(types.EVENTS) if e["involvedObject"]["name"] == "jupyter-e"]
    store.delete(types.EVENTS, "binderhub", latest["metadata"]["name"])
    timeline.run_until(10)
    again = events.emit(store.get(types.PODS, "binderhub", "jupyter-e"), "Normal", "Started",
                        "Started container", KUBELET)  # fmt: skip
    assert again["count"] == 1 and again["metadata"]["name"] != latest["metadata"]["name"]
    timeline.run_until(EVENT_TTL)  # the first write's timer leaves the new event alone
    assert [e["metadata"]["name"] for e in store.list(types.EVENTS)] == [again["metadata"]["name"]]
    timeline.run_until(EVENT_TTL + 10)
    assert store.list(types.EVENTS) == []
