"""The demo world: the emulators on loopback, a folder of its own, and a ready config.

``DemoWorld`` makes the folder (a temporary one unless given), an ed25519 key pair for
the operator, a config for member ``demo`` and a home for binderctl's data, state and
cache; it starts the Hetzner Cloud API emulator and gives the environment that points
binderctl (or any hcloud client) at it. The user's own config, keyring and kubeconfig
are never touched.

Later parts join through ``add_endpoint`` and ``add_cleanup`` (and the Hetzner
emulator's ``hooks``): the Kubernetes API emulator, the simulated node behind each
server, BinderHub.
"""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import tomli_w
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from binderctl.auth import TOKEN_ENV, Secret
from binderctl.config import ENDPOINT_ENV
from binderctl.demo import DEMO_SPEED
from binderctl.demo.cluster import ClusterFactory, ClusterSettings, EmulatedK3s
from binderctl.demo.dns import DemoDNS
from binderctl.demo.drills.client import CONTROL_ENV, CONTROL_TOKEN_ENV
from binderctl.demo.drills.control import ControlEndpoint
from binderctl.demo.drills.runner import DrillRunner
from binderctl.demo.federation.world import Federation
from binderctl.demo.fleet import Fleet
from binderctl.demo.hetzner import Faults, HetznerEmulator
from binderctl.demo.k3s_channels import ChannelServer
from binderctl.demo.kube import tls
from binderctl.demo.runtime import LoopThread
from binderctl.paths import CONFIG_ENV, HOME_ENV, private_dir, write_private
from binderctl.services.hetzner import BACKOFF_ENV

MEMBER = "demo"
BINDER_HOST = "demo.binder.test"
HUB_HOST = f"hub.{BINDER_HOST}"
SSH_PORT = 2222
HTTPS_PORT = 8443
DEFAULT_QUOTA = 100
# The demo member's k3s: a minor behind the stable channel, so that there is an upgrade
# to show (`binderctl upgrade plan`, `binderctl upgrade k3s`).
DEMO_K3S_VERSION = "v1.35.3+k3s1"
# Keeps `binderctl auth login` in a demo shell away from the user's real keyring.
KEYRING_ENV = "PYTHON_KEYRING_BACKEND"
NO_KEYRING = "keyring.backends.fail.Keyring"


