"""The demo's control endpoint: drills started from another shell or the console.

Bound to 127.0.0.1 only, on a port of its own; every request must carry the world's
control token as ``Authorization: Bearer <token>`` (401 without it). Answers are JSON;
errors are ``{"error": message, "hint": hint}`` with 400 (bad request), 404 (no such
drill), 409 (a drill is already running, or none is, or the member is not up).

- ``GET /drills``: the catalogue
- ``POST /drills/{name}/start`` (optional JSON ``{"duration": seconds}``): start one
- ``GET /drill``: the running drill, or the last one, and the finished ones
- ``POST /drill/stop``: end the running drill
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from binderctl.demo.drills.catalogue import DRILLS
from binderctl.demo.drills.runner import DEFAULT_DURATION, DrillRunner, UnknownDrill
from binderctl.demo.runtime import serve_on_loopback
from binderctl.errors import BinderctlError, UsageError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_DURATION = 24 * 3600.0


class ControlEndpoint:
    def __init__(self, runner: DrillRunner, token: str) -> None:
        self.runner = runner
        self._token = token
        self._site: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        app = web.Application(middlewares=[self._auth, self._errors])
        app.add_routes(
            [
                web.get("/drills", self._list),
                web.post("/drills/{name}/start", self._start),
                web.get("/drill", self._status),
                web.post("/drill/stop", self._stop),
            ]
        )
        self._site = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._site.setup()
        self.port = await serve_on_loopback(self._site)
        return self.url

    async def stop(self) -> None:
        await self.runner.close()
        if self._site is not None:
            await self._site.cleanup()
            self._site = None

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
            return _error(401, "missing or wrong control token", "use the demo's env snippet")
        return await handler(request)

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except UnknownDrill as exc:
            return _error(404, exc.message, exc.hint)
        except UsageError as exc:
            return _error(400, exc.message, exc.hint)
        except BinderctlError as exc:
            return _error(409, exc.message, exc.hint)

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({"drills": [d.describe() for d in DRILLS.values()]})

    async def _start(self, request: web.Request) -> web.Response:
        duration = await _duration(request)
        run = await self.runner.start(request.match_info["name"], duration)
        return web.json_response(run.to_json(), status=201)

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self.runner.status())

    async def _stop(self, request: web.Request) -> web.Response:
        run = await self.runner.stop()
        return web.json_response(run.to_json())


async def _duration(request: web.Request) -> float:
    if not request.can_read_body:
        return DEFAULT_DURATION
    try:
        body = await request.json()
        duration = float(body["duration"] if isinstance(body, dict) else "?")
    except KeyError:
        return DEFAULT_DURATION
    except (ValueError, TypeError):
        raise UsageError('the body must be JSON {"duration": seconds}, seconds a number') from None
    if not 1 <= duration <= MAX_DURATION:
        raise UsageError(f"duration {duration:g} is out of range: 1 to {MAX_DURATION:g} seconds")
    return duration


def _error(status: int, message: str, hint: str | None) -> web.Response:
    return web.json_response({"error": message, "hint": hint}, status=status)
