"""k3s's channel server, emulated: ``GET /v1-release/channels`` and ``/channels/<name>``.

The real one (``update.k3s.io``) is rancher/channelserver serving k3s's channel config:
the collection is a rancher/apiserver ``GenericCollection`` (``type: collection``,
``resourceType``, ``links``, ``actions``, ``data``), each channel a resource with ``id``,
``type: channel``, ``links.self`` and the channel's own fields (``name``, ``latest``,
``latestRegexp``, ``excludeRegexp``); a channel by name answers 302 to
``redirectBase + latest`` (``https://github.com/k3s-io/k3s/releases/tag/<release>``), and
404 for one it does not know. Sources: rancher/channelserver ``pkg/server/server.go``,
``pkg/server/store/channel/store.go``, ``pkg/config/config.go`` (``Redirect``),
``pkg/model/config.go`` @0d8ed6db; rancher/apiserver ``pkg/types/types.go``
(``Collection``, ``GenericCollection``), ``pkg/writer/encoding.go`` (``newCollection``)
@99b2c5ab; k3s-io/k3s ``channel.yaml`` (the channel names, each ``v1.N`` channel
``latestRegexp: v1\\.N\\..*`` with ``excludeRegexp: ^[^+]+-``).

The releases are those k3s's release notes name (k3s-io/docs ``docs/release-notes``):
each minor's newest patch that those notes name, not necessarily the newest there is.
``stable`` is v1.36.3+k3s1 ("Update stable channel to v1.36.3+k3s1", in the v1.37.0+k3s1
notes). Knobs: ``delay`` (seconds before each answer), ``down`` (503 for everything),
``latest`` (change a channel).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from binderctl.demo.runtime import LoopThread

PREFIX = "/v1-release"
REDIRECT_BASE = "https://github.com/k3s-io/k3s/releases/tag/"
# Each minor's newest patch the release notes name (k3s-io/docs docs/release-notes:
# v1.33.6 "Update channels to 1.33.6" in v1.35.X.md @e09f43cd; v1.34.2 in v1.34.X.md
# @0887158f; v1.35.3 "Changes since v1.35.3+k3s1" in v1.36.X.md @2160a60a; v1.36.3 and
# v1.37.1 in v1.37.X.md @5962ea1e). v1.32.4+k3s1 is the release binderctl pinned before.
RELEASES = (
    "v1.32.4+k3s1",
    "v1.33.6+k3s1",
    "v1.34.1+k3s1", "v1.34.2+k3s1",
    "v1.35.0+k3s1", "v1.35.0+k3s3", "v1.35.3+k3s1",
    "v1.36.0+k3s1", "v1.36.1+k3s1", "v1.36.2+k3s1", "v1.36.3+k3s1",
    "v1.37.0+k3s1", "v1.37.1+k3s1",
)  # fmt: skip
STABLE = "v1.36.3+k3s1"


def _release_key(version: str) -> tuple[int, ...]:
    core, _, build = version.lstrip("v").partition("+k3s")
    return (*(int(part) for part in core.split(".")), int(build))


def _minor_channels() -> dict[str, str]:
    latest: dict[str, str] = {}
    for version in sorted(RELEASES, key=_release_key):
        major, minor = version.lstrip("v").split(".")[:2]
        latest[f"v{major}.{minor}"] = version
    return latest


def default_channels() -> dict[str, str]:
    """Channel name -> latest release, in channel.yaml's order (stable, latest, then each
    minor; not ``testing``, whose pre-releases the notes do not name)."""
    minors = _minor_channels()
    newest = sorted(RELEASES, key=_release_key)[-1]
    return {"stable": STABLE, "latest": newest, **minors}


def _fields(name: str) -> dict[str, str]:
    """channel.yaml's fields of a channel besides ``latest``."""
    if name == "stable":
        return {}
    if name.startswith("v1."):
        return {"latestRegexp": name.replace(".", "\\.") + "\\..*", "excludeRegexp": "^[^+]+-"}
    return {"latestRegexp": ".*", "excludeRegexp": "^[^+]+-"}


class ChannelServer:
    def __init__(self, runtime: LoopThread) -> None:
        self.runtime = runtime
        self.latest = default_channels()
        self.delay = 0.0
        self.down = False
        self.requests = 0
        self.url = ""  # http://127.0.0.1:<port>/v1-release/channels once started
        self._runner: web.AppRunner | None = None

    def _base(self, request: web.Request) -> str:
        return f"http://{request.host}{PREFIX}/channels"

    async def _wait(self) -> None:
        self.requests += 1
        await asyncio.sleep(self.delay)
        if self.down:
            raise web.HTTPServiceUnavailable()

    def _resource(self, base: str, name: str, latest: str) -> dict[str, Any]:
        return {
            "id": name,
            "type": "channel",
            "links": {"self": f"{base}/{name}"},
            "name": name,
            "latest": latest,
            **_fields(name),
        }

    async def _collection(self, request: web.Request) -> web.Response:
        await self._wait()
        base = self._base(request)
        document = {
            "type": "collection",
            "links": {"self": base},
            "actions": {},
            "resourceType": "channels",
            "data": [self._resource(base, n, v) for n, v in self.latest.items()],
        }
        return web.json_response(document)

    async def _channel(self, request: web.Request) -> web.Response:
        await self._wait()
        name = request.match_info["name"]
        latest = self.latest.get(name)
        if latest is None:
            raise web.HTTPNotFound()
        raise web.HTTPFound(REDIRECT_BASE + latest)

    def resolve(self, url: str) -> str:
        """What the system-upgrade-controller resolves a channel URL of this server to
        (the last path element of the redirect); ValueError for another URL."""
        if not url.startswith(self.url + "/"):
            raise ValueError(f'Get "{url}": dial tcp: lookup: no such host')
        if self.down:
            raise ValueError("unexpected response: HTTP/1.1 503 Service Unavailable")
        latest = self.latest.get(url[len(self.url) + 1 :])
        if latest is None:
            raise ValueError("unexpected response: HTTP/1.1 404 Not Found")
        return latest

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get(f"{PREFIX}/channels", self._collection)
        app.router.add_get(PREFIX + "/channels/{name}", self._channel)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}{PREFIX}/channels"

    def start(self) -> str:
        self.url = self.runtime.run(self._start())
        return self.url

    def stop(self) -> None:
        if self._runner is not None:
            self.runtime.run(self._runner.cleanup())
            self._runner = None
