"""The federation redirector, emulated: ``health_check`` and the routing of
jupyterhub/mybinder.org-deploy ``images/federation-redirect/app.py`` (95860dbc).

What it does as the real one does:
- hosts with a missing or zero ``weight`` are removed at start; a trailing ``/`` of a
  url is stripped; without a prime host it refuses to start ("No prime host
  configured!");
- every host starts in rotation and is checked at once; each check fetches
  ``/versions`` (a prime's becomes the versions to compare with; without them each host
  may be on its own versions), drops the host when they differ (reason ``versions``),
  then fetches ``/health``: a check that is not ok drops it (reason: the check's
  ``service``), so does ``total_pods + pod_headroom >= quota`` on the Pod quota check
  (reason ``Pod quota``), and the checks after the Pod quota check are not looked at;
- any other error (a connection error, a timeout, a non-200 answer such as BinderHub's
  503 for a failing hard check, a body that is not JSON) is retried ``retries`` times,
  ``1`` s apart, then drops the host with reason ``unknown``; a successful attempt does
  not end the loop either, so a healthy host is checked ``retries`` times in a row;
- the next check comes ``(1 + jitter * (0.5 - random())) * period`` later, or
  ``failed_period`` instead of ``period`` after a failure;
- ``GET /build/...`` redirects (307) to a host in rotation chosen at random by weight
  (``load_balancer: random`` in ``mybinder/values.yaml``), or to the prime when none is;
  ``GET /active_hosts`` answers ``{"active_hosts": {name: host config}}``.

Clocks (``period``, ``failed_period``, the 1 s retry pause) run ``speed`` times faster,
like every demo clock; the request ``timeout`` is a network timeout and is not scaled.

The emulator's own addition (not in app.py, whose reasons are only in its Prometheus
``federation_health`` gauge): ``GET /_emulator/hosts`` says for every configured host
whether it is in rotation, the reason and message of its last failure, when it was
last checked and when it will be next, and how many checks it had.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from binderctl.federation_config import CheckSettings

# hostname -> address; None: look it up as it is; "": it does not resolve
Resolver = Callable[[str], str | None]


class FailedCheck(Exception):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class HostState:
    in_rotation: bool = True
    reason: str = ""
    message: str = ""
    checks: list[float] = field(default_factory=list)  # wall time each check started
    last_checked: float | None = None
    next_check: float | None = None


class Redirector:
    def __init__(
        self,
        hosts: Mapping[str, dict[str, Any] | None],
        settings: CheckSettings,
        *,
        speed: float = 1.0,
        resolve: Resolver | None = None,
        verify: Any = True,
        seed: int | None = None,
    ) -> None:
        self.settings = settings.scaled(speed)
        self.retry_pause = 1.0 / speed
        self.resolve = resolve or (lambda name: None)
        self.verify = verify
        self.random = random.Random(seed)
        self.removed: dict[str, str] = {}
        self.hosts: dict[str, dict[str, Any]] = {}
        for name, entry in hosts.items():
            if entry is None:
                continue
            if entry.get("weight", 0) == 0:
                self.removed[name] = "weight 0: removed at start"
                continue
            self.hosts[name] = {**entry, "url": str(entry["url"]).rstrip("/")}
        if not any(entry.get("prime", False) for entry in self.hosts.values()):
            raise ValueError("No prime host configured!")
        self.active: dict[str, dict[str, Any]] = dict(self.hosts)
        self.state = {name: HostState() for name in self.hosts}
        self.prime_versions: dict[str, Any] | None = None
        self._runner: web.AppRunner | None = None
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: Any = None
        self.url = ""

    # -- health_check ------------------------------------------------------------------
    def _target(self, url: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        parts = urlsplit(url)
        address = self.resolve(parts.hostname or "")
        if address is None:
            return url, {}, {}
        if not address:
            raise OSError(f"cannot resolve {parts.hostname}")
        netloc = address if parts.port is None else f"{address}:{parts.port}"
        rewritten = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        host = parts.hostname or ""
        return rewritten, {"Host": host}, {"sni_hostname": host}

    async def _fetch(self, url: str) -> Any:
        target, headers, extensions = self._target(url)
        response = await self._client.get(target, headers=headers, extensions=extensions)
        if response.status_code != 200:  # tornado's fetch raises HTTPError for these
            raise RuntimeError(f"HTTP {response.status_code}: {url}")
        return response.json()

    async def _attempt(self, name: str, host: dict[str, Any]) -> None:
        versions = await self._fetch(host["versions"])
        if host.get("prime", False):
            self.prime_versions = versions
        prime = self.prime_versions if self.prime_versions is not None else versions
        if versions != prime:
            raise FailedCheck(
                f"{name} has different versions ({versions}) than prime ({prime})", "versions"
            )
        health = await self._fetch(host["health"])
        headroom = self.settings.pod_headroom
        for check in health["checks"]:
            if not check["ok"]:
                raise FailedCheck(f"{name} unhealthy: {check}", check["service"])
            if check["service"] == "Pod quota" and check["quota"] is not None and headroom:
                if check["total_pods"] + headroom >= check["quota"]:
                    raise FailedCheck(
                        f"{name} is approaching pod quota: {check['total_pods']}/{check['quota']}",
                        check["service"],
                    )
                break

    async def health_check(self, name: str) -> None:
        host = self.hosts[name]
        state = self.state[name]
        state.checks.append(time.time())
        retries = self.settings.retries
        try:
            for attempt in range(retries):
                try:
                    await self._attempt(name, host)
                except FailedCheck:
                    raise
                except Exception:
                    if attempt + 1 == retries:
                        raise
                    await asyncio.sleep(self.retry_pause)
        except Exception as exc:
            state.reason = exc.reason if isinstance(exc, FailedCheck) else "unknown"
            state.message = str(exc) or type(exc).__name__
            self.active.pop(name, None)
            state.in_rotation = False
            period = self.settings.failed_period
        else:
            state.reason = ""
            state.message = ""
            self.active.setdefault(name, host)
            state.in_rotation = True
            period = self.settings.period
        state.last_checked = time.time()
        delay = (1 + self.settings.jitter * (0.5 - self.random.random())) * period
        state.next_check = state.last_checked + delay
        loop = asyncio.get_running_loop()
        self._handles[name] = loop.call_later(delay, self._schedule, name)

    def _schedule(self, name: str) -> None:
        task = asyncio.get_running_loop().create_task(self.health_check(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- HTTP --------------------------------------------------------------------------
    async def _redirect(self, request: web.Request) -> web.Response:
        hosts = dict(self.active) or {n: h for n, h in self.hosts.items() if h.get("prime")}
        names = [n for n, h in hosts.items() if h["weight"] > 0]
        name = self.random.choices(names, [hosts[n]["weight"] for n in names])[0]
        raise web.HTTPTemporaryRedirect(hosts[name]["url"] + str(request.rel_url))

    async def _active_hosts(self, request: web.Request) -> web.Response:
        return web.json_response({"active_hosts": self.active})

    async def _emulator_hosts(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """Every configured host: in rotation or not, and why (the emulator's own view)."""
        hosts: dict[str, Any] = {}
        for name, state in self.state.items():
            hosts[name] = {
                "url": self.hosts[name]["url"],
                "weight": self.hosts[name]["weight"],
                "prime": bool(self.hosts[name].get("prime", False)),
                "in_rotation": name in self.active,
                "reason": state.reason,
                "message": state.message,
                "checks": len(state.checks),
                "last_checked": state.last_checked,
                "next_check": state.next_check,
            }
        for name, why in self.removed.items():
            hosts[name] = {"in_rotation": False, "reason": "weight", "message": why, "checks": 0}
        return {
            "hosts": hosts,
            "prime_versions": self.prime_versions,
            "settings": {
                "period": self.settings.period,
                "jitter": self.settings.jitter,
                "retries": self.settings.retries,
                "timeout": self.settings.timeout,
                "failed_period": self.settings.failed_period,
                "pod_headroom": self.settings.pod_headroom,
            },
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        import httpx

        self._client = httpx.AsyncClient(verify=self.verify, timeout=self.settings.timeout)
        app = web.Application()
        app.router.add_get("/build/{tail:.*}", self._redirect)
        app.router.add_get("/active_hosts", self._active_hosts)
        app.router.add_get("/_emulator/hosts", self._emulator_hosts)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{int(self._runner.addresses[-1][1])}"
        for name in self.hosts:  # app.py: add_callback(health_check, ...) for every host
            self._schedule(name)
        return self.url

    async def stop(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
