"""k3s's release channels: which k3s is current, which is supported, what comes next.

k3s publishes its channels through a channel server (rancher/channelserver, the service
behind ``https://update.k3s.io/v1-release/channels``; docs.k3s.io "Release Channels").
``GET <url>`` answers a rancher/apiserver collection::

    {"type": "collection", "resourceType": "channels", "links": {...}, "actions": {},
     "data": [{"id": "stable", "type": "channel", "links": {"self": ".../stable"},
               "name": "stable", "latest": "v1.36.3+k3s1"},
              {"id": "v1.36", "name": "v1.36", "latest": "v1.36.3+k3s1",
               "latestRegexp": "v1\\.36\\..*", "excludeRegexp": "^[^+]+-", ...}, ...]}

and ``GET <url>/<name>`` redirects (302) to the channel's latest GitHub release
(``rancher/channelserver`` ``pkg/server/store/channel/store.go``, ``pkg/config``; the
collection's shape: ``rancher/apiserver`` ``pkg/types`` ``GenericCollection``). Each
``v1.N`` channel holds the newest release of that minor (pre-releases excluded).

Support: the Kubernetes project maintains release branches for the most recent three
minor releases (kubernetes.io "Version Skew Policy"), and k3s releases follow each
Kubernetes minor; a k3s whose minor is older than the newest three minors the channels
list is out of upstream support. Upgrades go one minor at a time: the version skew
policy applies and "the system-upgrade-controller itself will not protect against
unsupported changes to the Kubernetes version" (docs.k3s.io "Automated Upgrades").

The answer is cached (cache dir ``k3s-channels.json``) for ``CACHE_SECONDS`` and used,
with its age, when the channel server cannot be reached.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from binderctl.errors import BinderctlError
from binderctl.paths import app_dir, write_private
from binderctl.services.attention import K3sSupport
from binderctl.services.json_fetch import fetch_object

CACHE_FILE = "k3s-channels.json"
CACHE_SECONDS = 6 * 3600.0
TIMEOUT = 10.0
SUPPORTED_MINORS = 3  # the Kubernetes project maintains the newest three minor releases
_RELEASE = re.compile(r"v([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})\+k3s([0-9]{1,4})")
_MINOR_CHANNEL = re.compile(r"v([0-9]{1,4})\.([0-9]{1,4})")

Minor = tuple[int, int]


def release(version: str) -> tuple[int, int, int, int]:
    """``v1.36.3+k3s1`` -> (1, 36, 3, 1); ValueError for anything else (pre-releases)."""
    match = _RELEASE.fullmatch(version)
    if match is None:
        raise ValueError(f"{version[:60]!r} is not a k3s release; expected like v1.36.3+k3s1")
    major, minor, patch, build = (int(part) for part in match.groups())
    return major, minor, patch, build


def minor_of(version: str) -> Minor:
    major, minor, _, _ = release(version)
    return major, minor


def minor_text(minor: Minor) -> str:
    return f"v{minor[0]}.{minor[1]}"


def parse_minor(text: str) -> Minor:
    """``v1.36`` -> (1, 36); ValueError for anything else."""
    match = _MINOR_CHANNEL.fullmatch(text)
    if match is None:
        raise ValueError(f"{text[:20]!r} is not a minor like v1.36")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class Channels:
    """The channels' latest releases, where and when they were read."""

    latest: dict[str, str]  # channel name -> its latest release ("" when it has none)
    source: str
    fetched: float  # POSIX time the channel server answered
    error: str | None = None  # why a fresh read failed (then this is the cached answer)

    def minors(self) -> dict[Minor, str]:
        """Each ``v1.N`` channel's minor -> its latest release, oldest first."""
        found: dict[Minor, str] = {}
        for name, version in self.latest.items():
            match = _MINOR_CHANNEL.fullmatch(name)
            if match is None or not _RELEASE.fullmatch(version):
                continue
            found[(int(match[1]), int(match[2]))] = version
        return dict(sorted(found.items()))

    def supported(self) -> tuple[Minor, ...]:
        """The newest three minors that have a release."""
        return tuple(list(self.minors())[-SUPPORTED_MINORS:])

    def is_supported(self, version: str) -> bool:
        supported = self.supported()
        return bool(supported) and minor_of(version) >= supported[0]

    def channel(self, name: str) -> str | None:
        version = self.latest.get(name) or ""
        return version if _RELEASE.fullmatch(version) else None

    def next_step(self, current: str, goal: str) -> str | None:
        """The next release on the way from ``current`` to ``goal``, one minor at a time:
        the newest patch of the next minor (or of this one), None when already there."""
        if release(current) >= release(goal):
            return None
        now, wanted = minor_of(current), minor_of(goal)
        following = (now[0], now[1] + 1)
        if wanted in (now, following):
            return goal
        return self.minors().get(following)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fetched": self.fetched,
            "error": self.error,
            "latest": dict(self.latest),
            "supported_minors": [minor_text(m) for m in self.supported()],
        }


