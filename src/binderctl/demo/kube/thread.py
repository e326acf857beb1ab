"""Run an API server (and optionally the control plane) on a LoopThread, for code and
tests that use the synchronous kubernetes client or kubectl."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from binderctl.demo.kube.controllers.plane import ControlPlane
from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.server import KubeAPIServer
from binderctl.demo.kube.sources import LogSource, MetricsSource
from binderctl.demo.kube.store import Store
from binderctl.demo.runtime import LoopThread


@dataclass
class RunningServer:
    loop: LoopThread
    server: KubeAPIServer
    url: str
    kubeconfig: Path
    plane: ControlPlane | None = None
    _own_loop: bool = field(default=False, repr=False)

    def stop(self) -> None:
        async def shutdown() -> None:
            if self.plane is not None:
                await self.plane.stop()
            await self.server.stop()

        self.loop.run(shutdown())
        if self._own_loop:
            self.loop.stop()


def start_in_thread(
    store: Store,
    kubeconfig: Path,
    *,
    logs: LogSource | None = None,
    metrics: MetricsSource | None = None,
    speed: float | None = None,
    loop: LoopThread | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    bookmark_interval: float = 60.0,
) -> RunningServer:
    """Serve ``store`` on ``host:port`` and write a kubeconfig for it.

    With ``speed``, the control plane (controllers and scheduler) runs too.
    """
    own = loop is None
    thread = loop or LoopThread("kube-emulator")

    async def begin() -> tuple[KubeAPIServer, str, ControlPlane | None]:
        server = KubeAPIServer(store, logs, metrics, bookmark_interval=bookmark_interval)
        url = await server.start(host, port)
        plane = None
        if speed is not None:
            plane = ControlPlane(store, speed=speed)
            await plane.start()
        return server, url, plane

    server, url, plane = thread.run(begin())
    write_kubeconfig(kubeconfig, server.credentials, url)
    return RunningServer(thread, server, url, kubeconfig, plane, own)
