"""The demo world's federation: a prime, another member, the demo member and a retired
host (weight 0), with the redirector checking them all at the demo's speed."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from binderctl.demo.federation.hosts import EmulatedHost
from binderctl.demo.federation.redirector import Redirector, Resolver
from binderctl.demo.runtime import LoopThread
from binderctl.federation_config import CheckSettings
from binderctl.services.prime_versions import PINNED_BUILD_IMAGE, PINNED_CHART_VERSION, versions_for

PRIME = "demo-prime"
OTHER = "demo-other"
RETIRED = "demo-retired"
WEIGHT = 50
VERSION_KEYS = {"build_image", "binderhub"}


def prime_versions() -> dict[str, Any]:
    """The prime's /versions: mybinder.org's pinned chart and build_image."""
    return versions_for(PINNED_CHART_VERSION, PINNED_BUILD_IMAGE)


def changed_versions(versions: dict[str, Any], changes: dict[str, str]) -> dict[str, Any]:
    """``versions`` with ``build_image`` (builder_info and builder) and/or ``binderhub``
    replaced."""
    unknown = sorted(set(changes) - VERSION_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(VERSION_KEYS))}")
    result = {**versions, "builder_info": dict(versions.get("builder_info") or {})}
    if "build_image" in changes:
        result["builder_info"]["build_image"] = changes["build_image"]
        result["builder"] = changes["build_image"]
    if "binderhub" in changes:
        result["binderhub"] = changes["binderhub"]
    return result


class Federation:
    def __init__(
        self,
        runtime: LoopThread,
        member: str,
        member_url: str,
        *,
        speed: float,
        resolve: Resolver,
        ca_path: Path,
        seed: int = 0,
        publish: Callable[[str], None] = lambda image: None,
    ) -> None:
        self.runtime = runtime
        self.member = member
        self.member_url = member_url
        self.speed = speed
        self.settings = CheckSettings()  # mybinder/values.yaml; the redirector scales it
        self.prime = EmulatedHost(PRIME, prime_versions(), quota=300, user_pods=120)
        self.other = EmulatedHost(OTHER, prime_versions(), quota=200, user_pods=60)
        self._resolve = resolve
        self._ca_path = ca_path
        self._seed = seed
        self._publish = publish  # an image the registry now has (called on the loop)
        self.redirector: Redirector | None = None

    def hosts(self) -> dict[str, dict[str, Any]]:
        """``federationRedirect.hosts``, in the form of config/prod.yaml."""

        def entry(url: str, weight: int, prime: bool = False) -> dict[str, Any]:
            return {
                "prime": prime,
                "url": url,
                "weight": weight,
                "health": f"{url}/health",
                "versions": f"{url}/versions",
            }

        return {
            PRIME: entry(self.prime.url, WEIGHT, prime=True),
            OTHER: entry(self.other.url, WEIGHT),
            self.member: entry(self.member_url, WEIGHT),
            RETIRED: entry("http://127.0.0.1:9", 0),
        }

    def config_table(self) -> dict[str, Any]:
        """The ``[federation]`` table for the demo's config: these hosts, and the check
        settings at the demo's speed (so failed_period matches the redirector's)."""
        scaled = self.settings.scaled(self.speed)
        return {
            "pod_headroom": scaled.pod_headroom,
            "check": {
                "period": scaled.period,
                "jitter": scaled.jitter,
                "retries": scaled.retries,
                "timeout": scaled.timeout,
                "failed_period": scaled.failed_period,
            },
            "hosts": self.hosts(),
        }

    def start(self) -> dict[str, str]:
        """Start the hosts and the redirector; their endpoints by name."""
        self.runtime.run(self.prime.start())
        self.runtime.run(self.other.start())
        verify = ssl.create_default_context(cafile=str(self._ca_path))
        self.redirector = Redirector(
            self.hosts(), self.settings, speed=self.speed, resolve=self._resolve,
            verify=verify, seed=self._seed,
        )  # fmt: skip
        url = self.runtime.run(self.redirector.start())
        return {
            "federation redirector": url,
            "federation prime": self.prime.url,
            "federation member": self.other.url,
        }

    def set_prime_versions(self, changes: dict[str, str]) -> None:
        self.runtime.run(self.move_prime(changes))

    async def move_prime(self, changes: dict[str, str]) -> None:
        """The prime moves to other versions (as at mybinder.org's next bump); a new
        build_image is published, so a member that installs it can pull it. On the loop."""
        versions = changed_versions(self.prime.versions_doc, changes)
        self.prime.versions_doc = versions
        self.other.versions_doc = versions  # the other member follows the prime
        if "build_image" in changes:
            self._publish(changes["build_image"])

    def snapshot(self) -> dict[str, Any]:
        """The redirector's view (``/_emulator/hosts``), read on its loop."""
        assert self.redirector is not None
        return self.runtime.on_loop(self.redirector.snapshot)

    def stop(self) -> None:
        async def stop() -> None:
            if self.redirector is not None:
                await self.redirector.stop()
            await self.prime.stop()
            await self.other.stop()

        self.runtime.run(stop())
