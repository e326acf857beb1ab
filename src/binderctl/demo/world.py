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
from binderctl.demo.hetzner import Faults, HetznerEmulator
from binderctl.demo.runtime import LoopThread
from binderctl.paths import CONFIG_ENV, HOME_ENV, private_dir, write_private
from binderctl.services.hetzner import BACKOFF_ENV

MEMBER = "demo"
BINDER_HOST = "demo.binder.test"
# Keeps `binderctl auth login` in a demo shell away from the user's real keyring.
KEYRING_ENV = "PYTHON_KEYRING_BACKEND"
NO_KEYRING = "keyring.backends.fail.Keyring"


def random_network() -> ipaddress.IPv4Network:
    """A /24 of loopback addresses, 127.X.Y.0 with X in 64..250, for the world's nodes."""
    return ipaddress.IPv4Network(f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")


class DemoWorld:
    def __init__(
        self, directory: Path | None = None, *, action_seconds: float = 1.0, backoff: float = 0.1
    ) -> None:
        self._temporary = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="binderctl-demo-"))
        self.network = random_network()
        self.action_seconds = action_seconds
        self.backoff = backoff
        self.endpoints: dict[str, str] = {}
        self.runtime: LoopThread | None = None
        self._hetzner: HetznerEmulator | None = None
        self._token = Secret(secrets.token_hex(32), "demo world")
        self._cleanups: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"DemoWorld(directory={str(self.directory)!r}, network={str(self.network)!r})"

    @property
    def config_path(self) -> Path:
        return self.directory / "config.toml"

    @property
    def key_path(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def home(self) -> Path:
        return self.directory / "home"

    @property
    def hetzner(self) -> HetznerEmulator:
        if self._hetzner is None:
            raise RuntimeError("the demo world is not started")
        return self._hetzner

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
        self._write_config()
        return self

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
            "ssh_port": 2222,
            "https_port": 8443,
            "letsencrypt_email": f"ops@{BINDER_HOST}",
            "hcloud_endpoint": self.hetzner.url,
        }

    def _write_config(self) -> None:
        document = {"members": {MEMBER: self.member_config()}}
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
        }

    def shell_snippet(self) -> str:
        return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in self.env.items())

    @contextmanager
    def environment(self) -> Iterator[None]:
        """This process's environment pointed at the world, restored afterwards."""
        saved = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
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
    with DemoWorld(**options) as world, world.environment():
        yield world
