"""A simulated member behind the Kubernetes API emulator, in this process.

Each ``ops_world`` is its own loop thread, store, simulation, API server (HTTPS, client
certificates) and BinderHub ingress (HTTPS, Host/SNI routing), with a kubeconfig in a
temporary BINDERCTL_HOME and a config file naming the member. Services are driven
through the real kubernetes client; the CLI runs as a subprocess with ``world.env``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from binderctl.config import MemberConfig, load_config
from binderctl.demo.federation.hosts import EmulatedHost
from binderctl.demo.kube import types
from binderctl.demo.kube.server import KubeAPIServer
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.kube.thread import RunningServer, start_in_thread
from binderctl.demo.kube.tls import generate
from binderctl.demo.member.binderhub_http import BinderHubApp
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.simulation import Member, MemberOptions
from binderctl.demo.runtime import LoopThread

MEMBER = "opsdemo"
BINDER_HOST = "opsdemo.binder.test"
T = TypeVar("T")


@dataclass
class OpsWorld:
    runtime: LoopThread
    store: Store
    sim: Member
    kube: RunningServer
    binderhub: BinderHubApp
    member: MemberConfig
    home: Path
    config_path: Path
    prime: EmulatedHost  # the federation's prime, on the member's versions

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BINDERCTL_HOME": str(self.home),
            "BINDERCTL_CONFIG": str(self.config_path),
            "HCLOUD_TOKEN": "",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }

    @property
    def server(self) -> KubeAPIServer:
        return self.kube.server

    def member_server(self) -> str:
        return self.kube.url

    def on_loop(self, func: Callable[[], T]) -> T:
        """Run ``func`` on the emulator's loop (the store has no locks) and return."""

        async def call() -> T:
            return func()

        return self.runtime.run(call())

    def pods(self, component: str | None = None) -> list[Obj]:
        def read() -> list[Obj]:
            pods = self.store.list(types.PODS)
            if component is None:
                return [dict(p) for p in pods]
            return [p for p in pods if (p["metadata"].get("labels") or {}).get("component")
                    == component]  # fmt: skip

        return self.on_loop(read)

    def cli(self, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "binderctl", *args],
            capture_output=True,
            text=True,
            input=stdin,
            env=self.env,
            timeout=timeout,
        )


def start_world(tmp_path: Path, seed: int, speed: float, **options: Any) -> OpsWorld:
    tmp_path.mkdir(parents=True, exist_ok=True)
    runtime = LoopThread("binderctl-ops-test")
    store = Store()
    home = tmp_path / "home"
    config_path = tmp_path / "config.toml"
    tls = generate(names=[BINDER_HOST])
    ca_path = tmp_path / "binder-ca.pem"
    ca_path.write_bytes(tls.server_ca)

    async def build() -> tuple[Member, BinderHubApp, int, EmulatedHost]:
        options.setdefault("launches_per_minute", 0.0)
        sim = Member(
            store,
            MemberOptions(binder_host=BINDER_HOST, hub_host=f"hub.{BINDER_HOST}", **options),
            seed=seed,
            clock=SimClock(speed),
        )
        app = BinderHubApp(sim)
        port = await app.start("127.0.0.1", 0, tls.server_context())
        prime = EmulatedHost("prime", sim.versions())
        await prime.start()
        return sim, app, port, prime

    sim, app, port, prime = runtime.run(build())
    kube = start_in_thread(
        store,
        home / "data" / MEMBER / "kubeconfig",
        logs=sim.logs,
        metrics=sim.metrics,
        speed=speed,
        loop=runtime,
    )

    async def run_simulation() -> None:
        sim.start()

    runtime.run(run_simulation())
    document = {
        # first: tests append member keys to the end of the file
        "federation": {"hosts": {"prime": {"prime": True, "url": prime.url, "weight": 50}}},
        "members": {
            MEMBER: {
                "binder_host": BINDER_HOST,
                "ssh_allowed_cidrs": ["127.0.0.0/8"],
                "https_port": port,
                "tls_ca_bundle": str(ca_path),
                "launch_quota": 100,
            }
        },
    }
    config_path.write_text(tomli_w.dumps(document))
    member = load_config(config_path).member(MEMBER)
    return OpsWorld(runtime, store, sim, kube, app, member, home, config_path, prime)


def stop_world(world: OpsWorld) -> None:
    async def stop() -> None:
        await world.sim.stop()
        await world.binderhub.stop()
        await world.prime.stop()

    world.runtime.run(stop())
    world.kube.stop()
    world.runtime.stop()


def wait_for(condition: Callable[[], T], timeout: float = 20.0, step: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy (no fixed sleeps in tests)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {condition}")
        time.sleep(step)
