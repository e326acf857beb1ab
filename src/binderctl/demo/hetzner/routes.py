"""The emulated endpoints: request parsing, listing (filters, sort, pages), responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiohttp import web

from binderctl.demo.hetzner.catalog import IMAGES, LOCATIONS, SERVER_TYPES, pricing_json
from binderctl.demo.hetzner.errors import ApiError, invalid_input
from binderctl.demo.hetzner.labels import parse_selector
from binderctl.demo.hetzner.project import Project

_SORT_FIELDS = ("id", "name", "created")


def reply(document: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(document, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = json.loads(await request.text())
    except ValueError:
        raise ApiError("json_error", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError("json_error", "the request body must be a JSON object")
    return data


def _ident(request: web.Request, name: str = "id") -> int:
    return int(request.match_info[name])


def _number(request: web.Request, key: str, default: int, high: int) -> int:
    raw = request.query.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise invalid_input(key, f"{key} must be a whole number from 1 to {high}")
    return int(raw)


def _sort_key(request: web.Request) -> tuple[str, bool]:
    raw = request.query.get("sort", "id")
    field, _, direction = raw.partition(":")
    if field not in _SORT_FIELDS or direction not in ("", "asc", "desc"):
        raise invalid_input("sort", f"invalid sort {raw!r}; use id, name or created[:asc|:desc]")
    return field, direction == "desc"


def page(
    request: web.Request,
    key: str,
    items: Sequence[Any],
    render: Callable[[Any], Any],
    *,
    sortable: bool = True,
) -> web.Response:
    """A list response with Hetzner's ``meta.pagination``."""
    per_page = _number(request, "per_page", 25, 50)
    number = _number(request, "page", 1, 1_000_000)
    if sortable:
        field, descending = _sort_key(request)
        items = sorted(items, key=lambda item: getattr(item, field), reverse=descending)
    last = max(1, -(-len(items) // per_page))
    chosen = items[(number - 1) * per_page : number * per_page]
    return reply(
        {
            key: [render(item) for item in chosen],
            "meta": {
                "pagination": {
                    "page": number,
                    "per_page": per_page,
                    "previous_page": number - 1 if number > 1 else None,
                    "next_page": number + 1 if number < last else None,
                    "last_page": last,
                    "total_entries": len(items),
                }
            },
        }
    )


def _filtered(
    request: web.Request,
    items: Iterable[Any],
    labels: Callable[[Any], Any] | None,
    **fields: Callable[[Any], Any],
) -> list[Any]:
    """Items matching ``label_selector`` and the exact-match query fields given."""
    chosen = list(items)
    selector = request.query.get("label_selector")
    if selector and labels is not None:
        try:
            match = parse_selector(selector)
        except ValueError as exc:
            raise invalid_input("label_selector", str(exc)) from None
        chosen = [item for item in chosen if match(labels(item))]
    for name, value_of in fields.items():
        wanted = request.query.getall(name, [])
        if wanted:
            chosen = [item for item in chosen if str(value_of(item)) in wanted]
    return chosen


class Routes:
    def __init__(self, project: Project) -> None:
        self.p = project

    def table(self) -> list[web.RouteDef]:
        get, post, put, delete = web.get, web.post, web.put, web.delete
        r = self
        routes = [
            get("/v1/pricing", r.pricing),
            get("/v1/locations", r.locations),
            get("/v1/locations/{id:\\d+}", r.location),
            get("/v1/server_types", r.server_types),
            get("/v1/server_types/{id:\\d+}", r.server_type),
            get("/v1/images", r.images),
            get("/v1/images/{id:\\d+}", r.image),
            get("/v1/actions", r.actions),
            get("/v1/actions/{id:\\d+}", r.action),
            get("/v1/servers", r.servers),
            post("/v1/servers", r.create_server),
            get("/v1/servers/{id:\\d+}", r.server),
            put("/v1/servers/{id:\\d+}", r.update_server),
            delete("/v1/servers/{id:\\d+}", r.delete_server),
            post(
                "/v1/servers/{id:\\d+}/actions/{verb:poweron|poweroff|shutdown|reboot|reset}",
                r.power,
            ),
            get("/v1/ssh_keys", r.ssh_keys),
            post("/v1/ssh_keys", r.create_ssh_key),
            get("/v1/ssh_keys/{id:\\d+}", r.ssh_key),
            put("/v1/ssh_keys/{id:\\d+}", r.update_ssh_key),
            delete("/v1/ssh_keys/{id:\\d+}", r.delete_ssh_key),
            get("/v1/firewalls", r.firewalls),
            post("/v1/firewalls", r.create_firewall),
            get("/v1/firewalls/{id:\\d+}", r.firewall),
            put("/v1/firewalls/{id:\\d+}", r.update_firewall),
            delete("/v1/firewalls/{id:\\d+}", r.delete_firewall),
            post("/v1/firewalls/{id:\\d+}/actions/set_rules", r.set_rules),
            post(
                "/v1/firewalls/{id:\\d+}/actions/{verb:apply_to_resources|remove_from_resources}",
                r.apply_firewall,
            ),
            get("/v1/primary_ips", r.primary_ips),
            post("/v1/primary_ips", r.create_primary_ip),
            get("/v1/primary_ips/{id:\\d+}", r.primary_ip),
            put("/v1/primary_ips/{id:\\d+}", r.update_primary_ip),
            delete("/v1/primary_ips/{id:\\d+}", r.delete_primary_ip),
            post("/v1/primary_ips/{id:\\d+}/actions/assign", r.assign_primary_ip),
            post("/v1/primary_ips/{id:\\d+}/actions/unassign", r.unassign_primary_ip),
        ]
        for kind in ("servers", "firewalls", "primary_ips"):
            routes += [
                get(f"/v1/{kind}/actions", r.resource_actions),
                get(f"/v1/{kind}/actions/{{action_id:\\d+}}", r.resource_action),
                get(f"/v1/{kind}/{{id:\\d+}}/actions", r.resource_actions),
                get(f"/v1/{kind}/{{id:\\d+}}/actions/{{action_id:\\d+}}", r.resource_action),
            ]
        return routes

    # ---- catalog ----------------------------------------------------------------------

    async def pricing(self, request: web.Request) -> web.Response:
        return reply(pricing_json())

    async def locations(self, request: web.Request) -> web.Response:
        items = _filtered(request, LOCATIONS.values(), None, name=lambda loc: loc.name)
        return page(request, "locations", items, lambda loc: loc.to_json(), sortable=False)

    async def location(self, request: web.Request) -> web.Response:
        for loc in LOCATIONS.values():
            if loc.id == _ident(request):
                return reply({"location": loc.to_json()})
        raise ApiError("not_found", f"location with ID '{_ident(request)}' not found")

    async def server_types(self, request: web.Request) -> web.Response:
        items = _filtered(request, SERVER_TYPES.values(), None, name=lambda st: st.name)
        return page(request, "server_types", items, lambda st: st.to_json(), sortable=False)

    async def server_type(self, request: web.Request) -> web.Response:
        for st in SERVER_TYPES.values():
            if st.id == _ident(request):
                return reply({"server_type": st.to_json()})
        raise ApiError("not_found", f"server type with ID '{_ident(request)}' not found")

    async def images(self, request: web.Request) -> web.Response:
        items = _filtered(
            request,
            IMAGES,
            lambda _image: {},
            name=lambda i: i.name,
            architecture=lambda i: i.architecture,
            type=lambda _i: "system",
        )
        return page(request, "images", items, lambda image: image.to_json(), sortable=False)

    async def image(self, request: web.Request) -> web.Response:
        for image in IMAGES:
            if image.id == _ident(request):
                return reply({"image": image.to_json()})
        raise ApiError("not_found", f"image with ID '{_ident(request)}' not found")

    # ---- actions ----------------------------------------------------------------------

    async def actions(self, request: web.Request) -> web.Response:
        wanted = request.query.getall("id", [])
        if not wanted:
            raise invalid_input("id", "at least one id is required")
        items = [self.p.actions[int(i)] for i in wanted if i.isdigit() and int(i) in self.p.actions]
        return page(request, "actions", items, lambda a: a.to_json(), sortable=False)

    async def action(self, request: web.Request) -> web.Response:
        return reply({"action": self.p.action(_ident(request)).to_json()})

    def _scoped_actions(self, request: web.Request) -> list[Any]:
        kind = request.path.split("/")[2].removesuffix("s")
        items = [a for a in self.p.actions.values() if any(t == kind for _, t in a.resources)]
        if "id" in request.match_info:
            lookup = {
                "server": self.p.server,
                "firewall": self.p.firewall,
                "primary_ip": self.p.primary_ip,
            }[kind]
            resource_id = _ident(request)
            lookup(resource_id)
            items = [a for a in items if a.concerns(kind, resource_id)]
        return items

    async def resource_actions(self, request: web.Request) -> web.Response:
        items = _filtered(request, self._scoped_actions(request), None, status=lambda a: a.status)
        if "id" not in request.match_info and (ids := request.query.getall("id", [])):
            items = [a for a in items if str(a.id) in ids]
        return page(request, "actions", items, lambda a: a.to_json(), sortable=False)

    async def resource_action(self, request: web.Request) -> web.Response:
        action_id = _ident(request, "action_id")
        for action in self._scoped_actions(request):
            if action.id == action_id:
                return reply({"action": action.to_json()})
        raise ApiError("not_found", f"action with ID '{action_id}' not found")

    # ---- servers ----------------------------------------------------------------------

    async def servers(self, request: web.Request) -> web.Response:
        items = _filtered(
            request,
            self.p.servers.values(),
            lambda s: s.labels,
            name=lambda s: s.name,
            status=lambda s: s.status,
        )
        return page(request, "servers", items, self.p.server_json)

    async def create_server(self, request: web.Request) -> web.Response:
        return reply(self.p.create_server(await _body(request)), 201)

    async def server(self, request: web.Request) -> web.Response:
        return reply({"server": self.p.server_json(self.p.server(_ident(request)))})

    async def update_server(self, request: web.Request) -> web.Response:
        server = self.p.server(_ident(request))
        return reply(self.p.update_server(server, await _body(request)))

    async def delete_server(self, request: web.Request) -> web.Response:
        return reply(self.p.delete_server(self.p.server(_ident(request))))

    async def power(self, request: web.Request) -> web.Response:
        server = self.p.server(_ident(request))
        return reply(self.p.power(server, request.match_info["verb"]), 201)

    # ---- SSH keys -----------------------------------------------------------------------

    async def ssh_keys(self, request: web.Request) -> web.Response:
        items = _filtered(
            request,
            self.p.ssh_keys.values(),
            lambda k: k.labels,
            name=lambda k: k.name,
            fingerprint=lambda k: k.fingerprint,
        )
        return page(request, "ssh_keys", items, lambda k: k.to_json())

    async def create_ssh_key(self, request: web.Request) -> web.Response:
        return reply(self.p.create_ssh_key(await _body(request)), 201)

    async def ssh_key(self, request: web.Request) -> web.Response:
        return reply({"ssh_key": self.p.ssh_key(_ident(request)).to_json()})

    async def update_ssh_key(self, request: web.Request) -> web.Response:
        key = self.p.ssh_key(_ident(request))
        return reply(self.p.update_ssh_key(key, await _body(request)))

    async def delete_ssh_key(self, request: web.Request) -> web.Response:
        self.p.delete_ssh_key(self.p.ssh_key(_ident(request)))
        return web.Response(status=204)

    # ---- firewalls ----------------------------------------------------------------------

    async def firewalls(self, request: web.Request) -> web.Response:
        items = _filtered(
            request, self.p.firewalls.values(), lambda f: f.labels, name=lambda f: f.name
        )
        return page(request, "firewalls", items, self.p.firewall_json)

    async def create_firewall(self, request: web.Request) -> web.Response:
        return reply(self.p.create_firewall(await _body(request)), 201)

    async def firewall(self, request: web.Request) -> web.Response:
        return reply({"firewall": self.p.firewall_json(self.p.firewall(_ident(request)))})

    async def update_firewall(self, request: web.Request) -> web.Response:
        firewall = self.p.firewall(_ident(request))
        return reply(self.p.update_firewall(firewall, await _body(request)))

    async def delete_firewall(self, request: web.Request) -> web.Response:
        self.p.delete_firewall(self.p.firewall(_ident(request)))
        return web.Response(status=204)

    async def set_rules(self, request: web.Request) -> web.Response:
        firewall = self.p.firewall(_ident(request))
        return reply(self.p.set_rules(firewall, await _body(request)), 201)

    async def apply_firewall(self, request: web.Request) -> web.Response:
        firewall = self.p.firewall(_ident(request))
        key = "apply_to" if request.match_info["verb"] == "apply_to_resources" else "remove_from"
        return reply(self.p.apply_firewall(firewall, await _body(request), key), 201)

    # ---- primary IPs --------------------------------------------------------------------

    async def primary_ips(self, request: web.Request) -> web.Response:
        items = _filtered(
            request,
            self.p.primary_ips.values(),
            lambda i: i.labels,
            name=lambda i: i.name,
            ip=lambda i: i.ip,
        )
        return page(request, "primary_ips", items, self.p.primary_ip_json)

    async def create_primary_ip(self, request: web.Request) -> web.Response:
        return reply(self.p.create_primary_ip(await _body(request)), 201)

    async def primary_ip(self, request: web.Request) -> web.Response:
        return reply({"primary_ip": self.p.primary_ip_json(self.p.primary_ip(_ident(request)))})

    async def update_primary_ip(self, request: web.Request) -> web.Response:
        ip = self.p.primary_ip(_ident(request))
        return reply(self.p.update_primary_ip(ip, await _body(request)))

    async def delete_primary_ip(self, request: web.Request) -> web.Response:
        self.p.delete_primary_ip(self.p.primary_ip(_ident(request)))
        return web.Response(status=204)

    async def assign_primary_ip(self, request: web.Request) -> web.Response:
        ip = self.p.primary_ip(_ident(request))
        return reply(self.p.assign_primary_ip(ip, await _body(request)), 201)

    async def unassign_primary_ip(self, request: web.Request) -> web.Response:
        return reply(self.p.unassign_primary_ip(self.p.primary_ip(_ident(request))), 201)
