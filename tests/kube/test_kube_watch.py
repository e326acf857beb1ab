"""Watches through the real kubernetes client: reconnects after a dropped stream and
after 410 Gone, bookmarks, initial events, selector transitions, timeouts."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import watch
from kubernetes.client.rest import ApiException
from urllib3.exceptions import ProtocolError

from binderctl.demo.kube import types
from tests.kube.kube_cluster import Cluster, pod_object


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Cluster]:
    """A cluster without a node (pods stay put) and with bookmarks every 50 ms."""
    running = Cluster(tmp_path, bookmark_interval=0.05)
    yield running
    running.close()


def _configmap(cluster: Cluster, name: str, **labels: str) -> None:
    cluster.create(
        types.CONFIGMAPS, {"metadata": {"name": name, "namespace": "default", "labels": labels}}
    )


def test_watch_resumes_after_a_dropped_stream(quiet: Cluster) -> None:
    start = quiet.core.list_namespaced_config_map("default").metadata.resource_version
    _configmap(quiet, "first")
    stream = watch.Watch().stream(
        quiet.core.list_namespaced_config_map, "default", resource_version=start
    )
    first = next(stream)
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "first")
    quiet.do(quiet.server.faults.drop_watches)
    # Written while no watch is open: the client re-watches from the last version it saw.
    _configmap(quiet, "second")
    quiet.do(lambda: quiet.store.delete(types.CONFIGMAPS, "default", "first"))
    after = [next(stream), next(stream)]
    assert [(e["type"], e["object"].metadata.name) for e in after] == [
        ("ADDED", "second"),
        ("DELETED", "first"),
    ]
    stream.close()


def test_watch_from_a_compacted_version_is_410_and_a_relist_recovers(quiet: Cluster) -> None:
    old = quiet.core.list_namespaced_config_map("default").metadata.resource_version
    _configmap(quiet, "before")
    quiet.do(quiet.server.faults.compact)
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(
            quiet.core.list_namespaced_config_map, "default", resource_version=old
        ):
            pass
    assert gone.value.status == 410
    listing = quiet.core.list_namespaced_config_map("default")
    assert [c.metadata.name for c in listing.items] == ["before"]
    stream = watch.Watch().stream(
        quiet.core.list_namespaced_config_map,
        "default",
        resource_version=listing.metadata.resource_version,
        timeout_seconds=5,
    )
    _configmap(quiet, "after")
    event = next(stream)
    assert (event["type"], event["object"].metadata.name) == ("ADDED", "after")
    stream.close()


def _raw_events(cluster: Cluster, path: str) -> list[dict]:
    status, body, headers = cluster.raw("GET", path, text=True)
    assert status == 200 and headers.get("Transfer-Encoding") == "chunked"
    return [json.loads(line) for line in body.splitlines() if line]


def test_a_410_is_an_error_event_with_a_status(quiet: Cluster) -> None:
    old = quiet.core.list_namespaced_config_map("default").metadata.resource_version
    _configmap(quiet, "x")
    quiet.do(quiet.server.faults.compact)
    events = _raw_events(
        quiet, f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={old}"
    )
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith("too old resource version")


def test_bookmarks_initial_events_and_timeout(quiet: Cluster) -> None:
    _configmap(quiet, "a")
    _configmap(quiet, "b")
    events = _raw_events(
        quiet,
        "/api/v1/namespaces/default/configmaps?watch=True&allowWatchBookmarks=TRUE"
        "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
    )
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:2]] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]
    end = events[2]
    assert end["type"] == "BOOKMARK"
    assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert any(
        e["type"] == "BOOKMARK" and "annotations" not in e["object"]["metadata"] for e in events[3:]
    )
    rv = int(end["object"]["metadata"]["resourceVersion"])
    assert rv == quiet.do(lambda: quiet.store.resource_version)


def test_selector_watch_sees_objects_leave_and_enter(quiet: Cluster) -> None:
    quiet.create(types.PODS, pod_object("web", labels={"tier": "web"}))
    start = quiet.core.list_namespaced_pod("default").metadata.resource_version
    stream = watch.Watch().stream(
        quiet.core.list_namespaced_pod,
        "default",
        label_selector="tier=web",
        resource_version=start,
        timeout_seconds=5,
    )
    quiet.core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"tier": "db"}}})
    left = next(stream)
    assert (left["type"], left["raw_object"]["metadata"]["labels"]) == ("DELETED", {"tier": "web"})
    quiet.core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"tier": "web"}}})
    assert next(stream)["type"] == "ADDED"
    quiet.core.patch_namespaced_pod("web", "default", {"metadata": {"annotations": {"a": "b"}}})
    assert next(stream)["type"] == "MODIFIED"
    stream.close()


def test_watch_without_a_version_starts_with_what_exists(quiet: Cluster) -> None:
    _configmap(quiet, "existing")
    stream = watch.Watch().stream(
        quiet.core.list_namespaced_config_map, "default", timeout_seconds=5
    )
    assert next(stream)["object"].metadata.name == "existing"
    stream.close()


def test_watch_as_table_rows(quiet: Cluster) -> None:
    _configmap(quiet, "a")
    _, body, _ = quiet.raw(
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io",
        text=True,
    )
    event = json.loads(body.splitlines()[0])
    assert event["object"]["kind"] == "Table"
    assert event["object"]["rows"][0]["cells"][:2] == ["a", 0]


def test_restart_closes_watches_and_keeps_the_state(quiet: Cluster) -> None:
    start = quiet.core.list_namespaced_config_map("default").metadata.resource_version
    _configmap(quiet, "kept")
    stream = watch.Watch().stream(
        quiet.core.list_namespaced_config_map, "default", resource_version=start, timeout_seconds=30
    )
    assert next(stream)["object"].metadata.name == "kept"  # the stream is open
    quiet.server.faults.latency = 0.01
    quiet.run(quiet.server.faults.restart())
    with pytest.raises(ProtocolError):  # cut mid-stream, long before its timeout
        next(stream)
    names = [c.metadata.name for c in quiet.core.list_namespaced_config_map("default").items]
    assert names == ["kept"]


def test_closing_the_server_mid_burst_ends_watches_quietly(
    quiet: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """Watches with events still to send when the server closes (as the demo world does
    when the console quits) end without an error logged; these once reached the terminal."""
    responses = [
        quiet.core.list_namespaced_config_map(
            "default", watch=True, _preload_content=False, timeout_seconds=30
        )
        for _ in range(5)
    ]
    _configmap(quiet, "seen")
    for response in responses:
        assert b'"ADDED"' in next(response.stream(amt=None, decode_content=False))

    async def burst_then_stop() -> None:
        for n in range(200):
            quiet.store.create(
                types.CONFIGMAPS, {"metadata": {"name": f"burst-{n}", "namespace": "default"}}
            )
        await quiet.server.stop()  # returns once every handler has finished

    quiet.run(burst_then_stop())
    assert quiet.server.open_streams == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
