"""The simulated node's OpenSSH server: root login with the authorized keys only."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import TYPE_CHECKING

import asyncssh

if TYPE_CHECKING:
    from binderctl.demo.node.machine import SimulatedNode

SERVER_VERSION = "OpenSSH_9.6p1 Ubuntu-3ubuntu13.14"


class _ChannelOutput:
    def __init__(self, process: asyncssh.SSHServerProcess[str]) -> None:
        self._process = process

    @property
    def closing(self) -> bool:
        return self._process.is_closing()

    def out(self, text: str) -> None:
        if not self.closing:
            self._process.stdout.write(text)

    def err(self, text: str) -> None:
        if not self.closing:
            self._process.stderr.write(text)


class _Server(asyncssh.SSHServer):
    def __init__(self, daemon: SshDaemon) -> None:
        self._daemon = daemon
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._daemon.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._daemon.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == "root" and key.public_data in self._daemon.node.authorized_key_data


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a dropped connection looks to the client."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def free_port(ip: str) -> int:
    """A port free on ``ip`` now; every node has its own loopback address, so it stays free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ip, 0))
        return int(probe.getsockname()[1])


class SshDaemon:
    def __init__(self, node: SimulatedNode) -> None:
        self.node = node
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._handshakes: set[asyncio.Task[None]] = set()

    async def listen(self, ip: str, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((ip, port))
        listener.listen(128)
        listener.setblocking(False)
        self._listener = listener
        self._accepting = asyncio.create_task(self._accept(listener))

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            sock, _ = await loop.sock_accept(listener)
            faults = self.node.faults
            if faults.drop_new_connections > 0:
                faults.drop_new_connections -= 1
                _reset(sock)
                continue
            task = asyncio.create_task(self._handshake(sock))
            self._handshakes.add(task)
            task.add_done_callback(self._handshakes.discard)

    async def _handshake(self, sock: socket.socket) -> None:
        if self.node.faults.banner_delay:
            await asyncio.sleep(self.node.faults.banner_delay)
        with contextlib.suppress(asyncssh.Error, OSError, TimeoutError):
            await asyncssh.run_server(
                sock,
                server_factory=lambda: _Server(self),
                server_host_keys=[self.node.host_key],
                server_version=SERVER_VERSION,
                process_factory=self._session,
                login_timeout=30,
            )

    async def _session(self, process: asyncssh.SSHServerProcess[str]) -> None:
        if process.command is None:
            process.stderr.write(
                "this simulated node runs commands, not shells: ssh root@HOST CMD\n"
            )
            process.exit(1)
            return
        io = _ChannelOutput(process)
        with contextlib.suppress(BrokenPipeError, ConnectionError, asyncssh.Error):
            status = await self.node.shell.run(process.command, io)
            if not io.closing:
                process.exit(status)

    def drop_connections(self) -> int:
        """Abort every open SSH connection (the node stays up); how many there were."""
        dropped = list(self.connections)
        for conn in dropped:
            conn.abort()
        return len(dropped)

    async def close(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
            self._accepting = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for task in list(self._handshakes):
            task.cancel()
        self.drop_connections()
