"""5. Live model: watch events a second applied to the model, against the kubernetes
client merely decoding the same watch stream.

The stream is the member's own: every pod event its API server sent while the sessions
started (``Suite.capture``). A replay server (``benchmarks.replay``, a process of its
own) serves it to each client as fast as the client reads, so the figures are the
clients' and not the server's. Both are timed the same way, by the replay server's
clock: from the arrival of the watch request to the arrival of the next one, which
each client makes once it has handled the stream's last event. The figure is a
``ClusterModel`` (its threads, lock, index and mapping, as the console runs it)
started on the replay server, whose pod watch resumes from the last event; the baseline
is ``kubernetes.watch.Watch().stream(..., deserialize=False)`` over
``CoreV1Api.list_pod_for_all_namespaces``, then the same resuming request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from benchmarks.capture import Capture
from benchmarks.measure import Row, Target
from benchmarks.suite import Suite
from binderctl.config import MemberConfig
from binderctl.services.cluster import ClusterModel
from binderctl.services.kube import Kube

NAME = "live-model"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{{name: replay, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: replay, user: {{token: replay}}}}]
contexts: [{{name: replay, context: {{cluster: replay, user: replay}}}}]
current-context: replay
"""


class ReplayServer:
    def __init__(self, capture: Capture, directory: Path) -> None:
        (directory / "listing.json").write_bytes(capture.listing)
        (directory / "events.jsonl").write_bytes(b"\n".join(capture.events) + b"\n")
        self.capture = capture
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("replay.py")), str(directory)],
            stdout=subprocess.PIPE,
            text=True,
        )
        port = json.loads(self._line())["port"]
        self.kubeconfig = directory / "kubeconfig"
        self.kubeconfig.write_text(KUBECONFIG.format(port=port), encoding="utf-8")

    def _line(self) -> str:
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError("the replay server exited")
        return line

    def watch_arrived(self, version: str) -> float:
        """When the next pod watch request arrived; it must be from ``version``."""
        request = json.loads(self._line())
        if request["resourceVersion"] != version:
            raise RuntimeError(f"expected a watch from {version}, got {request}")
        return float(request["time"])

    def events_per_second(self) -> float:
        """From the replayed stream's request to the resuming one."""
        started = self.watch_arrived(self.capture.resource_version)
        ended = self.watch_arrived(self.capture.last_resource_version)
        return len(self.capture.events) / (ended - started)

    def stop(self) -> None:
        self._process.kill()
        self._process.wait()


def model_rate(server: ReplayServer, member: MemberConfig) -> float:
    kube = Kube(member, server.kubeconfig)
    model = ClusterModel(member, kube, disk_interval=None, record_history=False)
    model.start()
    try:
        return server.events_per_second()
    finally:
        model.stop()
        kube.close()


def client_rate(server: ReplayServer, api: Any) -> float:
    from kubernetes import watch

    stream = watch.Watch().stream(
        api.list_pod_for_all_namespaces,
        resource_version=server.capture.resource_version,
        timeout_seconds=3600,
        deserialize=False,
    )
    for _ in stream:
        pass
    resumed = api.list_pod_for_all_namespaces(
        watch=True,
        resource_version=server.capture.last_resource_version,
        _preload_content=False,
    )
    rate = server.events_per_second()
    resumed.close()  # the replay server keeps that watch open and quiet: not for reuse
    return rate


def run(suite: Suite) -> list[Row]:
    from kubernetes import client, config

    row = Row(
        NAME,
        "live-model",
        "ClusterModel applying",
        "kubernetes client decoding",
        "events/s",
        Target(0.8, at_least=True),
    )
    capture = suite.capture
    row.notes.append(f"{len(capture.events):,} pod events of {suite.options.sessions:,} sessions")
    with tempfile.TemporaryDirectory(prefix="binderctl-replay-") as directory:
        server = ReplayServer(capture, Path(directory))
        try:
            api = client.CoreV1Api(config.new_client_from_config(str(server.kubeconfig)))
            for _ in range(suite.repeats(7, 3)):
                baseline = client_rate(server, api)
                figure = model_rate(server, suite.member_config)
                row.add(figure, baseline)
        finally:
            server.stop()
    return [row]
