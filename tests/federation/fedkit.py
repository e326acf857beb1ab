"""A small federation on loopback: a prime, a member and the emulated redirector, each
on its own port, driven through real HTTP (httpx) and read through the redirector's own
``/_emulator/hosts`` and the real ``/active_hosts``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from binderctl.demo.federation.hosts import EmulatedHost
from binderctl.demo.federation.redirector import Redirector
from binderctl.demo.federation.world import prime_versions
from binderctl.demo.runtime import LoopThread
from binderctl.federation_config import CheckSettings
from tests.kit.waiting import wait_for

SPEED = 30.0  # period 0.5 s, failed_period 3 s, retry pause 1/30 s
T = TypeVar("T")


def entry(url: str, weight: float | None = 50, prime: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {
        "prime": prime, "url": url, "health": f"{url}/health", "versions": f"{url}/versions",
    }  # fmt: skip
    if weight is not None:
        found["weight"] = weight
    return found


@dataclass
class Fed:
    runtime: LoopThread
    prime: EmulatedHost
    member: EmulatedHost
    redirector: Redirector

    def hosts(self) -> dict[str, Any]:
        return httpx.get(f"{self.redirector.url}/_emulator/hosts", timeout=5).json()["hosts"]

    def active(self) -> set[str]:
        answer = httpx.get(f"{self.redirector.url}/active_hosts", timeout=5).json()
        return set(answer["active_hosts"])

    def until(self, check: Callable[[], T], seconds: float = 20.0) -> T:
        return wait_for(check, seconds, what=self.hosts)


@contextmanager
def federation(
    extra: dict[str, Any] | None = None, settings: CheckSettings | None = None
) -> Iterator[Fed]:
    runtime = LoopThread("test-federation")
    prime = EmulatedHost("prime", prime_versions())
    member = EmulatedHost("member", prime_versions(), quota=100, user_pods=20, build_pods=2)
    redirector: Redirector | None = None
    try:
        runtime.run(prime.start())
        runtime.run(member.start())
        hosts = {
            "prime": entry(prime.url, prime=True),
            "member": entry(member.url),
            **(extra or {}),
        }
        redirector = Redirector(hosts, settings or CheckSettings(), speed=SPEED, seed=1)
        runtime.run(redirector.start())
        yield Fed(runtime, prime, member, redirector)
    finally:

        async def stop() -> None:
            if redirector is not None:
                await redirector.stop()
            await prime.stop()
            await member.stop()

        runtime.run(stop())
        runtime.stop()
