"""An emulated k3s for tests that use synchronous clients (kubernetes, kubectl, binderctl):
one of ``binderctl.demo.cluster``'s stacks, started on a loop thread and served on
127.0.0.1, with a kubeconfig for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from binderctl.demo.cluster import KubeStack, MemberStack
from binderctl.demo.kube import tls
from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.store import Store
from binderctl.demo.runtime import LoopThread
from binderctl.paths import write_private

S = TypeVar("S", bound=KubeStack)
T = TypeVar("T")


@dataclass
class RunningStack(Generic[S]):
    stack: S
    loop: LoopThread
    url: str  # the API server's
    kubeconfig: Path
    own_loop: bool  # the loop was started for the stack: it stops with it

    @property
    def store(self) -> Store:
        return self.stack.store

    def on_loop(self, func: Callable[..., T], *args: Any) -> T:
        """Call ``func(*args)`` on the stack's loop (its state has no locks)."""
        return self.loop.on_loop(func, *args)

    def stop(self) -> None:
        self.loop.run(self.stack.stop())
        if self.own_loop:
            self.loop.stop()


def run_stack(stack: S, kubeconfig: Path, loop: LoopThread | None = None) -> RunningStack[S]:
    """Start ``stack`` on ``loop`` (a new one, stopped with the stack, unless given), serve
    its API on 127.0.0.1 at a free port and write a kubeconfig for it to ``kubeconfig``."""
    thread = loop or LoopThread("test-k3s")

    async def begin() -> str:
        await stack.start()
        return await stack.serve()

    url = thread.run(begin())
    write_kubeconfig(kubeconfig, stack.credentials, url)
    return RunningStack(stack, thread, url, kubeconfig, loop is None)


def serve_ingress(running: RunningStack[MemberStack], ca_path: Path) -> int:
    """BinderHub's ingress on 127.0.0.1 at a free port, serving the member's binder and hub
    hosts; writes its CA to ``ca_path`` (the member's ``tls_ca_bundle``) and returns the
    port (its ``https_port``)."""
    options = running.stack.member.options
    ingress = tls.generate(names=[options.binder_host, options.hub_host])
    write_private(ca_path, ingress.server_ca)
    return running.loop.run(running.stack.serve_ingress("127.0.0.1", 0, ingress))
