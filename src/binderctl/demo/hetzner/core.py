"""The emulated Hetzner Cloud project's state: records, ids, actions and lookups.

Everything runs on the emulator's asyncio loop. Actions run for
``faults.action_seconds`` and then take effect; server lifecycle changes are announced
to the world's hooks (see ``events.py``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import secrets
from collections.abc import Callable
from typing import Any

from binderctl.demo.hetzner.catalog import (
    IMAGES,
    LOCATIONS,
    SERVER_TYPES,
    Image,
    Location,
    ServerType,
)
from binderctl.demo.hetzner.errors import invalid_input, not_found
from binderctl.demo.hetzner.events import Hooks, ServerEvent, ServerInfo
from binderctl.demo.hetzner.faults import Faults
from binderctl.demo.hetzner.resources import Action, Firewall, PrimaryIp, Server, SshKey

Effect = Callable[[], None]


class ProjectCore:
    """The project's records, ids, actions and lookups; the resource kinds build on it."""

    def __init__(self, network: ipaddress.IPv4Network, faults: Faults, hooks: Hooks) -> None:
        self.network = network
        self.faults = faults
        self.hooks = hooks
        self.traffic_rate = (250_000.0, 60_000.0)  # bytes/s out, in, while running
        self.servers: dict[int, Server] = {}
        self.ssh_keys: dict[int, SshKey] = {}
        self.firewalls: dict[int, Firewall] = {}
        self.primary_ips: dict[int, PrimaryIp] = {}
        self.actions: dict[int, Action] = {}
        self._ids = itertools.count(4_200_000 + secrets.randbelow(100_000))
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_hooks: asyncio.Task[None] | None = None

    # ---- plumbing -------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _action(self, command: str, resources: list[tuple[int, str]]) -> Action:
        action = Action(next(self._ids), command, resources, self.faults.action_seconds)
        self.actions[action.id] = action
        return action

    def _run(
        self,
        action: Action,
        effect: Effect | None = None,
        on_error: Effect | None = None,
        *,
        chained: tuple[Action, ...] = (),
    ) -> None:
        """Finish ``action`` (and ``chained`` ones) after its duration, then apply ``effect``."""

        async def run() -> None:
            await asyncio.sleep(action.duration)
            if action.command in self.faults.failing_actions:
                error = {"code": "action_failed", "message": f"{action.command} failed"}
                for each in (action, *chained):
                    each.finish(error)
                if on_error:
                    on_error()
                return
            if effect:
                effect()
            for each in (action, *chained):
                each.finish()

        self._spawn(run())

    def _emit(self, event: ServerEvent, server: Server, command: str) -> None:
        ip = self.primary_ips.get(server.ipv4_id) if server.ipv4_id else None
        info = ServerInfo(
            id=server.id,
            name=server.name,
            ipv4=ip.ip if ip else None,
            user_data=server.user_data,
            ssh_public_keys=tuple(key.public_key for key in server.ssh_keys),
            labels=dict(server.labels),
            server_type=server.server_type.name,
            location=server.location.name,
            image=server.image.name,
            command=command,
        )
        previous = self._last_hooks

        async def deliver() -> None:
            # Hooks see a server's events in the order they happened, however long each takes.
            if previous is not None:
                await asyncio.wait([previous])
            await self.hooks.emit(event, info)

        self._last_hooks = self._spawn(deliver())

    def busy(self, kind: str, resource_id: int) -> bool:
        return any(
            a.status == "running" and a.concerns(kind, resource_id) for a in self.actions.values()
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- lookups ----------------------------------------------------------------------

    def server(self, server_id: int) -> Server:
        if server_id not in self.servers:
            raise not_found("server", server_id)
        return self.servers[server_id]

    def ssh_key(self, key_id: int) -> SshKey:
        if key_id not in self.ssh_keys:
            raise not_found("ssh_key", key_id)
        return self.ssh_keys[key_id]

    def firewall(self, firewall_id: int) -> Firewall:
        if firewall_id not in self.firewalls:
            raise not_found("firewall", firewall_id)
        return self.firewalls[firewall_id]

    def primary_ip(self, ip_id: int) -> PrimaryIp:
        if ip_id not in self.primary_ips:
            raise not_found("primary_ip", ip_id)
        return self.primary_ips[ip_id]

    def action(self, action_id: int) -> Action:
        if action_id not in self.actions:
            raise not_found("action", action_id)
        return self.actions[action_id]

    @staticmethod
    def _location(value: int | str, field: str) -> Location:
        for location in LOCATIONS.values():
            if value in (location.id, location.name):
                return location
        for location in LOCATIONS.values():
            if value == location.datacenter:
                return location
        raise invalid_input(field, f"{field} {value!r} not found")

    @staticmethod
    def _server_type(value: int | str) -> ServerType:
        for server_type in SERVER_TYPES.values():
            if value in (server_type.id, server_type.name):
                return server_type
        raise invalid_input("server_type", f"server type {value!r} not found")

    @staticmethod
    def _image(value: int | str, architecture: str) -> Image:
        for image in IMAGES:
            if image.id == value or (image.name == value and image.architecture == architecture):
                return image
        raise invalid_input("image", f"image {value!r} not found for architecture {architecture}")

    def _ssh_key_ref(self, value: Any) -> SshKey:
        for key in self.ssh_keys.values():
            if value in (key.id, key.name, str(key.id)):
                return key
        raise invalid_input("ssh_keys", f"SSH key {value!r} not found")
