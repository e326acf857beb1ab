"""The member's Hetzner Cloud resources through ``hcloud.Client``: SSH key, firewall,
primary IPv4, server, pricing.

Every ``ensure_*`` checks, acts only when needed, and verifies; resources are found again
by the member's labels (``managed-by=binderctl``, ``binderctl/member=<name>``), never by
assuming that an earlier run finished. API failures become ``BinderctlError``s that say
what went wrong and what to do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import hcloud
import requests
from hcloud.actions import ActionFailedException, ActionTimeoutException, BoundAction
from hcloud.core import DomainIdentityMixin
from hcloud.firewalls import BoundFirewall, Firewall, FirewallResource, FirewallRule
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.primary_ips import BoundPrimaryIP, PrimaryIP
from hcloud.server_types import ServerType
from hcloud.servers import BoundServer, ServerCreatePublicNetwork
from hcloud.ssh_keys import BoundSSHKey, SSHKey

from binderctl import __version__
from binderctl.auth import Secret, hetzner_token
from binderctl.config import ENDPOINT_ENV, MemberConfig
from binderctl.errors import BinderctlError, ConfigError
from binderctl.formatting import inert
from binderctl.parsing import ssh_fingerprint
from binderctl.services.cloudinit import check_user_data_size

# Seconds: base of the client's retry backoff and its action poll interval. The demo
# world sets it low so that retries and polling against the emulator are quick.
BACKOFF_ENV = "BINDERCTL_HCLOUD_BACKOFF"
ANYWHERE = ("0.0.0.0/0", "::/0")
API_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds per request; a timeout is retried
Outcome = Literal["created", "changed", "kept"]
PlanAction = Literal["create", "change", "keep"]
T = TypeVar("T")


def known(value: T | None, what: str) -> T:
    """A field the Hetzner API always sends, which hcloud types as optional (its objects
    may be loaded partly); a clear error, not an AttributeError, if an answer lacked it."""
    if value is None:
        raise BinderctlError(f"the Hetzner API answered without the {what}")
    return value


def name_of(resource: DomainIdentityMixin | None, what: str) -> str:
    """The name of a server's type or location, or of a primary IP's location."""
    return known(None if resource is None else resource.name, what)


@dataclass(frozen=True)
class Found:
    """A member resource as it is now; ``drift`` lists what binderctl would fix."""

    kind: str
    id: int
    name: str
    drift: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # differences binderctl does not fix by itself
    ipv4: str | None = None


@dataclass(frozen=True)
class Ensured:
    found: Found
    outcome: Outcome

    @property
    def message(self) -> str:
        what = f"{self.found.kind} {self.found.name} (id {self.found.id})"
        text = {
            "created": f"created {what}",
            "changed": f"brought {what} in line",
            "kept": f"{what} already in place",
        }[self.outcome]
        if self.found.drift and self.outcome == "changed":
            text += f": {'; '.join(self.found.drift)}"
        return "; ".join((text, *self.found.notes))


@dataclass(frozen=True)
class ServerFlags:
    name: str
    status: str
    locked: bool
    ipv4: str | None
    ipv4_blocked: bool


@dataclass(frozen=True)
class PlanItem:
    kind: str
    action: PlanAction
    name: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "resource": self.kind,
            "action": self.action,
            "name": self.name,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class MemberResources:
    servers: list[BoundServer] = field(default_factory=list)
    firewalls: list[BoundFirewall] = field(default_factory=list)
    ssh_keys: list[BoundSSHKey] = field(default_factory=list)
    primary_ips: list[BoundPrimaryIP] = field(default_factory=list)

    def describe(self) -> list[str]:
        return [
            *(
                f"server {s.name} (id {s.id}, "
                f"{name_of(s.server_type, 'server type')} in {name_of(s.location, 'location')})"
                for s in self.servers
            ),
            *(f"firewall {f.name} (id {f.id})" for f in self.firewalls),
            *(f"SSH key {k.name} (id {k.id})" for k in self.ssh_keys),
            *(f"primary IP {ip.name} {ip.ip} (id {ip.id})" for ip in self.primary_ips),
        ]

    @property
    def empty(self) -> bool:
        return not (self.servers or self.firewalls or self.ssh_keys or self.primary_ips)


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset: int  # UNIX time when the hourly budget is full again


@dataclass(frozen=True)
class TeardownResult:
    deleted: list[str]
    kept: list[str]


def resource_name(member: MemberConfig) -> str:
    return f"binderctl-{member.name}"


def desired_rules(member: MemberConfig) -> list[FirewallRule]:
    """SSH and the Kubernetes API from the allowed networks; HTTP(S) and ping from anywhere."""

    def tcp(port: int, sources: tuple[str, ...], what: str) -> FirewallRule:
        return FirewallRule(
            direction="in",
            protocol="tcp",
            port=str(port),
            source_ips=list(sources),
            description=what,
        )

    return [
        tcp(member.ssh_port, member.ssh_allowed_cidrs, "SSH"),
        tcp(6443, member.api_allowed_cidrs, "Kubernetes API"),
        tcp(80, ANYWHERE, "HTTP (Let's Encrypt, redirects)"),
        tcp(member.https_port, ANYWHERE, "HTTPS"),
        FirewallRule(
            direction="in", protocol="icmp", source_ips=list(ANYWHERE), description="ping"
        ),
    ]


def _rule_key(rule: FirewallRule) -> tuple[Any, ...]:
    return (
        rule.direction,
        rule.protocol,
        rule.port or None,
        tuple(sorted(rule.source_ips or ())),
        tuple(sorted(rule.destination_ips or ())),
    )


def rules_differ(current: list[FirewallRule], wanted: list[FirewallRule]) -> str:
    """What differs between two rule sets (descriptions ignored); empty if nothing."""
    now, then = {_rule_key(r) for r in current}, {_rule_key(r) for r in wanted}
    missing, extra = then - now, now - then
    parts = [
        f"add {r[1]} {r[2] or ''} from {', '.join(r[3])}".replace("  ", " ")
        for r in sorted(missing, key=str)
    ]
    parts += [
        f"remove {r[1]} {r[2] or ''} from {', '.join(r[3])}".replace("  ", " ")
        for r in sorted(extra, key=str)
    ]
    return "; ".join(parts)


def _backoff() -> float:
    raw = os.environ.get(BACKOFF_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.001 <= value <= 60:
        raise ConfigError(f"{BACKOFF_ENV}: {raw[:20]!r} is not allowed; expected seconds, 0.001-60")
    return value


class HetznerService:
    """The member's resources at Hetzner. Holds the token only inside the hcloud client."""

    def __init__(
        self,
        member: MemberConfig,
        token: Secret,
        *,
        timeout: tuple[float, float] = API_TIMEOUT,
        retries: int | None = None,
    ) -> None:
        """``retries``: how often a failed call is tried again (None: hcloud's 5)."""
        backoff = _backoff()
        self.member = member
        self.endpoint = member.hcloud_endpoint
        self.rate_limit: RateLimit | None = None
        self._token_source = token.source
        self._client = hcloud.Client(
            token.reveal(),
            api_endpoint=self.endpoint,
            application_name="binderctl",
            application_version=__version__,
            poll_interval=backoff,
            poll_max_retries=int(600 / backoff) + 1,
            timeout=timeout,
        )
        # hcloud-python has no public setting for these two (checked against 2.27):
        # the retry backoff, and a hook that sees the response headers (RateLimit-*).
        base = self._client._client
        base._retry_interval_func = hcloud.exponential_backoff_function(
            base=backoff, multiplier=2, cap=60 * backoff, jitter=True
        )
        base._session.hooks["response"].append(self._record_rate_limit)
        if retries is not None:
            base._retry_max_retries = retries

    @classmethod
    def for_member(cls, member: MemberConfig, retries: int | None = None) -> HetznerService:
        return cls(member, hetzner_token(member.name), retries=retries)

    def __repr__(self) -> str:
        return f"HetznerService(member={self.member.name!r}, endpoint={self.endpoint!r})"

    def _record_rate_limit(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        headers = response.headers
        with suppress(KeyError, ValueError):
            self.rate_limit = RateLimit(
                int(headers["RateLimit-Limit"]),
                int(headers["RateLimit-Remaining"]),
                int(headers["RateLimit-Reset"]),
            )

    @property
    def selector(self) -> str:
        return ",".join(f"{key}={value}" for key, value in self.member.labels.items())

    # ---- errors ---------------------------------------------------------------------------

    @contextmanager
    def _api(self, doing: str) -> Iterator[None]:
        try:
            yield
        except hcloud.APIException as exc:
            raise self._explain(exc, doing) from None
        except ActionFailedException as exc:
            error: Mapping[str, object] = exc.action.error or {}
            raise BinderctlError(
                f"{doing}: Hetzner's {exc.action.command} action ended in an error: "
                f"{inert(str(error.get('message', 'no reason given')))}",
                hint="run the same command again: it finds what exists and continues",
            ) from None
        except ActionTimeoutException as exc:
            raise BinderctlError(
                f"{doing}: Hetzner's {exc.action.command} action did not finish in time",
                hint="run the same command again: it waits for the action and continues",
            ) from None
        except requests.Timeout:
            raise BinderctlError(
                f"{doing}: the Hetzner API at {self.endpoint} did not answer in time",
                hint="check the network, then run the same command again",
            ) from None
        except requests.RequestException as exc:
            refused = isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower()
            raise BinderctlError(
                f"{doing}: cannot talk to the Hetzner API at {self.endpoint} "
                f"({'connection refused' if refused else 'connection lost'})",
                hint=f"check the network and the endpoint (hcloud_endpoint or {ENDPOINT_ENV}), "
                "then run the same command again",
            ) from None

    def _explain(self, exc: hcloud.APIException, doing: str) -> BinderctlError:
        code, message = exc.code, inert(str(exc.message))
        details = exc.details if isinstance(exc.details, dict) else {}
        fields = details.get("fields") or []
        names = {f.get("name") for f in fields if isinstance(f, dict)}
        if code == "unauthorized":
            return ConfigError(
                f"{doing}: the Hetzner API at {self.endpoint} refused the token from "
                f"{self._token_source} (401 unauthorized)",
                hint="use a read-write API token of the member's project: "
                "`binderctl auth login`, or set HCLOUD_TOKEN",
            )
        if code in ("forbidden", "token_readonly"):
            return ConfigError(
                f"{doing}: the token from {self._token_source} may not do this ({message})",
                hint="create a read-write API token in the Hetzner Cloud console",
            )
        if code == "invalid_input" and names & {"server_type", "location"}:
            return self._offered_error(doing, message)
        if code == "invalid_input":
            detail = "; ".join(
                f"{f.get('name')}: {', '.join(f.get('messages') or [])}" for f in fields
            )
            return BinderctlError(
                f"{doing}: Hetzner rejected the request: {message}"
                + (f" ({inert(detail)})" if detail else "")
            )
        if code == "resource_limit_exceeded":
            return BinderctlError(
                f"{doing}: the Hetzner project has reached an account limit ({message})",
                hint="delete resources the project no longer needs, or ask Hetzner to raise "
                "the limit (Cloud Console: Limits)",
            )
        if code == "uniqueness_error":
            which = ", ".join(sorted(str(n) for n in names)) or "name"
            return BinderctlError(
                f"{doing}: the project already has a resource with the same {which} "
                f"({message}), and it is not labelled for member {self.member.name!r}",
                hint="rename or delete that resource, or label it "
                f"managed-by=binderctl,binderctl/member={self.member.name} if it is the member's",
            )
        if code == "rate_limit_exceeded":
            return BinderctlError(
                f"{doing}: the Hetzner API rate limit is used up ({message})",
                hint=self._retry_hint(),
            )
        if code == "locked":
            return BinderctlError(
                f"{doing}: the resource is busy with another action ({message})",
                hint="wait a minute, then run the same command again",
            )
        status = code if isinstance(code, int) else None
        if (status and status >= 500) or code in (
            "server_error",
            "unavailable",
            "bad_gateway",
            "timeout",
            "service_error",
            "maintenance",
        ):
            # hcloud's Client._retry_policy retries only these before raising
            retried = code in (502, 504, "bad_gateway", "timeout")
            return BinderctlError(
                f"{doing}: the Hetzner API failed ({code}: {message})"
                + (", also when retried" if retried else ""),
                hint="Hetzner may have an incident (https://status.hetzner.com); run the same "
                "command again later: it continues where it stopped",
            )
        return BinderctlError(f"{doing}: the Hetzner API answered {code}: {message}")

    def _retry_hint(self) -> str:
        if self.rate_limit is None:
            return "wait a few minutes, then run the same command again"
        wait = max(0, self.rate_limit.reset - int(time.time()))
        at = time.strftime("%H:%M:%S", time.localtime(self.rate_limit.reset))
        return (
            f"retry after {at} (in {wait // 60} min {wait % 60} s), when the budget of "
            f"{self.rate_limit.limit} requests per hour is full again (RateLimit-Reset)"
        )

    def offered_server_types(self, location: str) -> list[str]:
        with self._api("listing server types"):
            types = self._client.server_types.get_all()
        return sorted(
            known(t.name, "server type name")
            for t in types
            if any(p["location"] == location for p in known(t.prices, "server type prices"))
        )

    def _offered_error(self, doing: str, message: str) -> ConfigError:
        member = self.member
        offered = self.offered_server_types(member.location)
        listed = ", ".join(offered) if offered else "none"
        return ConfigError(
            f"{doing}: server type {member.server_type!r} is not offered in location "
            f"{member.location!r} ({message}); offered there: {listed}",
            hint="set server_type (or location) for the member in the configuration file",
        )

    def _wait(self, actions: list[BoundAction]) -> None:
        for action in actions:
            action.wait_until_finished()

    # ---- reading ----------------------------------------------------------------------------

    def find_member_resources(self) -> MemberResources:
        with self._api("listing the member's resources"):
            c, selector = self._client, self.selector
            return MemberResources(
                servers=c.servers.get_all(label_selector=selector),
                firewalls=c.firewalls.get_all(label_selector=selector),
                ssh_keys=c.ssh_keys.get_all(label_selector=selector),
                primary_ips=c.primary_ips.get_all(label_selector=selector),
            )

    def check_server_type(self) -> str:
        """Raise a ``ConfigError`` unless the server type and image exist in the location."""
        member = self.member
        with self._api("checking the server type"):
            server_type = self._client.server_types.get_by_name(member.server_type)
            if server_type is None:
                raise ConfigError(
                    f"server type {member.server_type!r} does not exist at Hetzner",
                    hint="set server_type to one of the types Hetzner lists (e.g. ccx63)",
                )
            prices = known(server_type.prices, "server type prices")
            if not any(p["location"] == member.location for p in prices):
                raise self._offered_error("checking the server type", "not available there")
            images = self._client.images.get_all(
                name=member.image,
                architecture=[known(server_type.architecture, "server type architecture")],
            )
        if not images:
            raise ConfigError(
                f"image {member.image!r} does not exist for {server_type.architecture} servers",
                hint="set image, e.g. ubuntu-24.04",
            )
        return f"{member.server_type} is offered in {member.location}, image {member.image}"

    def ssh_key_status(self, public_key: str) -> Found | None:
        fingerprint = ssh_fingerprint(public_key)
        with self._api("looking up the SSH key"):
            key = self._client.ssh_keys.get_by_fingerprint(fingerprint)
            stale = [
                k
                for k in self._client.ssh_keys.get_all(label_selector=self.selector)
                if k.fingerprint != fingerprint
            ]
        if key is None:
            return None
        drift = tuple(f"remove the member's old key {k.name} (id {k.id})" for k in stale)
        return Found("SSH key", known(key.id, "SSH key id"), known(key.name, "SSH key name"), drift)

    def _one(self, kind: str, found: list[Any]) -> Any:
        if len(found) > 1:
            ids = ", ".join(str(f.id) for f in found)
            raise BinderctlError(
                f"{len(found)} {kind}s are labelled for member {self.member.name!r} "
                f"(ids {ids}); expected one",
                hint=f"delete the ones you do not want in the Hetzner console, or run "
                f"`binderctl teardown --member {self.member.name}` and provision again",
            )
        return found[0] if found else None

    def firewall_status(self) -> Found | None:
        with self._api("looking up the firewall"):
            firewall = self._one(
                "firewall", self._client.firewalls.get_all(label_selector=self.selector)
            )
        if firewall is None:
            return None
        differ = rules_differ(firewall.rules or [], desired_rules(self.member))
        return Found(
            "firewall", firewall.id, firewall.name, (f"rules: {differ}",) if differ else ()
        )

    def primary_ip_status(self) -> Found | None:
        with self._api("looking up the primary IP"):
            found = self._client.primary_ips.get_all(label_selector=self.selector)
        ip = self._one("primary IPv4", [i for i in found if i.type == "ipv4"])
        if ip is None:
            return None
        if ip.location.name != self.member.location:
            raise BinderctlError(
                f"the member's primary IP {ip.ip} (id {ip.id}) is in {ip.location.name}, but "
                f"the configuration says location {self.member.location!r}",
                hint="set location back, or run `binderctl teardown` (without --keep-ip) "
                "to release the IP, then provision again (and update DNS)",
            )
        drift = ("keep it when the server is deleted (auto_delete off)",) if ip.auto_delete else ()
        return Found("primary IP", ip.id, ip.name, drift, ipv4=ip.ip)

    def server_status(
        self, firewall_id: int | None = None, primary_ip_id: int | None = None
    ) -> Found | None:
        with self._api("looking up the server"):
            server = self._one("server", self._client.servers.get_all(label_selector=self.selector))
            if server is None:
                return None
            running = server.get_actions(status=["running"])
        drift, notes = [], []
        if running:
            drift.append(f"wait for {', '.join(a.command for a in running)}")
        if server.status == "off":
            drift.append("power it on")
        applied = {f.firewall.id for f in server.public_net.firewalls or []}
        if firewall_id is not None and firewall_id not in applied:
            drift.append(f"apply firewall {firewall_id}")
        if server.server_type.name != self.member.server_type:
            notes.append(
                f"it is a {server.server_type.name}, the configuration says "
                f"{self.member.server_type} (binderctl does not resize)"
            )
        primary = server.public_net.primary_ipv4
        if primary_ip_id is not None and (primary is None or primary.id != primary_ip_id):
            notes.append("it does not use the member's primary IP (delete it to rebuild)")
        ipv4 = server.public_net.ipv4.ip if server.public_net.ipv4 else None
        return Found("server", server.id, server.name, tuple(drift), tuple(notes), ipv4)

    def server_flags(self) -> ServerFlags | None:
        """What Hetzner says of the running server that can take a member down: an abuse
        lock, a blocked IPv4 (``locked``, ``public_net.ipv4.blocked``)."""
        with self._api("looking up the server"):
            server = self._one("server", self._client.servers.get_all(label_selector=self.selector))
        if server is None:
            return None
        ipv4 = known(server.public_net, "server's public network").ipv4
        return ServerFlags(
            name=server.name,
            status=server.status,
            locked=bool(server.locked),
            ipv4=ipv4.ip if ipv4 else None,
            ipv4_blocked=bool(ipv4 and ipv4.blocked),
        )

    # ---- ensuring ---------------------------------------------------------------------------

    @contextmanager
    def _lost_answer(self, status: Callable[[], Found | None]) -> Iterator[list[Found]]:
        """Around a create. hcloud retries 502, 504 and timeouts, POSTs too: when the
        first answer was lost, the retry meets ``uniqueness_error`` for what the first
        attempt made. If the member's resource is there now, that attempt succeeded
        (the list holds it); anything else is raised."""
        made: list[Found] = []
        try:
            yield made
        except hcloud.APIException as exc:
            found = status() if exc.code == "uniqueness_error" else None
            if found is None:
                raise
            made.append(found)

    def _ensured(self, before: Found | None, after: Found | None, kind: str) -> Ensured:
        if after is None or after.drift:
            still = "; ".join(after.drift) if after else "it is not there"
            raise BinderctlError(
                f"the {kind} did not end up as configured ({still})",
                hint="run the same command again; if this repeats, check the Hetzner console",
            )
        if before is None:
            return Ensured(after, "created")
        return Ensured(
            Found(after.kind, after.id, after.name, before.drift, after.notes, after.ipv4),
            "changed" if before.drift else "kept",
        )

    def ensure_ssh_key(self, public_key: str) -> Ensured:
        """The operator's public key, matched by fingerprint; reused whoever created it."""
        before = self.ssh_key_status(public_key)
        if before is None or before.drift:
            fingerprint = ssh_fingerprint(public_key)
            with self._api("uploading the SSH key"):
                for key in self._client.ssh_keys.get_all(label_selector=self.selector):
                    if key.fingerprint != fingerprint:
                        key.delete()
                if before is None:
                    with self._lost_answer(lambda: self.ssh_key_status(public_key)):
                        self._client.ssh_keys.create(
                            name=resource_name(self.member),
                            public_key=public_key.strip(),
                            labels=self.member.labels,
                        )
        return self._ensured(before, self.ssh_key_status(public_key), "SSH key")

    def ensure_firewall(self) -> Ensured:
        before = self.firewall_status()
        rules = desired_rules(self.member)
        with self._api("setting up the firewall"):
            if before is None:
                with self._lost_answer(self.firewall_status):
                    created = self._client.firewalls.create(
                        name=resource_name(self.member),
                        rules=rules,
                        labels=self.member.labels,  # type: ignore[arg-type]  # hcloud 2.27 annotates str; takes a dict
                    )
                    self._wait(created.actions or [])
            elif before.drift:
                self._wait(self._client.firewalls.set_rules(Firewall(id=before.id), rules))
        return self._ensured(before, self.firewall_status(), "firewall")

    def ensure_primary_ip(self) -> Ensured:
        """A primary IPv4 that outlives the server (``auto_delete`` off), so DNS can stay."""
        before = self.primary_ip_status()
        with self._api("reserving the primary IPv4"):
            if before is None:
                with self._lost_answer(self.primary_ip_status):
                    self._client.primary_ips.create(
                        type="ipv4",
                        name=f"{resource_name(self.member)}-ipv4",
                        location=Location(name=self.member.location),
                        assignee_type="server",
                        auto_delete=False,
                        labels=self.member.labels,
                    )
            elif before.drift:
                self._client.primary_ips.update(PrimaryIP(id=before.id), auto_delete=False)
        return self._ensured(before, self.primary_ip_status(), "primary IP")

    def ensure_server(
        self, user_data: str, *, ssh_key_id: int, firewall_id: int, primary_ip_id: int
    ) -> Ensured:
        """The server, created with cloud-init ``user_data``; waits until it is running."""
        check_user_data_size(user_data)
        before = self.server_status(firewall_id, primary_ip_id)
        with self._api("creating the server"):
            if before is None:
                member = self.member
                with self._lost_answer(
                    lambda: self.server_status(firewall_id, primary_ip_id)
                ) as made:
                    created = self._client.servers.create(
                        name=resource_name(member),
                        server_type=ServerType(name=member.server_type),
                        image=Image(name=member.image),
                        location=Location(name=member.location),
                        ssh_keys=[SSHKey(id=ssh_key_id)],
                        firewalls=[Firewall(id=firewall_id)],
                        user_data=user_data,
                        labels=member.labels,
                        public_net=ServerCreatePublicNetwork(
                            ipv4=PrimaryIP(id=primary_ip_id), enable_ipv4=True, enable_ipv6=False
                        ),
                    )
                    self._wait([created.action, *created.next_actions])
                if made:
                    self._repair_server(made[0].id, firewall_id)
            elif before.drift:
                self._repair_server(before.id, firewall_id)
        return self._ensured(before, self.server_status(firewall_id, primary_ip_id), "server")

    def _repair_server(self, server_id: int, firewall_id: int) -> None:
        server = self._client.servers.get_by_id(server_id)
        self._wait(server.get_actions(status=["running"]))
        server = self._client.servers.get_by_id(server_id)
        if server.status == "off":
            self._wait([server.power_on()])
        public_net = known(server.public_net, "server's public network")
        if firewall_id not in {f.firewall.id for f in public_net.firewalls or []}:
            self._wait(
                self._client.firewalls.apply_to_resources(
                    Firewall(id=firewall_id), [FirewallResource(type="server", server=server)]
                )
            )

    # ---- planning, power, teardown, pricing -------------------------------------------------

    def plan(self, public_key: str, user_data_size: int | None = None) -> list[PlanItem]:
        """What provisioning would create, change or keep; changes nothing."""
        member = self.member
        self.check_server_type()
        name = resource_name(member)
        items = []
        found_types: list[tuple[str, Found | None, str]] = [
            ("SSH key", self.ssh_key_status(public_key), name),
            ("firewall", self.firewall_status(), name),
            ("primary IP", self.primary_ip_status(), f"{name}-ipv4"),
        ]
        firewall, ip = found_types[1][1], found_types[2][1]
        found_types.append(
            (
                "server",
                self.server_status(firewall.id if firewall else None, ip.id if ip else None),
                name,
            )
        )
        for kind, found, new_name in found_types:
            if found is None:
                detail = {
                    "server": f"{member.server_type} in {member.location}, image {member.image}",
                    "primary IP": f"IPv4 in {member.location}, kept when the server goes",
                    "firewall": "SSH and Kubernetes API from the allowed networks, "
                    "HTTP(S) and ping from anywhere",
                    "SSH key": "the operator's public key",
                }[kind]
                if kind == "server" and user_data_size is not None:
                    detail += f", cloud-init {user_data_size} bytes"
                items.append(PlanItem(kind, "create", new_name, detail))
            else:
                action: PlanAction = "change" if found.drift else "keep"
                detail = "; ".join(
                    (*found.drift, *found.notes, *([found.ipv4] if found.ipv4 else []))
                )
                items.append(PlanItem(kind, action, f"{found.name} (id {found.id})", detail))
        return items

    def reboot(self, *, hard: bool = False) -> str:
        """Reboot the member's server: ACPI reboot, or a hard reset with ``hard``."""
        with self._api("rebooting the server"):
            server = self._one("server", self._client.servers.get_all(label_selector=self.selector))
            if server is None:
                raise BinderctlError(f"member {self.member.name!r} has no server to reboot")
            self._wait([server.reset() if hard else server.reboot()])
        return f"{'reset' if hard else 'rebooted'} server {server.name} (id {server.id})"

    def teardown(self, *, keep_ip: bool = False) -> TeardownResult:
        """Delete the member's server, then the other resources binderctl made for it."""
        found = self.find_member_resources()
        deleted, kept = [], []
        with self._api("deleting the member's resources"):
            self._wait([server.delete() for server in found.servers])
            deleted += [f"server {s.name} (id {s.id})" for s in found.servers]
            for firewall in found.firewalls:
                firewall.delete()
                deleted.append(f"firewall {firewall.name} (id {firewall.id})")
            for key in found.ssh_keys:
                key.delete()
                deleted.append(f"SSH key {key.name} (id {key.id})")
            for ip in found.primary_ips:
                if keep_ip:
                    kept.append(f"primary IP {ip.name} {ip.ip} (id {ip.id})")
                    continue
                ip.delete()
                deleted.append(f"primary IP {ip.name} {ip.ip} (id {ip.id})")
        left = self.find_member_resources()
        if left.servers or left.firewalls or left.ssh_keys or (left.primary_ips and not keep_ip):
            raise BinderctlError(
                f"teardown left resources behind: {'; '.join(left.describe())}",
                hint="run teardown again; if this repeats, delete them in the Hetzner console",
            )
        return TeardownResult(deleted, kept)

    def fetch_pricing(self) -> dict[str, Any]:
        """``GET /pricing`` as the API returns it (hcloud-python has no pricing client)."""
        with self._api("fetching prices"):
            return self._client.request("GET", "/pricing")


def read_server_flags(
    member: MemberConfig, retries: int | None = None
) -> tuple[ServerFlags | None, str | None]:
    """The member's server as Hetzner's abuse desk leaves it, and why it could not be
    read; (None, None) without a Hetzner token (nothing to ask with)."""
    try:
        service = HetznerService.for_member(member, retries=retries)
    except ConfigError:
        return None, None
    try:
        return service.server_flags(), None
    except BinderctlError as exc:
        return None, exc.message


def member_server_flags(member: MemberConfig) -> ServerFlags | None:
    """The flags, or None when the API cannot be asked: then there is nothing to show."""
    return read_server_flags(member)[0]
