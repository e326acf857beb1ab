"""The member behind the real API server, read with the real kubernetes client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as kube_config

from binderctl.demo.cluster import KubeStack
from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.member.simulation import Member


async def test_kubernetes_client_sees_sessions_logs_and_metrics(
    make_member: Callable[..., Member], tmp_path: Path
) -> None:
    member = make_member(sessions=30)
    member.advance(1)
    stack = KubeStack(member.logs, member.metrics, store=member.store, speed=None)
    url = await stack.serve()
    try:
        path = write_kubeconfig(tmp_path / "kubeconfig", stack.credentials, url)

        def read() -> tuple[list[str], str, dict[str, object]]:
            api = kube_config.new_client_from_config(config_file=str(path))
            core = k8s.CoreV1Api(api)
            pods = core.list_namespaced_pod(
                "binderhub", label_selector="component=singleuser-server"
            ).items
            names = [p.metadata.name for p in pods]
            log = core.read_namespaced_pod_log(names[0], "binderhub", container="notebook")
            metrics = k8s.CustomObjectsApi(api).list_cluster_custom_object(
                "metrics.k8s.io", "v1beta1", "nodes"
            )
            return names, log, metrics

        names, log, metrics = await asyncio.to_thread(read)
        assert len(names) == 30
        assert all(name.startswith("jupyter-") for name in names)
        assert "Jupyter Server 2.15.0 is running at:" in log
        usage = metrics["items"][0]["usage"]  # type: ignore[index]
        assert usage["cpu"] and usage["memory"]
    finally:
        await stack.stop()
