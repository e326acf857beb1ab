"""Primary IPs of the emulated project: addresses from the world's /24, assignment rules."""

from __future__ import annotations

import itertools
from typing import Any

from binderctl.demo.hetzner import body as read
from binderctl.demo.hetzner.catalog import Location, datacenter_json
from binderctl.demo.hetzner.core import ProjectCore
from binderctl.demo.hetzner.errors import ApiError, invalid_input, uniqueness
from binderctl.demo.hetzner.resources import PrimaryIp, Server, timestamp


class PrimaryIpOps(ProjectCore):
    def _address(self, kind: str) -> str:
        used = {ip.ip for ip in self.primary_ips.values()}
        if kind == "ipv6":
            prefix = int(self.network.network_address) & 0xFFFF
            for n in itertools.count(1):
                candidate = f"2001:db8:{prefix:x}:{n:x}::/64"
                if candidate not in used:
                    return candidate
        for host in list(self.network.hosts())[9:]:
            if str(host) not in used:
                return str(host)
        raise ApiError("resource_unavailable", "no free IPv4 addresses left in this location")

    def _allocate(
        self, kind: str, location: Location, name: str, auto_delete: bool, labels: dict[str, str]
    ) -> PrimaryIp:
        ip = PrimaryIp(
            next(self._ids), name, kind, self._address(kind), location, auto_delete, labels
        )
        self.primary_ips[ip.id] = ip
        return ip

    def primary_ip_json(self, ip: PrimaryIp) -> dict[str, Any]:
        return {
            "id": ip.id,
            "name": ip.name,
            "type": ip.type,
            "ip": ip.ip,
            "dns_ptr": [],
            "blocked": ip.blocked,
            "auto_delete": ip.auto_delete,
            "assignee_id": ip.assignee_id,
            "assignee_type": "server",
            "labels": ip.labels,
            "created": timestamp(ip.created),
            "datacenter": datacenter_json(ip.location),
            "location": ip.location.to_json(),
            "protection": {"delete": False},
        }

    def _check_assignable(self, ip: PrimaryIp, server: Server) -> None:
        if server.status != "off":
            raise ApiError("server_not_stopped", f"server {server.id} must be powered off")
        if (server.ipv4_id if ip.type == "ipv4" else server.ipv6_id) is not None:
            raise ApiError(f"server_has_{ip.type}", f"server {server.id} already has an {ip.type}")
        if ip.location is not server.location:
            raise ApiError(
                "primary_ip_datacenter_mismatch",
                f"primary IP {ip.id} is in {ip.location.name}, server {server.id} is not",
            )

    def _assign(self, ip: PrimaryIp, server: Server) -> None:
        ip.assignee_id = server.id
        if ip.type == "ipv4":
            server.ipv4_id = ip.id
        else:
            server.ipv6_id = ip.id

    def create_primary_ip(self, data: dict[str, Any]) -> dict[str, Any]:
        name = read.resource_name(data)
        kind = read.string(data, "type")
        if kind not in ("ipv4", "ipv6"):
            raise invalid_input("type", "type must be 'ipv4' or 'ipv6'")
        if (read.optional_string(data, "assignee_type") or "server") != "server":
            raise invalid_input("assignee_type", "assignee_type must be 'server'")
        labels = read.labels(data)
        auto_delete = read.flag(data, "auto_delete", False)
        assignee = data.get("assignee_id")
        server = self.server(read.integer(assignee, "assignee_id")) if assignee else None
        where = read.optional_id_or_name(data, "location") or read.optional_id_or_name(
            data, "datacenter"
        )
        if server is not None:
            location = server.location
        elif where:
            location = self._location(where, "location")
        else:
            raise invalid_input("location", "location or assignee_id is required")
        if any(ip.name == name for ip in self.primary_ips.values()):
            raise uniqueness("name", "primary IP name is already used")
        ip = PrimaryIp(
            next(self._ids), name or "", kind, self._address(kind), location, auto_delete, labels
        )
        if server is not None:
            self._check_assignable(ip, server)
        self.primary_ips[ip.id] = ip
        response: dict[str, Any] = {"primary_ip": self.primary_ip_json(ip)}
        if server is not None:
            self._assign(ip, server)
            action = self._action(
                "create_primary_ip", [(ip.id, "primary_ip"), (server.id, "server")]
            )
            self._run(action)
            response = {"primary_ip": self.primary_ip_json(ip), "action": action.to_json()}
        return response

    def update_primary_ip(self, ip: PrimaryIp, data: dict[str, Any]) -> dict[str, Any]:
        name = read.resource_name(data, required=False)
        if name is not None:
            if any(other.name == name and other is not ip for other in self.primary_ips.values()):
                raise uniqueness("name", "primary IP name is already used")
            ip.name = name
        ip.labels = read.labels(data, default=ip.labels)
        ip.auto_delete = read.flag(data, "auto_delete", ip.auto_delete)
        return {"primary_ip": self.primary_ip_json(ip)}

    def delete_primary_ip(self, ip: PrimaryIp) -> None:
        if ip.assignee_id is not None:
            raise ApiError(
                "primary_ip_assigned",
                f"primary IP {ip.id} is assigned to server {ip.assignee_id}; unassign it first",
            )
        del self.primary_ips[ip.id]

    def assign_primary_ip(self, ip: PrimaryIp, data: dict[str, Any]) -> dict[str, Any]:
        server = self.server(read.integer(data.get("assignee_id"), "assignee_id"))
        if ip.assignee_id is not None:
            raise ApiError("primary_ip_assigned", f"primary IP {ip.id} is already assigned")
        self._check_assignable(ip, server)
        action = self._action("assign_primary_ip", [(ip.id, "primary_ip"), (server.id, "server")])
        self._assign(ip, server)
        self._run(action)
        return {"action": action.to_json()}

    def unassign_primary_ip(self, ip: PrimaryIp) -> dict[str, Any]:
        server = self.servers.get(ip.assignee_id) if ip.assignee_id else None
        if server is not None and server.status != "off":
            raise ApiError("server_not_stopped", f"server {server.id} must be powered off")
        action = self._action("unassign_primary_ip", [(ip.id, "primary_ip")])
        if server is not None:
            if server.ipv4_id == ip.id:
                server.ipv4_id = None
            if server.ipv6_id == ip.id:
                server.ipv6_id = None
        ip.assignee_id = None
        self._run(action)
        return {"action": action.to_json()}
