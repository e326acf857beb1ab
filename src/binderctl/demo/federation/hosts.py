"""A federation member that is not ours: BinderHub's public ``/health`` and ``/versions``.

The answers have BinderHub's shapes (jupyterhub/binderhub ``binderhub/health.py``
``HealthHandler.check_all`` and ``KubernetesHealthHandler._check_pod_quotas``,
``binderhub/base.py`` ``VersionHandler``, b9fad995), computed by the same function as
the simulated member's (``demo/member/binderhub_http.health``). Knobs are plain
attributes: ``versions_doc``, ``quota_value``, ``user_pods``, ``build_pods``, ``registry_ok``,
``hub_ok``, ``delay``; ``set_down()`` makes the port refuse connections.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from binderctl.demo.member.binderhub_http import health


class EmulatedHost:
    def __init__(
        self,
        name: str,
        versions: dict[str, Any],
        *,
        quota: int | None = 300,
        user_pods: int = 120,
        build_pods: int = 4,
    ) -> None:
        self.name = name
        self.binder_host = name
        self.hub_host = f"hub.{name}"
        self.versions_doc = dict(versions)
        self.quota_value = quota
        self.user_pods = user_pods
        self.build_pods = build_pods
        self.registry_ok = True
        self.hub_ok = True
        self.delay = 0.0  # seconds before each answer (a slow or hanging host)
        self.requests = 0  # /health and /versions answered
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.address = ("127.0.0.1", 0)

    # the BinderHubState protocol, for binderhub_http.health
    def binder_up(self) -> bool:
        return True

    def versions(self) -> dict[str, Any]:
        return self.versions_doc

    def health_checked(self, results: list[dict[str, Any]], ok: bool) -> None:
        self.requests += 1

    def registry_up(self) -> bool:
        return self.registry_ok

    def hub_api_up(self) -> bool:
        return self.hub_ok

    def hub_api_from_binder(self) -> bool:
        return self.hub_ok

    def pod_counts(self) -> tuple[int, int]:
        return self.user_pods, self.build_pods

    def quota(self) -> int | None:
        return self.quota_value

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"

    async def _health(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        ok, results = health(self)
        self.health_checked(results, ok)
        return web.json_response({"ok": ok, "checks": results}, status=200 if ok else 503)

    async def _versions(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        self.requests += 1
        return web.Response(
            text=json.dumps(self.versions()),
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/versions", self._versions)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        self.address = (host, int(self._runner.addresses[-1][1]))
        return self.url

    async def set_down(self, down: bool) -> None:
        """Stop listening (connections refused) or listen again on the same port."""
        if self._runner is None:
            return
        if down and self._site is not None:
            await self._site.stop()
            self._site = None
        elif not down and self._site is None:
            self._site = web.TCPSite(self._runner, *self.address)
            await self._site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
