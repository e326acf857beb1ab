"""The records the emulated project keeps, and the JSON of the self-contained ones."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from binderctl.demo.hetzner.catalog import Image, Location, ServerType


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0).isoformat()


@dataclass
class Action:
    id: int
    command: str
    resources: list[tuple[int, str]]  # (id, type)
    duration: float
    started: float = field(default_factory=time.time)
    status: str = "running"  # running | success | error
    finished: float | None = None
    error: dict[str, str] | None = None

    def finish(self, error: dict[str, str] | None = None) -> None:
        self.finished = time.time()
        self.status = "error" if error else "success"
        self.error = error

    def progress(self) -> int:
        if self.status != "running":
            return 100
        if self.duration <= 0:
            return 99
        return min(99, int(100 * (time.time() - self.started) / self.duration))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "command": self.command,
            "status": self.status,
            "progress": self.progress(),
            "started": timestamp(self.started),
            "finished": timestamp(self.finished) if self.finished else None,
            "resources": [{"id": rid, "type": rtype} for rid, rtype in self.resources],
            "error": self.error,
        }

    def concerns(self, kind: str, resource_id: int) -> bool:
        return (resource_id, kind) in self.resources


@dataclass
class SshKey:
    id: int
    name: str
    public_key: str
    fingerprint: str
    labels: dict[str, str]
    created: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "labels": self.labels,
            "created": timestamp(self.created),
        }


@dataclass
class PrimaryIp:
    id: int
    name: str
    type: str  # ipv4 | ipv6
    ip: str
    location: Location
    auto_delete: bool
    labels: dict[str, str]
    assignee_id: int | None = None
    blocked: bool = False
    created: float = field(default_factory=time.time)


@dataclass
class Rule:
    direction: str
    protocol: str
    port: str | None
    source_ips: list[str]
    destination_ips: list[str]
    description: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "protocol": self.protocol,
            "port": self.port,
            "source_ips": self.source_ips,
            "destination_ips": self.destination_ips,
            "description": self.description,
        }


@dataclass
class Firewall:
    id: int
    name: str
    labels: dict[str, str]
    rules: list[Rule]
    server_ids: list[int] = field(default_factory=list)  # applied directly
    selectors: list[str] = field(default_factory=list)  # applied by label selector
    created: float = field(default_factory=time.time)


@dataclass
class Server:
    id: int
    name: str
    server_type: ServerType
    location: Location
    image: Image
    labels: dict[str, str]
    user_data: str
    ssh_keys: list[SshKey]
    status: str = "initializing"
    ipv4_id: int | None = None
    ipv6_id: int | None = None
    locked: bool = False
    created: float = field(default_factory=time.time)
    outgoing_traffic: float = 0.0
    ingoing_traffic: float = 0.0
    traffic_sampled: float = field(default_factory=time.time)
