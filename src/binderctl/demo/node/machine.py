"""One simulated Hetzner server running Ubuntu 24.04, reachable over real SSH.

The world builds one per server the Hetzner emulator creates::

    node = SimulatedNode(name, ip, user_data, authorized_keys, host_key, k3s_starter, timings)
    await node.start(port)     # power on: sshd, cloud-init, and k3s if the user data installs it
    await node.reboot()        # or `reboot` over SSH
    await node.stop()          # power off; the disk stays, `start` boots it again
    await node.rebuild()       # a reinstalled server: fresh disk, new host key

All of it runs on the event loop that calls ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import asyncssh

from binderctl.demo.node.cloudinit import CloudInit
from binderctl.demo.node.fs import MemoryFS
from binderctl.demo.node.journal import Journal
from binderctl.demo.node.k3s import K3sService, K3sStarter
from binderctl.demo.node.settings import NodeFaults, NodeTimings
from binderctl.demo.node.shell import Shell
from binderctl.demo.node.sshd import SshDaemon, free_port
from binderctl.demo.node.streams import Output
from binderctl.demo.node.sysctl import Sysctl

HostKey = asyncssh.SSHKey | Path | str | None
BOOT_ID = "/proc/sys/kernel/random/boot_id"
# A fresh Ubuntu cloud image uses about this much of the disk.
BASE_DISK_USED = 2_900_000_000


def load_host_key(host_key: HostKey) -> asyncssh.SSHKey:
    """The key as given, read from a path, or a new ed25519 key (as a fresh server makes)."""
    if isinstance(host_key, asyncssh.SSHKey):
        return host_key
    if host_key is None:
        return asyncssh.generate_private_key("ssh-ed25519")
    return asyncssh.read_private_key(host_key)


class SimulatedNode:
    def __init__(
        self,
        name: str,
        ip: str,
        user_data: str | None,
        authorized_keys: Sequence[str],
        host_key: HostKey,
        k3s_starter: K3sStarter,
        timings: NodeTimings | None = None,
        *,
        faults: NodeFaults | None = None,
        memory_gib: int = 16,
        disk_bytes: int = 160 * 10**9,
    ) -> None:
        self.name = name
        self.ip = ip
        self.port = 0
        self.timings = timings or NodeTimings()
        self.faults = faults or NodeFaults()
        self.host_key = load_host_key(host_key)
        self.authorized_key_data = frozenset(
            asyncssh.import_public_key(key).public_data for key in authorized_keys
        )
        self._user_data = user_data
        self._starter = k3s_starter
        self._memory_gib = memory_gib
        self._disk_bytes = disk_bytes
        self.shell = Shell(self)
        self._sshd = SshDaemon(self)
        self._boot_task: asyncio.Task[None] | None = None
        self._reboot_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._reimage()

    def _reimage(self) -> None:
        """A freshly installed disk: nothing but what the image brings."""
        self.fs = MemoryFS()
        self.journal = Journal(self.name)
        self.cloud_init = CloudInit(self.fs, self._user_data)
        self.sysctl = Sysctl(self.fs, self._memory_gib)
        self.k3s = K3sService(
            fs=self.fs,
            journal=self.journal,
            starter=self._starter,
            timings=self.timings,
            faults=self.faults,
            hostname=self.name,
            public_ip=self.ip,
        )

    @property
    def host_key_fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    # -- power -----------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Power on. SSH answers on ``ip:port`` once booted (0: the port it had, or a free one)."""
        self.port = port or self.port or free_port(self.ip)
        self._power_on()

    def _power_on(self) -> None:
        self._boot_task = asyncio.create_task(self._boot())

    async def _boot(self) -> None:
        boot_id = uuid.uuid4()
        self.journal.boot_id = boot_id.hex
        self.fs.write(BOOT_ID, f"{boot_id}\n", mode=0o444)
        self.sysctl.reset()
        self.cloud_init.power_on()
        await asyncio.sleep(self.timings.boot)
        self.sysctl.apply_all()
        await self.cloud_init.run_early(self.timings.cloud_init)
        await self._sshd.listen(self.ip, self.port)
        if self.k3s.installed:
            self._spawn(self.k3s.start())
        await self.cloud_init.run_late(self._run_script_line)

    async def _run_script_line(self, line: str, io: Output, number: int) -> int:
        return await self.shell.run(line, io, script_line=number)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _power_off(self) -> None:
        tasks = [t for t in (self._boot_task, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._sshd.close()
        await self.k3s.stop()

    async def stop(self) -> None:
        if self._reboot_task is not None:
            self._reboot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reboot_task
        await self._power_off()

    async def reboot(self) -> None:
        """Shut down (connections drop, k3s stops) and boot again from the same disk."""
        self.journal.systemd("systemd-logind.service", "The system will reboot now!")
        await self._power_off()
        self._power_on()

    def request_reboot(self) -> None:
        """What ``reboot`` does: returns at once, the machine goes down just after."""
        self._reboot_task = asyncio.create_task(self.reboot())

    async def rebuild(self, *, user_data: str | None = None, host_key: HostKey = None) -> None:
        """Reinstall: fresh disk and host key, cloud-init runs again (new k3s cluster)."""
        await self._power_off()
        if user_data is not None:
            self._user_data = user_data
        self.host_key = load_host_key(host_key)
        self._reimage()
        self._power_on()

    # -- faults and figures ----------------------------------------------------

    def drop_connections(self) -> int:
        """Abort every open SSH connection; the node stays up. Returns how many."""
        return self._sshd.drop_connections()

    async def disk_usage(self) -> tuple[int, int]:
        """(used, total) bytes of the root filesystem."""
        if self.k3s.cluster is not None:
            return await self.k3s.cluster.disk_usage()
        return BASE_DISK_USED, self._disk_bytes
