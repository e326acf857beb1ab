"""A simulated member behind the Kubernetes API emulator, in this process.

Each ``ops_world`` is the kit's emulated k3s (``MemberStack``) on a loop thread of its
own, with BinderHub's ingress (HTTPS, Host/SNI routing) and the federation's prime, a
kubeconfig in a temporary BINDERCTL_HOME and a config file naming the member. Services
are driven through the real kubernetes client; the CLI runs as a subprocess
(``tests.kit.cli.run_cli(world, ...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from binderctl.config import MemberConfig, load_config
from binderctl.demo.cluster import MemberStack
from binderctl.demo.federation.hosts import EmulatedHost
from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj
from binderctl.demo.member.simulation import Member, MemberOptions
from tests.kit.cli import cli_env
from tests.kit.k3s import RunningStack, run_stack, serve_ingress

MEMBER = "opsdemo"
BINDER_HOST = "opsdemo.binder.test"


@dataclass
class OpsWorld(RunningStack[MemberStack]):
    member: MemberConfig
    home: Path
    config_path: Path
    prime: EmulatedHost  # the federation's prime, on the member's versions

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.home, self.config_path)

    @property
    def sim(self) -> Member:
        return self.stack.member

    def pods(self, component: str | None = None) -> list[Obj]:
        def read() -> list[Obj]:
            pods = self.store.list(types.PODS)
            if component is None:
                return [dict(p) for p in pods]
            return [p for p in pods if (p["metadata"].get("labels") or {}).get("component")
                    == component]  # fmt: skip

        return self.on_loop(read)


def start_world(tmp_path: Path, seed: int, speed: float, **options: Any) -> OpsWorld:
    tmp_path.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    config_path = tmp_path / "config.toml"
    ca_path = tmp_path / "binder-ca.pem"
    options.setdefault("launches_per_minute", 0.0)
    stack = MemberStack(
        MemberOptions(binder_host=BINDER_HOST, hub_host=f"hub.{BINDER_HOST}", **options),
        speed=speed,
        seed=seed,
    )
    k3s = run_stack(stack, home / "data" / MEMBER / "kubeconfig")
    port = serve_ingress(k3s, ca_path)
    prime = EmulatedHost("prime", stack.member.versions())
    k3s.loop.run(prime.start())
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
    return OpsWorld(**vars(k3s), member=member, home=home, config_path=config_path, prime=prime)


def stop_world(world: OpsWorld) -> None:
    world.loop.run(world.prime.stop())
    world.stop()
