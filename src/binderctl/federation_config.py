"""The ``[federation]`` table: the redirector's hosts, its check settings and the prime.

Defaults follow jupyterhub/mybinder.org-deploy at 95860dbc: the hosts (with their
weights) of ``config/prod.yaml`` ``federationRedirect.hosts``, the check settings of
``mybinder/values.yaml`` ``federationRedirect.check`` and ``pod_headroom``. The prime is
the host with ``prime = true``; ``prime_url`` overrides where its ``/versions`` is read.

    [federation]
    # prime_url = "https://2i2c.mybinder.org"
    pod_headroom = 10
    [federation.check]
    period = 15
    jitter = 0.1
    retries = 5
    timeout = 5
    failed_period = 90
    [federation.hosts.hetzner-gesis]
    prime = false
    url = "https://gesis.mybinder.org"
    weight = 50
    health = "https://gesis.mybinder.org/health"
    versions = "https://gesis.mybinder.org/versions"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from binderctl.errors import ConfigError

_URL = re.compile(r"https?://[!-.0-~]+(/[!-~]*)?")
_HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class CheckSettings:
    """``federationRedirect.check`` and ``pod_headroom`` (seconds, counts)."""

    period: float = 15.0
    jitter: float = 0.1
    retries: int = 5
    timeout: float = 5.0
    failed_period: float = 90.0
    pod_headroom: int = 10

    def scaled(self, speed: float) -> CheckSettings:
        """The clocks ``speed`` times faster (the demo's simulated time)."""
        return replace(self, period=self.period / speed, failed_period=self.failed_period / speed)


PRODUCTION_CHECK = CheckSettings()  # mybinder/values.yaml federationRedirect.check


@dataclass(frozen=True)
class FederationHost:
    """One entry of ``federationRedirect.hosts``, in the form of ``config/prod.yaml``."""

    name: str
    url: str
    weight: int | float
    health: str
    versions: str
    prime: bool = False


@dataclass(frozen=True)
class FederationConfig:
    hosts: tuple[FederationHost, ...]
    check: CheckSettings = PRODUCTION_CHECK
    prime_url: str = ""  # "" = the url of the host with prime = true

    @property
    def prime(self) -> FederationHost | None:
        return next((h for h in self.hosts if h.prime), None)

    @property
    def prime_versions_url(self) -> str:
        if self.prime_url:
            prime = self.prime
            if prime is not None and prime.url == self.prime_url:
                return prime.versions
            return f"{self.prime_url}/versions"
        prime = self.prime
        return prime.versions if prime is not None else ""


def _prod_host(name: str, url: str, prime: bool = False) -> FederationHost:
    return FederationHost(name, url, 50, f"{url}/health", f"{url}/versions", prime)


# mybinder.org-deploy config/prod.yaml federationRedirect.hosts at 95860dbc
DEFAULT_FEDERATION = FederationConfig(
    hosts=(
        _prod_host("hetzner-2i2c", "https://2i2c.mybinder.org", prime=True),
        _prod_host("hetzner-gesis", "https://gesis.mybinder.org"),
        _prod_host("bids-ovh", "https://bids.mybinder.org"),
    )
)

_CHECK_KEYS = {
    "period": (0.01, 3600, "seconds"),
    "jitter": (0, 1, "a fraction"),
    "retries": (1, 20, "attempts"),
    "timeout": (0.1, 120, "seconds"),
    "failed_period": (0.01, 86400, "seconds"),
}
_HOST_KEYS = ("prime", "url", "weight", "health", "versions")


def _where(path: Path, *keys: str) -> str:
    return f"{path}: " + ".".join(("federation", *keys))


def _number(path: Path, keys: tuple[str, ...], value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{_where(path, *keys)}: expected a number from {low:g} to {high:g}")
    if not low <= value <= high:
        raise ConfigError(
            f"{_where(path, *keys)}: {value} is out of range; allowed: {low:g} to {high:g}"
        )
    return float(value)


def _url(path: Path, keys: tuple[str, ...], value: Any) -> str:
    if not isinstance(value, str) or not _URL.fullmatch(value):
        shown = repr(value)[:60]
        raise ConfigError(
            f"{_where(path, *keys)}: {shown} is not a URL; expected like https://gesis.mybinder.org"
        )
    return value.rstrip("/")


def _known_keys(
    path: Path, keys: tuple[str, ...], table: dict[str, Any], allowed: tuple[str, ...]
) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{_where(path, *keys, unknown[0])}: unknown key; allowed: {', '.join(allowed)}"
        )


def _check(path: Path, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(path, 'check')}: expected a table ([federation.check])")
    _known_keys(path, ("check",), table, tuple(_CHECK_KEYS))
    values: dict[str, Any] = {}
    for key, raw in table.items():
        low, high, _ = _CHECK_KEYS[key]
        number = _number(path, ("check", key), raw, low, high)
        if key == "retries":
            if number != int(number):
                raise ConfigError(f"{_where(path, 'check', key)}: expected a whole number")
            values[key] = int(number)
        else:
            values[key] = number
    return values


def _host(path: Path, name: str, table: Any) -> FederationHost:
    """A host as configured; one with a missing or zero weight is kept, so that it can
    be shown as the redirector treats it (removed at start)."""
    keys = ("hosts", name)
    if not _HOST_NAME.fullmatch(name):
        raise ConfigError(
            f"{_where(path, 'hosts')}: {name[:40]!r} is not a host name; "
            "expected letters, digits, - _ ."
        )
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(path, *keys)}: expected a table with {', '.join(_HOST_KEYS)}")
    _known_keys(path, keys, table, _HOST_KEYS)
    if "url" not in table:
        raise ConfigError(f"{_where(path, *keys, 'url')}: missing; every host needs its url")
    url = _url(path, (*keys, "url"), table["url"])
    prime = table.get("prime", False)
    if not isinstance(prime, bool):
        raise ConfigError(f"{_where(path, *keys, 'prime')}: expected true or false")
    number = _number(path, (*keys, "weight"), table.get("weight", 0), 0, 1_000_000)
    weight = int(number) if number == int(number) else number
    return FederationHost(
        name=name,
        url=url,
        weight=weight,
        health=_url(path, (*keys, "health"), table.get("health", f"{url}/health")),
        versions=_url(path, (*keys, "versions"), table.get("versions", f"{url}/versions")),
        prime=prime,
    )