def random_network() -> ipaddress.IPv4Network:
    """A /24 of loopback addresses, 127.X.Y.0 with X in 64..250, for the world's nodes."""
    return ipaddress.IPv4Network(f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")


class DemoWorld:
    def __init__(
        self,
        directory: Path | None = None,
        *,
        action_seconds: float = 1.0,
        backoff: float = 0.1,
        speed: float = 1.0,
        seed: int = 0,
        launches_per_minute: float = 6.0,
        sessions: int = 0,
        token: str | None = None,
        federation: bool = True,
    ) -> None:
        self._temporary = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="binderctl-demo-"))
        self.network = random_network()
        self.action_seconds = action_seconds
        self.backoff = backoff
        self.endpoints: dict[str, str] = {}
        self.runtime: LoopThread | None = None
        self._hetzner: HetznerEmulator | None = None
        # the API token the Hetzner emulator accepts (a random one unless given)
        self._token = Secret(token or secrets.token_hex(32), "demo world")
        self._control_token = Secret(secrets.token_urlsafe(32), "demo control")
        self.drills: DrillRunner | None = None
        self._control: ControlEndpoint | None = None
        self._cleanups: list[Callable[[], None]] = []
        self.speed = speed
        self.seed = seed
        self.launches_per_minute = launches_per_minute
        self.sessions = sessions
        self.fleet: Fleet | None = None
        self._with_federation = federation
        self.federation: Federation | None = None  # the redirector, the prime, another member
        self._dns: DemoDNS | None = None
        self._channels: ChannelServer | None = None

    def __repr__(self) -> str:
        return f"DemoWorld(directory={str(self.directory)!r}, network={str(self.network)!r})"

    @property
    def config_path(self) -> Path:
        return self.directory / "config.toml"

    @property
    def key_path(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def ca_path(self) -> Path:
        return self.directory / "ingress-ca.pem"

    @property
    def kubeconfig_path(self) -> Path:
        return self.home / "data" / MEMBER / "kubeconfig"

    @property
    def home(self) -> Path:
        return self.directory / "home"

    @property
    def hetzner(self) -> HetznerEmulator:
        if self._hetzner is None:
            raise RuntimeError("the demo world is not started")
        return self._hetzner

    @property
    def channels(self) -> ChannelServer:
        """k3s's channel server (knobs: ``latest``, ``delay``, ``down``)."""
        if self._channels is None:
            raise RuntimeError("the demo world is not started")
        return self._channels

    @property
    def dns(self) -> DemoDNS:
        """The world's DNS server (knobs: ``follow_primary_ip``, ``records``)."""
        if self._dns is None:
            raise RuntimeError("the demo world is not started")
        return self._dns

    def _member_records(self) -> dict[str, list[str]]:
        """The A records an operator creates: the member's primary IPv4 for the binder
        host and its wildcard (nothing while there is no primary IP)."""
        found = [
            ip.ip
            for ip in self.hetzner.project.primary_ips.values()
            if ip.type == "ipv4" and ip.labels.get("binderctl/member") == MEMBER
        ]
        return {BINDER_HOST: found[:1], f"*.{BINDER_HOST}": found[:1]} if found else {}

    @property
    def token(self) -> str:
        return self._token.reveal()

    def add_endpoint(self, name: str, url: str) -> None:
        self.endpoints[name] = url

    def add_cleanup(self, cleanup: Callable[[], None]) -> None:
        """Run at ``stop()``, last added first."""
        self._cleanups.append(cleanup)

    def start(self) -> DemoWorld:
        private_dir(self.directory)
        private_dir(self.home)
        self._write_key()
        self.runtime = LoopThread("binderctl-demo")
        self._hetzner = HetznerEmulator(
            self.runtime, self.token, self.network, Faults(action_seconds=self.action_seconds)
        )
        self.add_endpoint("Hetzner Cloud API", self._hetzner.start())
        self.add_cleanup(self._hetzner.stop)
        self._dns = DemoDNS(self.runtime, self._member_records)
        self.add_endpoint("DNS", self._dns.start())
        self.add_cleanup(self._dns.stop)
        self._channels = ChannelServer(self.runtime)
        self.add_endpoint("k3s channel server", self._channels.start())
        self.add_cleanup(self._channels.stop)
        self._start_fleet()
        self._start_control()
        if self._with_federation:
            self._start_federation()
        self._write_config()
        return self

    def _start_control(self) -> None:
        """The drills' runner and its control endpoint on loopback."""
        runtime = self.runtime
        assert runtime is not None
        self.drills = DrillRunner(self)
        control = ControlEndpoint(self.drills, self._control_token.reveal())
        self._control = control
        self.add_endpoint("Drill control", runtime.run(control.start()))
        self.add_cleanup(lambda: runtime.run(control.stop()))

    def _start_federation(self) -> None:
        assert self.runtime is not None
        federation = Federation(
            self.runtime, MEMBER, f"https://{BINDER_HOST}:{HTTPS_PORT}", speed=self.speed,
            resolve=self._resolve, ca_path=self.ca_path, seed=self.seed, publish=self._publish,
        )  # fmt: skip
        for name, url in federation.start().items():
            self.add_endpoint(name, url)
        self.federation = federation
        self.add_cleanup(federation.stop)

    def _publish(self, image: str) -> None:
        """``image`` can be pulled from now on (the demo's container registries)."""
        clusters = self.fleet.clusters.clusters.values() if self.fleet else ()
        for cluster in clusters:
            cluster.member.known_images.add(image)

    def _resolve(self, hostname: str) -> str | None:
        """The demo's DNS for the redirector: the member's hosts -> its node's address
        ("" while there is no node: the name does not resolve)."""
        if hostname not in (BINDER_HOST, HUB_HOST):
            return None
        clusters = list(self.fleet.clusters.clusters.values()) if self.fleet else []
        return clusters[0].params.public_ip if clusters else ""

    def _start_fleet(self) -> None:
        ingress = tls.generate(names=[BINDER_HOST, HUB_HOST])
        write_private(self.ca_path, ingress.server_ca)
        settings = ClusterSettings(
            binder_host=BINDER_HOST,
            hub_host=HUB_HOST,
            https_port=HTTPS_PORT,
            ingress=ingress,
            seed=self.seed,
            speed=self.speed,
            launches_per_minute=self.launches_per_minute,
            resolve_channel=self.channels.resolve,
        )
        fleet = Fleet(self.hetzner, ClusterFactory(settings), SSH_PORT)
        self.fleet = fleet
        runtime = self.runtime
        assert runtime is not None
        self.add_cleanup(lambda: runtime.run(fleet.stop()))

    def cluster(self) -> EmulatedK3s:
        """The k3s cluster of the member's node (once provisioning has started k3s)."""
        from binderctl.config import load_config
        from binderctl.services.hetzner import resource_name

        assert self.fleet is not None
        name = resource_name(load_config(self.config_path).member(MEMBER))
        cluster = self.fleet.clusters.clusters.get(name)
        if cluster is None:
            raise RuntimeError("the demo member has no k3s cluster yet: provision it first")
        return cluster

    def provision(self, on_event: Callable[[Any], None] | None = None) -> Any:
        """Bring the member up through the real pipeline, then start the world's sessions."""
        from binderctl.config import load_config
        from binderctl.services import provision
        from binderctl.services.hetzner import HetznerService

        with self.environment():
            config = load_config(self.config_path)
            member = config.member(MEMBER)
            summary = provision.provision(
                member, HetznerService.for_member(member), on_event or (lambda event: None),
                federation=config.federation,
            )  # fmt: skip
        self.start_sessions()
        return summary

    def start_sessions(self) -> None:
        """Start the world's ``sessions`` on the member, already running: call it once the
        pipeline has brought the member up (``provision`` does; so does the console's
        Provision screen in ``binderctl --demo``)."""
        if self.sessions:
            assert self.runtime is not None
            self.runtime.on_loop(self.cluster().member.add_sessions, self.sessions)

    def stop(self) -> None:
        while self._cleanups:
            self._cleanups.pop()()
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self._temporary:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_key(self) -> None:
        if self.key_path.exists():
            return
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        write_private(self.key_path, private)
        write_private(Path(f"{self.key_path}.pub"), public + b" binderctl-demo\n")

    def member_config(self) -> dict[str, Any]:
        return {
            "binder_host": BINDER_HOST,
            "ssh_allowed_cidrs": ["127.0.0.0/8"],
            "location": "nbg1",
            "server_type": "ccx63",
            "image": "ubuntu-24.04",
            "ssh_key": str(self.key_path),
            "hub_host": HUB_HOST,
            "ssh_port": SSH_PORT,
            "https_port": HTTPS_PORT,
            "tls_ca_bundle": str(self.ca_path),
            "letsencrypt_email": f"ops@{BINDER_HOST}",
            "dns_resolvers": [self.endpoints["DNS"]],
            "hcloud_endpoint": self.hetzner.url,
            "k3s_version": DEMO_K3S_VERSION,
            **self._sized_for_sessions(),
        }

    def _sized_for_sessions(self) -> dict[str, int]:
        """A busy demo member gets a quota and pod limit that fit its sessions."""
        if self.sessions <= DEFAULT_QUOTA // 2:
            return {}
        quota = self.sessions + self.sessions // 5
        return {"launch_quota": quota, "max_pods": quota + 60}

    def _write_config(self) -> None:
        document: dict[str, Any] = {}
        if self.federation is not None:  # first, so that the member's table ends the file
            document["federation"] = self.federation.config_table()
        document["upgrades"] = {"channel_url": self.channels.url}
        document["members"] = {MEMBER: self.member_config()}
        header = "# The demo world's configuration (written by `binderctl demo`).\n"
        write_private(self.config_path, header + tomli_w.dumps(document))

    @property
    def env(self) -> dict[str, str]:
        """The variables that point binderctl and hcloud clients at this world."""
        return {
            TOKEN_ENV: self.token,
            ENDPOINT_ENV: self.hetzner.url,
            CONFIG_ENV: str(self.config_path),
            HOME_ENV: str(self.home),
            BACKOFF_ENV: str(self.backoff),
            KEYRING_ENV: NO_KEYRING,
            "KUBECONFIG": str(self.kubeconfig_path),
            **self._control_env(),
        }

    def _control_env(self) -> dict[str, str]:
        if self._control is None:
            return {}
        return {CONTROL_ENV: self._control.url, CONTROL_TOKEN_ENV: self._control_token.reveal()}

    def shell_snippet(self) -> str:
        return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in self.env.items())

    @contextmanager
    def environment(self) -> Iterator[None]:
        """This process's environment pointed at the world, restored afterwards."""
        with patched_environ(self.env):
            yield


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` updated with ``values`` for the block, then restored."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def in_process_world(**options: Any) -> Iterator[DemoWorld]:
    """A temporary world started in this process with its environment applied: the seam
    for ``binderctl --demo`` (with ``--provision`` or the console)."""
    options.setdefault("speed", DEMO_SPEED)
    with DemoWorld(**options) as world, world.environment():
        yield world
