"""BinderHub's and JupyterHub's own HTTP endpoints behind the member's ingress.

Routed by Host header like traefik: the binder host serves ``/health`` and ``/versions``
(BinderHub's ``KubernetesHealthHandler`` and ``VersionHandler``), the hub host serves
``/hub/api/health`` and a session's kernel websocket (``/user/<name>/api/kernels/<id>/
channels``), which traefik cuts when its websecure ``readTimeout`` runs out (traefik's
default since v2.11.2 is 60 s). Answers follow the simulated state: no ready binder pod
means traefik's 503, a hub that is down fails the "JupyterHub API" check, and with no
traefik release installed at all the connection is dropped unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web


class HealthState(Protocol):
    """What ``/health`` reads (a federation host serves it too)."""

    def registry_up(self) -> bool: ...

    def hub_api_from_binder(self) -> bool:
        """BinderHub's own call to ``hub_url_local`` (its "JupyterHub API" check)."""
        ...

    def pod_counts(self) -> tuple[int, int]:
        """(user pods, build pods) in the release namespace."""
        ...

    def quota(self) -> int | None: ...


class BinderHubState(HealthState, Protocol):
    @property
    def binder_host(self) -> str: ...

    @property
    def hub_host(self) -> str: ...

    def binder_up(self) -> bool: ...

    def hub_api_up(self) -> bool: ...

    def versions(self) -> dict[str, Any]: ...

    def health_checked(self, results: list[dict[str, Any]], ok: bool) -> None:
        """BinderHub logs its checks (and a warning for unhealthy services)."""
        ...

    def websocket_lifetime(self) -> float | None:
        """Real seconds a websocket through the ingress lives (None: no traefik)."""
        ...

    def build_events(self, prefix: str, spec: str, accept: str) -> AsyncIterator[dict[str, Any]]:
        """The events of ``GET /build/<prefix>/<spec>`` (``build_requests``)."""
        ...


KERNEL_CHANNELS = re.compile(r"/user/[^/]+/api/kernels/[^/]+/channels")


def health(state: HealthState) -> tuple[bool, list[dict[str, Any]]]:
    """``HealthHandler.check_all``: overall and the checks, in BinderHub's order."""
    users, builds = state.pod_counts()
    quota = state.quota()
    total = users + builds
    results: list[dict[str, Any]] = [
        {"service": "Docker registry", "ok": state.registry_up()},
        {"service": "JupyterHub API", "ok": state.hub_api_from_binder()},
        {
            "service": "Pod quota",
            "total_pods": total,
            "build_pods": builds,
            "user_pods": users,
            "quota": quota,
            "ok": total <= quota if quota is not None else True,
            "_ignore_failure": True,
        },
    ]
    overall = all(r["ok"] for r in results if not r.get("_ignore_failure", False))
    return overall, results


def _unavailable() -> web.Response:
    return web.Response(status=503, text="no available server")


class BinderHubApp:
    def __init__(self, state: BinderHubState) -> None:
        self.state = state
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._route)
        return app

    async def _route(self, request: web.Request) -> web.StreamResponse:
        if self.state.websocket_lifetime() is None:
            # no traefik installed: nothing holds ports 80/443 (servicelb binds them for
            # traefik's LoadBalancer Service), so the connection goes nowhere
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=503)
        host = (request.host or "").rsplit(":", 1)[0].lower()
        if host == self.state.binder_host:
            if not self.state.binder_up():
                return _unavailable()
            if request.path == "/health" and request.method in ("GET", "HEAD"):
                ok, results = health(self.state)
                self.state.health_checked(results, ok)
                body = "" if request.method == "HEAD" else json.dumps(
                    {"ok": ok, "checks": results})  # fmt: skip
                return web.Response(
                    status=200 if ok else 503, text=body, content_type="application/json"
                )
            if request.path.startswith("/build/") and request.method == "GET":
                return await self._build(request)
            if request.path == "/versions" and request.method == "GET":
                return web.Response(
                    text=json.dumps(self.state.versions()),
                    content_type="application/json",
                    headers={"Access-Control-Allow-Origin": "*"},
                )
        elif host == self.state.hub_host:
            if KERNEL_CHANNELS.fullmatch(request.path) and request.method == "GET":
                return await self._websocket(request)
            if request.path in ("/hub/api/health", "/hub/health"):
                if not self.state.hub_api_up():
                    return _unavailable()
                return web.Response(status=200)
        else:
            return web.Response(status=404, text="404 page not found\n")
        return web.Response(status=404, text="404: Not Found")

    async def _build(self, request: web.Request) -> web.StreamResponse:
        """An EventSource stream: one ``data:`` line per event (raw path: the spec may
        hold escaped slashes, as BinderHub's ``get_spec_from_request`` keeps them)."""
        prefix, _, spec = request.raw_path.split("?", 1)[0].removeprefix("/build/").partition("/")
        stream = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await stream.prepare(request)
        accept = request.headers.get("Accept", "")
        async for event in self.state.build_events(prefix, spec, accept):
            await stream.write(f"data: {json.dumps(event)}\n\n".encode())
        await stream.write_eof()
        return stream

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """A kernel's websocket: echoes messages until traefik's read deadline."""
        lifetime = self.state.websocket_lifetime()
        if lifetime is None or not self.state.hub_api_up():
            return _unavailable()  # (lifetime is None only if traefik went meanwhile)
        socket = web.WebSocketResponse()
        await socket.prepare(request)

        async def echo() -> None:
            async for message in socket:
                if message.type == web.WSMsgType.TEXT:
                    await socket.send_str(message.data)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(lifetime):
                await echo()
        # traefik's deadline ends the read: the connection is dropped, no close frame
        if request.transport is not None:
            request.transport.close()
        return socket

    async def start(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> int:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl_context)
        await site.start()
        self.port = int(self._runner.addresses[-1][1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