def parse_federation(path: Path, table: Any) -> FederationConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: federation: expected a table ([federation])")
    allowed = ("prime_url", "pod_headroom", "check", "hosts")
    _known_keys(path, (), table, allowed)
    settings = _check(path, table.get("check", {}))
    if "pod_headroom" in table:
        headroom = _number(path, ("pod_headroom",), table["pod_headroom"], 0, 100_000)
        if headroom != int(headroom):
            raise ConfigError(f"{_where(path, 'pod_headroom')}: expected a whole number")
        settings["pod_headroom"] = int(headroom)
    hosts_table = table.get("hosts")
    if hosts_table is None:
        hosts = DEFAULT_FEDERATION.hosts
    else:
        if not isinstance(hosts_table, dict) or not hosts_table:
            raise ConfigError(
                f"{_where(path, 'hosts')}: expected tables like [federation.hosts.<name>]"
            )
        hosts = tuple(_host(path, n, t) for n, t in hosts_table.items())
    prime_url = _url(path, ("prime_url",), table["prime_url"]) if "prime_url" in table else ""
    if not prime_url and not any(h.prime and h.weight > 0 for h in hosts):
        raise ConfigError(
            f"{_where(path, 'hosts')}: no host with prime = true and a weight above 0 "
            "(the redirector exits with 'No prime host configured!'); mark the prime, "
            "or set federation.prime_url"
        )
    return FederationConfig(hosts=hosts, check=CheckSettings(**settings), prime_url=prime_url)
