"""Pod logs through the real kubernetes client: tail, follow, timestamps, containers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest
from kubernetes.client.rest import ApiException

from binderctl.demo.kube import types
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import Cluster, pod_object

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")


def _running(cluster: Cluster, name: str, **kwargs: object) -> None:
    cluster.create(types.PODS, pod_object(name, **kwargs))  # type: ignore[arg-type]
    wait_for(lambda: cluster.running_pods("default"), what=f"{name} running")


def test_tail_since_and_timestamps(cluster: Cluster) -> None:
    _running(cluster, "web")
    now = time.time()
    for index, age in enumerate((3600, 30, 20, 10)):
        cluster.do(
            lambda i=index, a=age: cluster.logs.write(
                "default", "web", "notebook", f"line {i}", now - a
            )
        )
    assert (
        cluster.core.read_namespaced_pod_log("web", "default") == "line 0\nline 1\nline 2\nline 3\n"
    )
    assert (
        cluster.core.read_namespaced_pod_log("web", "default", tail_lines=2) == "line 2\nline 3\n"
    )
    assert cluster.core.read_namespaced_pod_log("web", "default", since_seconds=60) == (
        "line 1\nline 2\nline 3\n"
    )
    stamped = cluster.core.read_namespaced_pod_log("web", "default", timestamps=True, tail_lines=1)
    assert STAMP.match(stamped) and stamped.endswith(" line 3\n")
    assert cluster.core.read_namespaced_pod_log("web", "default", limit_bytes=9) == "line 0\nli"


def test_follow_streams_new_lines_until_the_pod_goes(cluster: Cluster) -> None:
    _running(cluster, "web", grace=0)
    cluster.do(lambda: cluster.logs.write("default", "web", "notebook", "old 1\nold 2\nold 3"))
    response = cluster.core.read_namespaced_pod_log(
        "web", "default", follow=True, tail_lines=2, _preload_content=False
    )
    chunks = response.stream(amt=None, decode_content=False)
    received = b""
    while received.count(b"\n") < 2:
        received += next(chunks)
    assert received == b"old 2\nold 3\n"
    cluster.do(lambda: cluster.logs.write("default", "web", "notebook", "new line"))
    assert next(chunks) == b"new line\n"
    cluster.core.delete_namespaced_pod("web", "default")
    assert list(chunks) == []  # the stream ends with the pod
    response.release_conn()


def test_several_containers_need_a_name(cluster: Cluster) -> None:
    _running(cluster, "hub", containers=("hub", "culler"))
    cluster.do(lambda: cluster.logs.write("default", "hub", "culler", "culling"))
    with pytest.raises(ApiException) as missing:
        cluster.core.read_namespaced_pod_log("hub", "default")
    body = json.loads(missing.value.body)
    assert missing.value.status == 400 and body["reason"] == "BadRequest"
    assert (
        body["message"]
        == "a container name must be specified for pod hub, choose one of: [hub culler]"
    )
    assert cluster.core.read_namespaced_pod_log("hub", "default", container="culler") == "culling\n"
    with pytest.raises(ApiException) as wrong:
        cluster.core.read_namespaced_pod_log("hub", "default", container="proxy")
    assert json.loads(wrong.value.body)["message"] == "container proxy is not valid for pod hub"


def test_previous_and_waiting_containers_are_400(cluster: Cluster) -> None:
    _running(cluster, "web")
    with pytest.raises(ApiException) as previous:
        cluster.core.read_namespaced_pod_log("web", "default", previous=True)
    message = json.loads(previous.value.body)["message"]
    assert message == 'previous terminated container "notebook" in pod "web" not found'
    cluster.do(lambda: cluster.logs.write("default", "web", "notebook", "first run"))
    cluster.do(lambda: cluster.logs.restart("default", "web", "notebook"))
    with pytest.raises(ApiException):  # the kubelet goes by the pod's status, not its files
        cluster.core.read_namespaced_pod_log("web", "default", previous=True)

    def restarted(pod: dict) -> None:
        status = pod["status"]["containerStatuses"][0]
        status["lastState"] = {"terminated": {"exitCode": 1, "containerID": "containerd://1"}}

    cluster.do(lambda: cluster.store.mutate(types.PODS, "default", "web", restarted))
    assert cluster.core.read_namespaced_pod_log("web", "default", previous=True) == "first run\n"

    def waiting(reason: str, *, ran: bool) -> Callable[[dict], None]:
        def change(pod: dict) -> None:
            status = pod["status"]["containerStatuses"][0]
            status["state"] = {"waiting": {"reason": reason}}
            if not ran:
                status["lastState"] = {}

        return change

    # in CrashLoopBackOff the kubelet serves the instance that ended
    backoff = waiting("CrashLoopBackOff", ran=True)
    cluster.do(lambda: cluster.store.mutate(types.PODS, "default", "web", backoff))
    assert cluster.core.read_namespaced_pod_log("web", "default") == ""
    for reason, says in (
        ("ContainerCreating", "ContainerCreating"),
        ("ImagePullBackOff", "trying and failing to pull image"),
    ):
        first = waiting(reason, ran=False)
        cluster.do(lambda change=first: cluster.store.mutate(types.PODS, "default", "web", change))
        with pytest.raises(ApiException) as creating:
            cluster.core.read_namespaced_pod_log("web", "default")
        message = json.loads(creating.value.body)["message"]
        assert message == f'container "notebook" in pod "web" is waiting to start: {says}'
