"""Server lifecycle hooks: how the simulated node learns what the API did to its server.

The world registers async callbacks with ``hooks.add(event, hook)``. When a server is
created, is running (after create, power-on, reboot or reset), is powered off or on, is
rebooted or reset, or is deleted, the emulator runs that event's hooks in a task on its
loop, in the order they were added. A failing hook is logged; the API is unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class ServerEvent(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    POWERED_OFF = "powered_off"
    POWERED_ON = "powered_on"
    REBOOTED = "rebooted"  # reboot_server (soft) or reset_server (hard): see ``command``
    DELETED = "deleted"


@dataclass(frozen=True)
class ServerInfo:
    """What a simulated node needs to know about its server."""

    id: int
    name: str
    ipv4: str | None
    user_data: str
    ssh_public_keys: tuple[str, ...]
    labels: dict[str, str]
    server_type: str
    location: str
    image: str
    command: str  # the action that caused the event, e.g. "create_server", "reset_server"


Hook = Callable[[ServerInfo], Awaitable[None]]


class Hooks:
    def __init__(self) -> None:
        self._hooks: dict[ServerEvent, list[Hook]] = {event: [] for event in ServerEvent}

    def add(self, event: ServerEvent, hook: Hook) -> None:
        self._hooks[event].append(hook)

    async def emit(self, event: ServerEvent, info: ServerInfo) -> None:
        for hook in list(self._hooks[event]):
            try:
                await hook(info)
            except Exception:
                log.exception("hook for server %s %s failed", info.id, event)
