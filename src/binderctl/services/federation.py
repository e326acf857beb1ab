"""In rotation or not, by the federation redirector's own rules.

The rules are those of ``health_check`` in jupyterhub/mybinder.org-deploy
``images/federation-redirect/app.py`` (95860dbc), applied to what each host's public
``/health`` and ``/versions`` return and to the prime's ``/versions``:

1. a host with a missing or zero ``weight`` is removed when the redirector starts;
2. ``/versions`` first: a host whose versions differ from the prime's is dropped
   (reason ``versions``); without the prime's versions the redirector compares with the
   last ones it read, which we cannot know, so we say so and do not guess;
3. then ``/health``: a check that is not ok drops the host (BinderHub answers 503 when a
   hard check fails, which the redirector retries ``retries`` times and then records as
   reason ``unknown``); the Pod quota check drops it when
   ``total_pods + pod_headroom >= quota`` (quota not null);
4. a connection error or timeout on every attempt drops the host;
5. a dropped host is checked again only after ``failed_period``: a member whose checks
   pass again may stay out until then.

Only public endpoints are read, with no credentials. A host that is one of our
configured members is asked through its node's address (Host header and SNI), as
``binderctl status`` does, so it works before DNS does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from binderctl.config import Config, MemberConfig
from binderctl.errors import BinderctlError
from binderctl.federation_config import CheckSettings, FederationConfig, FederationHost
from binderctl.models import Health, HealthCheck, RotationVerdict
from binderctl.paths import app_dir, exclusive_lock, write_private
from binderctl.services import prime_versions

if TYPE_CHECKING:
    import httpx

CONCURRENCY = 8  # hosts polled at once
MEMORY_FILE = "federation.json"
DEFAULT_WEIGHT = 50  # every host in mybinder.org-deploy config/prod.yaml has 50


@dataclass(frozen=True)
class HostReport:
    host: FederationHost
    member: str | None  # the configured member this host is, if any
    verdict: RotationVerdict
    health: Health | None
    differences: tuple[tuple[str, Any, Any], ...] = ()
    checked: float = 0.0
    elapsed: float = 0.0


@dataclass(frozen=True)
class FederationReport:
    prime_url: str  # the prime's /versions
    prime_versions: dict[str, Any] | None
    prime_error: str | None
    settings: CheckSettings
    hosts: tuple[HostReport, ...]
    checked: float = field(default_factory=time.time)


# -- the rules (pure) ----------------------------------------------------------------
def judge(
    host: FederationHost,
    versions: dict[str, Any] | None,
    health: Health | None,
    health_status: int | None,
    prime_versions_doc: dict[str, Any] | None,
    settings: CheckSettings,
    *,
    error: str | None = None,
) -> tuple[RotationVerdict, tuple[tuple[str, Any, Any], ...]]:
    """The redirector's verdict on one check of ``host`` (``health_check`` in app.py)."""
    if host.weight <= 0:
        return RotationVerdict(False, "weight", "weight 0: the redirector removes it at start"), ()
    if error is not None or versions is None:
        return _unreachable(error or "no /versions", settings), ()
    diffs: tuple[tuple[str, Any, Any], ...] = ()
    prime = versions if host.prime else prime_versions_doc
    if prime is not None:
        diffs = tuple(prime_versions.differences(versions, prime))
        if diffs:
            text = prime_versions.describe(list(diffs))
            return RotationVerdict(
                False, "versions", f"versions differ from the prime: {text}"
            ), diffs
    if health is None or health.ok is None:
        reason = health.error if health and health.error else "no /health"
        return _unreachable(reason, settings), diffs
    room = ""
    for check in health.checks:
        if not check.ok:
            how = (
                f" (/health answered {health_status}; the redirector retries "
                f"{settings.retries} times, then records reason 'unknown')"
                if health_status not in (200, None)
                else ""
            )
            numbers, detail = "", check.detail
            if "total_pods" in detail:
                numbers = f" (total_pods {detail['total_pods']} > quota {detail.get('quota')})"
            text = f"failing check: {check.service}{numbers}{how}"
            return RotationVerdict(False, "check", text, check.service), diffs
        if (
            check.service == "Pod quota"
            and check.detail.get("quota") is not None
            and settings.pod_headroom
        ):
            total, quota = check.detail.get("total_pods"), check.detail.get("quota")
            headroom = settings.pod_headroom
            if isinstance(total, int) and isinstance(quota, int) and total + headroom >= quota:
                text = (
                    f"quota headroom: total_pods {total} + pod_headroom "
                    f"{settings.pod_headroom} >= quota {quota}"
                )
                return RotationVerdict(False, "quota headroom", text, check.service), diffs
            room = f", total_pods {total} + pod_headroom {headroom} < quota {quota}"
            break  # app.py stops looking at the checks after the Pod quota check
    if prime is None:
        return (
            RotationVerdict(
                None,
                "prime unreachable",
                "checks pass, but the prime's /versions cannot be read, so whether the "
                "versions match cannot be told",
            ),
            diffs,
        )
    return RotationVerdict(True, None, f"versions match the prime, checks pass{room}"), diffs


