"""The emulated Hetzner Cloud project: servers, with the other kinds mixed in."""

from __future__ import annotations

import secrets
import time
from typing import Any

from binderctl.demo.hetzner import body as read
from binderctl.demo.hetzner.catalog import LOCATIONS, Location, datacenter_json
from binderctl.demo.hetzner.errors import ApiError, invalid_input, uniqueness
from binderctl.demo.hetzner.events import ServerEvent
from binderctl.demo.hetzner.firewalls import FirewallOps
from binderctl.demo.hetzner.primary_ips import PrimaryIpOps
from binderctl.demo.hetzner.resources import PrimaryIp, Server, timestamp
from binderctl.demo.hetzner.ssh_keys import SshKeyOps

MAX_USER_DATA = 32 * 1024


class Project(FirewallOps, PrimaryIpOps, SshKeyOps):
    """Everything one API token sees; the API routes call its methods."""

    def _traffic(self, server: Server) -> None:
        now = time.time()
        if server.status == "running":
            elapsed = now - server.traffic_sampled
            server.outgoing_traffic += self.traffic_rate[0] * elapsed
            server.ingoing_traffic += self.traffic_rate[1] * elapsed
        server.traffic_sampled = now

    def abuse_block(self, server_id: int, *, lock: bool = False, blocked: bool = True) -> None:
        """What Hetzner's abuse desk does: block the server's IPv4 (``blocked`` on the
        server's ``public_net.ipv4`` and on its primary IP) and, with ``lock``, lock the
        server (``locked``: it takes no action). ``blocked=False`` lifts both."""
        server = self.server(server_id)
        ipv4 = self.primary_ips.get(server.ipv4_id) if server.ipv4_id else None
        if ipv4 is not None:
            ipv4.blocked = blocked
        server.locked = lock and blocked

    def add_traffic(self, server_id: int, outgoing: int, ingoing: int) -> None:
        server = self.server(server_id)
        self._traffic(server)
        server.outgoing_traffic += outgoing
        server.ingoing_traffic += ingoing

    def server_json(self, server: Server) -> dict[str, Any]:
        self._traffic(server)
        ipv4 = self.primary_ips.get(server.ipv4_id) if server.ipv4_id else None
        ipv6 = self.primary_ips.get(server.ipv6_id) if server.ipv6_id else None
        applied = "pending" if server.status == "initializing" else "applied"
        return {
            "id": server.id,
            "name": server.name,
            "status": server.status,
            "created": timestamp(server.created),
            "public_net": {
                "ipv4": ipv4
                and {
                    "id": ipv4.id,
                    "ip": ipv4.ip,
                    "blocked": ipv4.blocked,
                    "dns_ptr": f"static.{'.'.join(reversed(ipv4.ip.split('.')))}"
                    ".clients.your-server.de",
                },
                "ipv6": ipv6 and {"id": ipv6.id, "ip": ipv6.ip, "blocked": False, "dns_ptr": []},
                "floating_ips": [],
                "firewalls": [{"id": fw.id, "status": applied} for fw in self.firewalls_of(server)],
            },
            "private_net": [],
            "server_type": server.server_type.to_json(),
            "datacenter": datacenter_json(server.location),
            "location": server.location.to_json(),
            "image": server.image.to_json(),
            "iso": None,
            "rescue_enabled": False,
            "locked": server.locked,
            "backup_window": None,
            "outgoing_traffic": int(server.outgoing_traffic),
            "ingoing_traffic": int(server.ingoing_traffic),
            "included_traffic": server.server_type.included_traffic(server.location.name),
            "protection": {"delete": False, "rebuild": False},
            "labels": server.labels,
            "volumes": [],
            "load_balancers": [],
            "primary_disk_size": server.server_type.disk,
            "placement_group": None,
        }

    def _primary_ip_for_server(self, value: Any, kind: str, location: Location) -> PrimaryIp:
        field = f"public_net.{kind}"
        ip = self.primary_ips.get(read.integer(value, field))
        if ip is None:
            raise invalid_input(field, f"primary IP {value} not found")
        if ip.type != kind:
            raise ApiError("primary_ip_version_mismatch", f"primary IP {ip.id} is not {kind}")
        if ip.assignee_id is not None:
            raise ApiError(
                "primary_ip_assigned", f"primary IP {ip.id} is assigned to server {ip.assignee_id}"
            )
        if ip.location is not location:
            raise ApiError(
                "primary_ip_datacenter_mismatch",
                f"primary IP {ip.id} is in {ip.location.name}, the server in {location.name}",
            )
        return ip

    def create_server(self, data: dict[str, Any]) -> dict[str, Any]:
        name = read.hostname(data)
        if any(s.name == name for s in self.servers.values()):
            raise uniqueness("name", "server name is already used")
        server_type = self._server_type(read.id_or_name(data, "server_type"))
        image = self._image(read.id_or_name(data, "image"), server_type.architecture)
        where = read.optional_id_or_name(data, "location") or read.optional_id_or_name(
            data, "datacenter"
        )
        location = self._location(where, "location") if where else LOCATIONS["fsn1"]
        if location.name not in server_type.prices:
            offered = ", ".join(sorted(loc for loc in server_type.prices))
            raise ApiError(
                "invalid_input",
                f"server type {server_type.name} is not available in location {location.name}",
                {
                    "fields": [
                        {
                            "name": "server_type",
                            "messages": [
                                f"server type {server_type.name} is not available in location "
                                f"{location.name} (it is available in {offered})"
                            ],
                        }
                    ]
                },
            )
        keys = [self._ssh_key_ref(ref) for ref in read.object_list(data, "ssh_keys")]
        firewalls = []
        for entry in read.object_list(data, "firewalls"):
            ref = entry.get("firewall") if isinstance(entry, dict) else None
            firewall_id = read.integer(ref, "firewalls")
            if firewall_id not in self.firewalls:
                raise invalid_input("firewalls", f"firewall {ref} not found")
            firewalls.append(self.firewalls[firewall_id])
        user_data = read.optional_string(data, "user_data") or ""
        if len(user_data.encode()) > MAX_USER_DATA:
            raise invalid_input("user_data", f"user_data must not exceed {MAX_USER_DATA} bytes")
        labels = read.labels(data)
        public_net = data.get("public_net") or {}
        if not isinstance(public_net, dict):
            raise invalid_input("public_net", "Not a valid object.")
        ipv4 = ipv6 = None
        if read.flag(public_net, "enable_ipv4", True) and public_net.get("ipv4") is not None:
            ipv4 = self._primary_ip_for_server(public_net["ipv4"], "ipv4", location)
        if read.flag(public_net, "enable_ipv6", True) and public_net.get("ipv6") is not None:
            ipv6 = self._primary_ip_for_server(public_net["ipv6"], "ipv6", location)
        limit = self.faults.server_limit
        if limit is not None and len(self.servers) >= limit:
            raise ApiError(
                "resource_limit_exceeded", f"server limit of {limit} exceeded for this project"
            )
        server = Server(
            next(self._ids), name, server_type, location, image, labels, user_data, keys
        )
        self.servers[server.id] = server
        if read.flag(public_net, "enable_ipv4", True):
            ipv4 = ipv4 or self._allocate("ipv4", location, f"primary_ip-{server.id}", True, {})
            ipv4.assignee_id, server.ipv4_id = server.id, ipv4.id
        if read.flag(public_net, "enable_ipv6", True):
            ipv6 = ipv6 or self._allocate("ipv6", location, f"primary_ip-{server.id}-v6", True, {})
            ipv6.assignee_id, server.ipv6_id = server.id, ipv6.id
        for firewall in firewalls:
            firewall.server_ids.append(server.id)
        start = read.flag(data, "start_after_create", True)
        create = self._action("create_server", [(server.id, "server")])
        next_actions = [self._action("start_server", [(server.id, "server")])] if start else []

        def created() -> None:
            server.status = "running" if start else "off"
            server.traffic_sampled = time.time()
            if start:
                self._emit(ServerEvent.RUNNING, server, "create_server")

        def failed() -> None:
            server.status = "off"

        self._run(create, created, failed, chained=tuple(next_actions))
        self._emit(ServerEvent.CREATED, server, "create_server")
        return {
            "server": self.server_json(server),
            "action": create.to_json(),
            "next_actions": [a.to_json() for a in next_actions],
            "root_password": None if keys else secrets.token_urlsafe(12),
        }

    def update_server(self, server: Server, data: dict[str, Any]) -> dict[str, Any]:
        name = read.optional_string(data, "name")
        if name is not None:
            read.hostname(data)
            if any(s.name == name and s is not server for s in self.servers.values()):
                raise uniqueness("name", "server name is already used")
            server.name = name
        server.labels = read.labels(data, default=server.labels)
        return {"server": self.server_json(server)}

    def delete_server(self, server: Server) -> dict[str, Any]:
        action = self._action("delete_server", [(server.id, "server")])
        server.status = "deleting"

        def deleted() -> None:
            self._traffic(server)
            self.servers.pop(server.id, None)
            for ip_id in (server.ipv4_id, server.ipv6_id):
                ip = self.primary_ips.get(ip_id) if ip_id else None
                if ip is None:
                    continue
                ip.assignee_id = None
                if ip.auto_delete:
                    del self.primary_ips[ip.id]
            for firewall in self.firewalls.values():
                if server.id in firewall.server_ids:
                    firewall.server_ids.remove(server.id)
            self._emit(ServerEvent.DELETED, server, "delete_server")

        self._run(action, deleted)
        return {"action": action.to_json()}

    def power(self, server: Server, verb: str) -> dict[str, Any]:
        """``poweron``, ``poweroff``, ``shutdown``, ``reboot`` or ``reset``."""
        command = {
            "poweron": "start_server",
            "poweroff": "stop_server",
            "shutdown": "shutdown_server",
            "reboot": "reboot_server",
            "reset": "reset_server",
        }[verb]
        if server.status in ("initializing", "deleting") or self.busy("server", server.id):
            raise ApiError("locked", f"server {server.id} is locked by a running action")
        if server.locked:
            raise ApiError("locked", f"server {server.id} is locked")
        action = self._action(command, [(server.id, "server")])

        def done() -> None:
            self._traffic(server)
            if verb == "poweron":
                was_off, server.status = server.status == "off", "running"
                if was_off:
                    self._emit(ServerEvent.POWERED_ON, server, command)
                    self._emit(ServerEvent.RUNNING, server, command)
            elif verb in ("poweroff", "shutdown"):
                was_on, server.status = server.status != "off", "off"
                if was_on:
                    self._emit(ServerEvent.POWERED_OFF, server, command)
            elif server.status == "running":
                self._emit(ServerEvent.REBOOTED, server, command)
                self._emit(ServerEvent.RUNNING, server, command)

        self._run(action, done)
        return {"action": action.to_json()}