def one_minor_at_a_time(current: str, target: str) -> str | None:
    """Why ``current`` cannot go to ``target`` in one upgrade (None when it can): no
    downgrade (Kubernetes does not support control-plane downgrades; k3s-upgrade refuses
    them), and no skipped minor (the version skew policy)."""
    if release(target) < release(current):
        return f"{target} is older than {current}: k3s cannot be downgraded in place"
    (major, minor), (to_major, to_minor) = minor_of(current), minor_of(target)
    if to_major != major or to_minor > minor + 1:
        return (
            f"{current} -> {target} skips a minor: k3s upgrades go one minor at a time "
            f"(next: {minor_text((major, minor + 1))})"
        )
    return None


def parse_collection(document: Any, source: str, fetched: float) -> Channels:
    """A channel server's collection; ValueError when it is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError("not a channel collection (no data list)")
    latest: dict[str, str] = {}
    for item in document["data"]:
        if not isinstance(item, dict):
            raise ValueError("a channel entry is not an object")
        name = item.get("name") or item.get("id")
        value = item.get("latest", "")
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError("a channel entry has no name or a latest that is not text")
        latest[name] = value
    if not latest:
        raise ValueError("the collection lists no channels")
    return Channels(latest, source, fetched)


def fetch(url: str, timeout: float = TIMEOUT) -> Channels:
    """GET the channel collection; ValueError saying why it could not be read."""
    return parse_collection(fetch_object(url, timeout), url, time.time())


def _cache() -> dict[str, Any]:
    try:
        document = json.loads((app_dir("cache") / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def cached(url: str) -> Channels | None:
    """The last answer of ``url`` this machine read (no network), or None."""
    entry = _cache().get(url)
    if not isinstance(entry, dict):
        return None
    try:
        return parse_collection(entry.get("answer"), url, float(entry.get("fetched", 0)))
    except (ValueError, TypeError):
        return None


def _store(channels: Channels) -> None:
    document = _cache()
    document[channels.source] = {
        "fetched": channels.fetched,
        "answer": {"data": [{"name": n, "latest": v} for n, v in channels.latest.items()]},
    }
    write_private(app_dir("cache") / CACHE_FILE, json.dumps(document, indent=1) + "\n")


def channels(
    url: str, *, refresh: bool = False, now: float | None = None, timeout: float = TIMEOUT
) -> Channels:
    """The channels of ``url``: cached when younger than ``CACHE_SECONDS`` (unless
    ``refresh``), else read again; the cached answer, with the error, when that fails."""
    now = time.time() if now is None else now
    known = cached(url)
    if known is not None and not refresh and now - known.fetched < CACHE_SECONDS:
        return known
    try:
        fresh = fetch(url, timeout)
    except ValueError as exc:
        if known is None:
            raise BinderctlError(
                f"cannot read k3s's release channels: {exc}",
                hint="set [upgrades] channel_url in the config if update.k3s.io is not "
                "reachable from here",
            ) from None
        return Channels(known.latest, url, known.fetched, str(exc))
    _store(fresh)
    return fresh


def known_support(url: str, channel: str) -> K3sSupport | None:
    """What the attention policy knows of k3s's support from the last answer this machine
    read (``upgrade plan`` and the upgrades read the channels): no network, whatever its
    age (support changes with a minor release, every few months); None before any."""
    known = cached(url)
    if known is None:
        return None
    supported = tuple(minor_text(minor) for minor in known.supported())
    return K3sSupport(supported, known.channel(channel) or "", channel)
