"""A stand-in for the simulated member's kubelet (demo/member/kubelet.py, built in
parallel): it starts every pod bound to a node (Running and Ready at once) and lets Job
pods finish. Tests create the objects a real member would have and let this move pods,
so the control plane is exercised as it is by the simulation."""

from __future__ import annotations

import asyncio
import ipaddress

from binderctl.demo.kube import types
from binderctl.demo.kube.podutil import controller_of, set_condition
from binderctl.demo.kube.store import Obj, Store, WatchEvent, now_rfc3339


class NodeAgent:
    def __init__(self, store: Store, *, finish_jobs: bool = True) -> None:
        self.store = store
        self.finish_jobs = finish_jobs
        self._ips = (str(ip) for ip in ipaddress.ip_network("10.42.0.0/16").hosts())
        store.add_listener(self._on_event)

    def _on_event(self, event: WatchEvent) -> None:
        pod = event.obj
        if event.rt is not types.PODS or event.type == "DELETED":
            return
        meta = pod["metadata"]
        if (
            pod["spec"].get("nodeName")
            and pod["status"].get("phase") == "Pending"
            and not meta.get("deletionTimestamp")
        ):
            asyncio.get_running_loop().call_soon(
                self.start, meta["namespace"], meta["name"], meta["uid"]
            )

    def start(self, namespace: str, name: str, uid: str) -> None:
        pod = self.store.find(types.PODS, namespace, name)
        if pod is None or pod["metadata"]["uid"] != uid or pod["status"].get("phase") != "Pending":
            return
        now = now_rfc3339()
        ip = next(self._ips)
        owner = controller_of(pod)
        done = self.finish_jobs and owner is not None and owner["kind"] == "Job"

        def run(obj: Obj) -> None:
            status = obj["status"]
            status["phase"] = "Succeeded" if done else "Running"
            status["podIP"], status["podIPs"] = ip, [{"ip": ip}]
            status["hostIP"], status["startTime"] = "10.0.0.2", now
            for kind in ("PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"):
                ready = "False" if done and kind in ("ContainersReady", "Ready") else "True"
                set_condition(
                    status, kind, ready, "PodCompleted" if ready == "False" else "", probe_time=True
                )
            state = (
                {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": now,
                        "finishedAt": now,
                    }
                }
                if done
                else {"running": {"startedAt": now}}
            )
            status["containerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": f"docker.io/{c['image']}@sha256:{'0' * 64}",
                    "containerID": f"containerd://{uid.replace('-', '')}{index}",
                    "ready": not done,
                    "started": not done,
                    "restartCount": 0,
                    "state": state,
                    "lastState": {},
                }
                for index, c in enumerate(obj["spec"]["containers"])
            ]

        self.store.mutate(types.PODS, namespace, name, run)
