"""Firewalls of the emulated project: rules, where they apply, their actions."""

from __future__ import annotations

import ipaddress
from typing import Any

from binderctl.demo.hetzner import body as read
from binderctl.demo.hetzner.core import ProjectCore
from binderctl.demo.hetzner.errors import ApiError, invalid_input, uniqueness
from binderctl.demo.hetzner.labels import parse_selector
from binderctl.demo.hetzner.resources import Action, Firewall, Rule, Server, timestamp

_PROTOCOLS = ("tcp", "udp", "icmp", "esp", "gre")


def _port(value: Any) -> str:
    if value == "any":
        return value
    if not isinstance(value, str):
        raise ValueError("port must be a string like '22' or '80-85'")
    low, _, high = value.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        raise ValueError(f"invalid port {value!r}")
    if not 1 <= int(low) <= int(high or low) <= 65535:
        raise ValueError(f"port {value!r} is out of range 1-65535")
    return value


def _networks(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"{field} must be a list of CIDRs")
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except (TypeError, ValueError):
            raise ValueError(f"{item!r} in {field} is not a valid CIDR") from None
    return list(value)


def _rule(raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError("each rule must be an object")
    direction, protocol = raw.get("direction"), raw.get("protocol")
    if direction not in ("in", "out"):
        raise ValueError("direction must be 'in' or 'out'")
    if protocol not in _PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(_PROTOCOLS)}")
    port = raw.get("port")
    if protocol in ("tcp", "udp"):
        port = _port(port)
    elif port is not None:
        raise ValueError(f"port is not allowed for protocol {protocol}")
    sources = _networks(raw.get("source_ips", []), "source_ips")
    destinations = _networks(raw.get("destination_ips", []), "destination_ips")
    if direction == "in" and not sources:
        raise ValueError("rules with direction 'in' need source_ips")
    if direction == "out" and not destinations:
        raise ValueError("rules with direction 'out' need destination_ips")
    description = raw.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        raise ValueError("description must be a string of at most 255 characters")
    return Rule(direction, protocol, port, sources, destinations, description)


def _rules(body: dict[str, Any]) -> list[Rule]:
    try:
        return [_rule(raw) for raw in read.object_list(body, "rules")]
    except ValueError as exc:
        raise invalid_input("rules", str(exc)) from None


class FirewallOps(ProjectCore):
    def firewalls_of(self, server: Server) -> list[Firewall]:
        return [
            fw
            for fw in self.firewalls.values()
            if server.id in fw.server_ids
            or any(parse_selector(sel)(server.labels) for sel in fw.selectors)
        ]

    def firewall_json(self, firewall: Firewall) -> dict[str, Any]:
        applied: list[dict[str, Any]] = [
            {"type": "server", "server": {"id": sid}} for sid in firewall.server_ids
        ]
        for selector in firewall.selectors:
            match = parse_selector(selector)
            applied.append(
                {
                    "type": "label_selector",
                    "label_selector": {"selector": selector},
                    "applied_to_resources": [
                        {"type": "server", "server": {"id": s.id}}
                        for s in self.servers.values()
                        if match(s.labels)
                    ],
                }
            )
        return {
            "id": firewall.id,
            "name": firewall.name,
            "labels": firewall.labels,
            "created": timestamp(firewall.created),
            "rules": [rule.to_json() for rule in firewall.rules],
            "applied_to": applied,
        }

    def _apply(self, firewall: Firewall, entries: list[Any], command: str) -> list[Action]:
        actions = []
        for entry in entries:
            kind = entry.get("type") if isinstance(entry, dict) else None
            if kind == "server":
                ref = entry.get("server") or {}
                server = self.server(read.integer(ref.get("id"), "apply_to"))
                if command == "apply_firewall":
                    if server.id in firewall.server_ids:
                        raise ApiError(
                            "firewall_already_applied",
                            f"firewall {firewall.id} is already applied to server {server.id}",
                        )
                    firewall.server_ids.append(server.id)
                elif server.id in firewall.server_ids:
                    firewall.server_ids.remove(server.id)
                actions.append(
                    self._action(command, [(firewall.id, "firewall"), (server.id, "server")])
                )
            elif kind == "label_selector":
                selector = (entry.get("label_selector") or {}).get("selector")
                if not isinstance(selector, str):
                    raise invalid_input("apply_to", "invalid label selector: not a string")
                try:
                    parse_selector(selector)
                except (TypeError, ValueError, AttributeError) as exc:
                    raise invalid_input("apply_to", f"invalid label selector: {exc}") from None
                if command == "apply_firewall":
                    firewall.selectors.append(selector)
                elif selector in firewall.selectors:
                    firewall.selectors.remove(selector)
                actions.append(self._action(command, [(firewall.id, "firewall")]))
            else:
                raise invalid_input("apply_to", "type must be 'server' or 'label_selector'")
        for action in actions:
            self._run(action)
        return actions

    def create_firewall(self, data: dict[str, Any]) -> dict[str, Any]:
        name = read.resource_name(data)
        rules = _rules(data)
        labels = read.labels(data)
        if any(fw.name == name for fw in self.firewalls.values()):
            raise uniqueness("name", "firewall name is already used")
        firewall = Firewall(next(self._ids), name or "", labels, rules)
        actions = self._apply(firewall, read.object_list(data, "apply_to"), "apply_firewall")
        self.firewalls[firewall.id] = firewall
        return {
            "firewall": self.firewall_json(firewall),
            "actions": [a.to_json() for a in actions],
        }

    def update_firewall(self, firewall: Firewall, data: dict[str, Any]) -> dict[str, Any]:
        name = read.resource_name(data, required=False)
        if name is not None:
            if any(fw.name == name and fw is not firewall for fw in self.firewalls.values()):
                raise uniqueness("name", "firewall name is already used")
            firewall.name = name
        firewall.labels = read.labels(data, default=firewall.labels)
        return {"firewall": self.firewall_json(firewall)}

    def set_rules(self, firewall: Firewall, data: dict[str, Any]) -> dict[str, Any]:
        firewall.rules = _rules(data)
        action = self._action("set_firewall_rules", [(firewall.id, "firewall")])
        self._run(action)
        return {"actions": [action.to_json()]}

    def apply_firewall(self, firewall: Firewall, data: dict[str, Any], key: str) -> dict[str, Any]:
        command = "apply_firewall" if key == "apply_to" else "remove_firewall"
        actions = self._apply(firewall, read.object_list(data, key), command)
        return {"actions": [a.to_json() for a in actions]}

    def delete_firewall(self, firewall: Firewall) -> None:
        if any(firewall in self.firewalls_of(s) for s in self.servers.values()):
            raise ApiError("resource_in_use", f"firewall {firewall.id} is still applied")
        del self.firewalls[firewall.id]
