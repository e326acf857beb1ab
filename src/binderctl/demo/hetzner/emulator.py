"""The Hetzner Cloud API emulator: an aiohttp server on 127.0.0.1 on a ``LoopThread``.

It checks the bearer token, counts every request against the hourly budget, answers
errors in Hetzner's envelope, and applies the test knobs in ``faults`` (latency, random
or scripted errors, dropped connections, slow or failing actions, an account limit).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from binderctl.auth import Secret
from binderctl.demo.hetzner.errors import CODE_FOR_STATUS, ApiError
from binderctl.demo.hetzner.events import Hooks
from binderctl.demo.hetzner.faults import Faults, ScriptedFailure
from binderctl.demo.hetzner.project import Project
from binderctl.demo.hetzner.ratelimit import RateLimiter
from binderctl.demo.hetzner.routes import Routes
from binderctl.demo.runtime import LoopThread, serve_on_loopback

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Dropped(Exception):
    """The connection was dropped on purpose (a fault); nothing is answered."""


def _injected(status: int, message: str = "injected failure", code: str | None = None) -> ApiError:
    if status == 429:
        return ApiError("rate_limit_exceeded", "limit of requests per hour reached")
    return ApiError(code or CODE_FOR_STATUS.get(status, "server_error"), message, status=status)


class HetznerEmulator:
    """``start()`` it, point a client at ``url`` with ``token``; knobs in ``faults``."""

    def __init__(
        self,
        runtime: LoopThread,
        token: str,
        network: ipaddress.IPv4Network,
        faults: Faults | None = None,
    ) -> None:
        self.runtime = runtime
        self.token = Secret(token, "demo world")
        self.faults = faults or Faults()
        self.hooks = Hooks()
        self.rate_limit = RateLimiter()
        self.project = Project(network, self.faults, self.hooks)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def __repr__(self) -> str:
        return f"HetznerEmulator(url={self.url!r})"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        self.runtime.run(self._start())
        return self.url

    def stop(self) -> None:
        if self._runner is not None:
            self.runtime.run(self._stop())

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._envelope, self._faults, self._gate])
        app.add_routes(Routes(self.project).table())
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self.port = await serve_on_loopback(self._runner)

    async def _stop(self) -> None:
        await self.project.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- middlewares, outermost first ----------------------------------------------------

    @web.middleware
    async def _envelope(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Hetzner's error envelope and headers on every answer."""
        try:
            response = await handler(request)
        except _Dropped:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None
        except ApiError as exc:
            response = web.json_response(exc.body(), status=exc.status)
        except web.HTTPNotFound:
            error = ApiError("not_found", f"no such endpoint: {request.method} {request.path}")
            response = web.json_response(error.body(), status=404)
        except web.HTTPMethodNotAllowed:
            error = ApiError("method_not_allowed", f"{request.method} is not allowed here", {}, 405)
            response = web.json_response(error.body(), status=405)
        except Exception:
            log.exception("emulator failed on %s %s", request.method, request.path)
            response = web.json_response(
                ApiError("server_error", "internal error in the emulator").body(), status=500
            )
        response.headers.update(self.rate_limit.headers(exhausted=response.status == 429))
        response.headers["X-Correlation-Id"] = secrets.token_hex(8)
        return response

    async def _fail(self, failure: ScriptedFailure) -> None:
        if failure.delay:
            await asyncio.sleep(failure.delay)
        if failure.reset:
            raise _Dropped
        if failure.status is not None:
            raise _injected(failure.status, failure.message, failure.code)

    @web.middleware
    async def _faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        path = request.path.removeprefix("/v1")
        scripted = faults.scripted_for(request.method, path)
        if scripted is not None and not scripted.after:
            await self._fail(scripted)
        if faults.random_reset():
            raise _Dropped
        status = faults.random_status()
        if status is not None:
            raise _injected(status)
        response = await handler(request)
        if scripted is not None and scripted.after:
            await self._fail(scripted)
        return response

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The hourly budget (every request counts), then the bearer token."""
        if not self.rate_limit.take():
            raise ApiError(
                "rate_limit_exceeded", f"limit of {self.rate_limit.limit} requests per hour reached"
            )
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(
            presented.encode(), self.token.reveal().encode()
        ):
            raise ApiError("unauthorized", "unable to authenticate")
        return await handler(request)