def _unreachable(error: str, settings: CheckSettings) -> RotationVerdict:
    return RotationVerdict(
        False,
        "unreachable",
        f"does not answer: {error} (the redirector drops a host after {settings.retries} "
        f"failed attempts with a {settings.timeout:g} s timeout)",
    )


# -- failed_period: what the redirector remembers ------------------------------------
def _memory_path() -> Path:
    return app_dir("state") / MEMORY_FILE


@contextlib.contextmanager
def _memory_locked() -> Iterator[None]:
    """Around a read-modify-write of the memory: the console, `status` and `watch` may
    judge at once, and one must not drop the failure another has just recorded."""
    try:
        with exclusive_lock(_memory_path().with_suffix(".lock")):
            yield
    except OSError:
        yield  # an unwritable state dir: the memory is not written either


def _read_memory() -> dict[str, dict[str, float]]:
    try:
        document = json.loads(_memory_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def remembered(
    host: FederationHost,
    verdict: RotationVerdict,
    now: float,
    settings: CheckSettings,
    memory: dict[str, dict[str, float]],
) -> RotationVerdict:
    """Apply failed_period: after a failure, passing checks bring a host back only when
    the redirector checks it again, up to ``failed_period`` (plus jitter) later.
    Updates ``memory`` (url -> failed, ok_since)."""
    entry = memory.get(host.url)
    if verdict.in_rotation is False and verdict.reason != "weight":
        memory[host.url] = {"failed": now}
        return verdict
    if verdict.in_rotation is not True or not isinstance(entry, dict):
        return verdict
    ok_since = float(entry.get("ok_since") or now)
    until = ok_since + settings.failed_period * (1 + settings.jitter / 2)
    if now >= until:
        memory.pop(host.url, None)
        return verdict
    memory[host.url] = {**entry, "ok_since": ok_since}
    return RotationVerdict(
        False,
        "failed_period",
        f"checks pass again since {_clock(ok_since)}, but the redirector checks a dropped "
        f"host again only after failed_period ({settings.failed_period:g} s): back by "
        f"{_clock(until)} at the latest",
    )


def _clock(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


# -- polling -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    """How to ask one host: the URLs, the Host header and SNI for a member asked at its
    node's address, and the CA bundle."""

    health: str
    versions: str
    headers: dict[str, str]
    extensions: dict[str, Any]
    verify: Any


def member_for(host: FederationHost, members: Sequence[MemberConfig]) -> MemberConfig | None:
    name = urlsplit(host.url).hostname
    return next((m for m in members if m.binder_host == name), None)


def _target(host: FederationHost, member: MemberConfig | None) -> _Target:
    if member is None:
        return _Target(host.health, host.versions, {}, {}, True)
    from binderctl.services.binderhub import tls_verify
    from binderctl.services.kube import node_address

    try:
        address = node_address(member)
    except BinderctlError:
        address = ""  # not provisioned from here: DNS, as the redirector does
    verify = tls_verify(member)
    if not address:
        return _Target(host.health, host.versions, {}, {}, verify)
    bracketed = f"[{address}]" if ":" in address else address
    base = f"https://{bracketed}:{member.https_port}"
    return _Target(
        f"{base}{urlsplit(host.health).path or '/health'}",
        f"{base}{urlsplit(host.versions).path or '/versions'}",
        {"Host": member.binder_host},
        {"sni_hostname": member.binder_host},
        verify,
    )


async def _get_json(client: httpx.AsyncClient, url: str, target: _Target) -> tuple[int, Any]:
    response = await client.get(url, headers=target.headers, extensions=target.extensions)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def _health_of(status: int, document: Any, where: str) -> Health:
    if status not in (200, 503) or not isinstance(document, dict):
        return Health(
            ok=None,
            error=f"{where} answered HTTP {status}"
            + ("" if isinstance(document, dict) else ", not JSON"),
        )
    from binderctl.services.binderhub import health_checks

    ok = document.get("ok")
    checks: tuple[HealthCheck, ...] = health_checks(document)
    return Health(ok=ok if isinstance(ok, bool) else None, checks=checks)


async def _poll_host(
    host: FederationHost,
    member: MemberConfig | None,
    prime: dict[str, Any] | None,
    settings: CheckSettings,
    limit: asyncio.Semaphore,
    public: httpx.AsyncClient,
) -> HostReport:
    """``public``: the client for hosts asked by their URL (system CAs); one of our
    members, asked at its node's address with its CA bundle, gets a client of its own."""
    import httpx

    started = time.monotonic()
    health: Health | None = None
    status: int | None = None
    versions: dict[str, Any] | None = None
    error: str | None = None
    async with limit, contextlib.AsyncExitStack() as stack:
        if host.weight > 0:
            try:
                target = _target(host, member)
                client = public
                if target.verify is not True:
                    client = await stack.enter_async_context(
                        httpx.AsyncClient(verify=target.verify, timeout=settings.timeout)
                    )
                code, document = await _get_json(client, target.versions, target)
                if code != 200 or not isinstance(document, dict):
                    error = f"{host.versions} answered HTTP {code}"
                else:
                    versions = document
                    status, body = await _get_json(client, target.health, target)
                    health = _health_of(status, body, host.health)
            except httpx.HTTPError as exc:
                where = host.health if versions is not None else host.versions
                error = f"{where}: {exc or type(exc).__name__}"
            except BinderctlError as exc:
                error = exc.message
    verdict, diffs = judge(host, versions, health, status, prime, settings, error=error)
    if health is not None and versions is not None:
        health = Health(health.ok, health.checks, versions, health.error)
    return HostReport(
        host, member.name if member else None, verdict, health, diffs, time.time(),
        time.monotonic() - started,
    )  # fmt: skip


async def _prime_versions(
    federation: FederationConfig, client: httpx.AsyncClient
) -> tuple[dict[str, Any] | None, str | None]:
    import httpx

    url = federation.prime_versions_url
    try:
        response = await client.get(url)
        if response.status_code != 200:
            return None, f"{url} answered HTTP {response.status_code}"
        document = response.json()
    except httpx.HTTPError as exc:
        return None, f"cannot reach {url}: {exc or type(exc).__name__}"
    except ValueError:
        return None, f"{url} did not answer JSON"
    if not isinstance(document, dict):
        return None, f"{url} did not answer a JSON object"
    return document, None


async def _poll(
    federation: FederationConfig, members: Sequence[MemberConfig], hosts: Sequence[FederationHost]
) -> FederationReport:
    import httpx

    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=federation.check.timeout) as public:
        prime, prime_error = await _prime_versions(federation, public)
        reports = await asyncio.gather(
            *(
                _poll_host(host, member_for(host, members), prime, federation.check, limit, public)
                for host in hosts
            )
        )
    return FederationReport(
        federation.prime_versions_url, prime, prime_error, federation.check, tuple(reports)
    )


def federation_report(
    config: Config, hosts: Sequence[FederationHost] | None = None
) -> FederationReport:
    """Every configured host (or ``hosts``), polled at once (at most CONCURRENCY at a
    time, each request bounded by the redirector's timeout), judged by its rules and
    with failed_period applied from what earlier polls saw."""
    federation = config.federation
    report = asyncio.run(
        _poll(federation, list(config.members.values()), hosts or federation.hosts)
    )
    with _memory_locked():
        memory = _read_memory()
        now = report.checked
        judged = tuple(
            HostReport(
                r.host,
                r.member,
                remembered(r.host, r.verdict, now, report.settings, memory),
                r.health,
                r.differences,
                r.checked,
                r.elapsed,
            )
            for r in report.hosts
        )
        with contextlib.suppress(OSError):
            write_private(_memory_path(), json.dumps(memory) + "\n")
    return FederationReport(
        report.prime_url, report.prime_versions, report.prime_error, report.settings,
        judged, report.checked,
    )  # fmt: skip


def member_host(config: Config, member: MemberConfig) -> FederationHost:
    """The member's entry in the federation list, or the one the snippet suggests."""
    found = next((h for h in config.federation.hosts if member_for(h, [member])), None)
    if found is not None:
        return found
    entry = snippet_entry(member)[member.name]
    return FederationHost(
        member.name, entry["url"], entry["weight"], entry["health"], entry["versions"]
    )


def member_verdict(config: Config, member: MemberConfig) -> HostReport:
    """The member as the redirector sees it (for status and the console header)."""
    return federation_report(config, [member_host(config, member)]).hosts[0]


# -- the redirector snippet ----------------------------------------------------------
def member_url(member: MemberConfig) -> str:
    port = "" if member.https_port == 443 else f":{member.https_port}"
    return f"https://{member.binder_host}{port}"


def snippet_entry(
    member: MemberConfig, weight: int = DEFAULT_WEIGHT, name: str = ""
) -> dict[str, Any]:
    """The member's entry under ``federationRedirect.hosts``, in the form of
    mybinder.org-deploy ``config/prod.yaml``: prime, url, weight, health, versions."""
    url = member_url(member)
    return {
        name or member.name: {
            "prime": False,
            "url": url,
            "weight": weight,
            "health": f"{url}/health",
            "versions": f"{url}/versions",
        }
    }


def entry_yaml(entry: dict[str, Any]) -> str:
    """YAML to paste under ``federationRedirect.hosts``, keys in prod.yaml's order."""
    import yaml

    return yaml.safe_dump(entry, sort_keys=False)


def snippet(member: MemberConfig, weight: int = DEFAULT_WEIGHT, name: str = "") -> str:
    return entry_yaml(snippet_entry(member, weight, name))
