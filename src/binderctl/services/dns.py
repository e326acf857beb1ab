"""The member's DNS records: what to create, and waiting until they resolve.

mybinder's runbook sets DNS up before the install (``docs/source/deployment/k3s.md``,
"Setup DNS entries"): an A record for the binder host and one for its wildcard, both to
the node's one public IPv4. Let's Encrypt's HTTP-01 challenge and the federation reach
the member by those names, so provisioning waits for them after the primary IP exists.

Lookups are real DNS queries (UDP, A records, recursion desired) to the resolvers the
member's config names (``dns_resolvers``) or, without that key, to the nameservers of
``/etc/resolv.conf``: the same code path for a real member and the demo, whose world
serves DNS on loopback.
"""

from __future__ import annotations

import secrets
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError, ConfigError
from binderctl.parsing import parse_resolver

RESOLV_CONF = Path("/etc/resolv.conf")
QUERY_TIMEOUT = 2.0  # seconds per resolver and attempt
FIRST_POLL = 0.2  # seconds; doubles up to POLL_SECONDS
POLL_SECONDS = 10.0
DNS_PORT = 53
_TYPE_A, _CLASS_IN = 1, 1
_RCODES = {1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


@dataclass(frozen=True)
class Record:
    name: str  # as it goes into the zone: binder host, or *.binder host
    kind: str
    value: str
    probe: str  # the name looked up to check it (a name under a wildcard)


@dataclass(frozen=True)
class Lookup:
    record: Record
    addresses: tuple[str, ...]
    problem: str  # "" when it resolves to the wanted address only

    @property
    def ok(self) -> bool:
        return not self.problem


def records(member: MemberConfig, ipv4: str) -> list[Record]:
    """The A records the member needs: the binder host and its wildcard (which covers
    the hub host), and the hub host itself when it lies elsewhere."""
    wildcard_probe = (
        member.hub_host
        if member.hub_host.endswith(f".{member.binder_host}")
        else f"binderctl-check.{member.binder_host}"
    )
    found = [
        Record(member.binder_host, "A", ipv4, member.binder_host),
        Record(f"*.{member.binder_host}", "A", ipv4, wildcard_probe),
    ]
    if not member.hub_host.endswith(f".{member.binder_host}"):
        found.append(Record(member.hub_host, "A", ipv4, member.hub_host))
    return found


def records_text(found: list[Record]) -> str:
    """The records as a table and as a zone-file fragment, for the operator to copy."""
    width = max(len(r.name) for r in found)
    table = [f"  {'NAME':<{width}}  TYPE  VALUE"]
    table += [f"  {r.name:<{width}}  {r.kind:<4}  {r.value}" for r in found]
    zone = [f"  {r.name + '.':<{width + 1}}  300  IN  {r.kind}  {r.value}" for r in found]
    names = ", ".join(r.name for r in found)
    return "\n".join([
        f"Create these DNS records now: {names} -> {found[0].kind} {found[0].value}",
        *table, "", "As a zone-file fragment:", *zone,
    ])  # fmt: skip


def resolvers(member: MemberConfig) -> list[tuple[str, int]]:
    """Where lookups go: the config's ``dns_resolvers``, else /etc/resolv.conf's."""
    if member.dns_resolvers:
        return [parse_resolver(entry) for entry in member.dns_resolvers]
    try:
        lines = RESOLV_CONF.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {RESOLV_CONF} for nameservers: {exc}",
            hint='set dns_resolvers in the member\'s config, e.g. ["1.1.1.1"]',
        ) from None
    found = [
        (parts[1], DNS_PORT)
        for parts in (line.split() for line in lines)
        if len(parts) >= 2 and parts[0] == "nameserver"
    ]
    if not found:
        raise ConfigError(
            f"{RESOLV_CONF} names no nameserver",
            hint='set dns_resolvers in the member\'s config, e.g. ["1.1.1.1"]',
        )
    return found


def _query(name: str) -> tuple[int, bytes]:
    ident = secrets.randbits(16)
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # recursion desired
    labels = b"".join(
        bytes([len(part)]) + part for part in (p.encode("idna") for p in name.split("."))
    )
    return ident, header + labels + b"\0" + struct.pack("!HH", _TYPE_A, _CLASS_IN)


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def _answers(data: bytes, ident: int) -> tuple[str, ...]:
    if len(data) < 12:
        raise ValueError("short answer")
    got, flags, questions, count = struct.unpack("!HHHH", data[:8])
    if got != ident or not flags & 0x8000:
        raise ValueError("not the answer to our query")
    rcode = flags & 0x000F
    if rcode == 3:
        return ()
    if rcode:
        raise ValueError(_RCODES.get(rcode, f"rcode {rcode}"))
    offset = 12
    for _ in range(questions):
        offset = _skip_name(data, offset) + 4
    found = []
    for _ in range(count):
        offset = _skip_name(data, offset)
        kind, klass, _ttl, length = struct.unpack("!HHIH", data[offset : offset + 10])
        offset += 10
        if kind == _TYPE_A and klass == _CLASS_IN and length == 4:
            found.append(socket.inet_ntoa(data[offset : offset + 4]))
        offset += length
    return tuple(found)


def lookup_a(
    name: str, servers: list[tuple[str, int]], timeout: float = QUERY_TIMEOUT
) -> tuple[str, ...]:
    """The A records of ``name`` (empty: no such name or no A record), from the first
    resolver that answers; OSError when none does."""
    problems = []
    for host, port in servers:
        ident, query = _query(name)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.sendto(query, (host, port))
                deadline = time.monotonic() + timeout
                while True:
                    sock.settimeout(max(0.01, deadline - time.monotonic()))
                    data, _ = sock.recvfrom(4096)
                    try:
                        return _answers(data, ident)
                    except ValueError as exc:
                        if "not the answer" not in str(exc):
                            raise
            except (OSError, ValueError, IndexError, struct.error) as exc:
                problems.append(f"{host}:{port}: {exc or type(exc).__name__}")
    raise OSError("no resolver answered (" + "; ".join(problems) + ")")


def check(member: MemberConfig, ipv4: str) -> list[Lookup]:
    """Each record looked up once: resolves to exactly ``ipv4``, or what is wrong."""
    servers = resolvers(member)
    found = []
    for record in records(member, ipv4):
        try:
            addresses = lookup_a(record.probe, servers)
        except OSError as exc:
            found.append(Lookup(record, (), str(exc)))
            continue
        shown = record.name if record.probe == record.name else f"{record.name} ({record.probe})"
        if not addresses:
            problem = f"{shown} does not resolve yet"
        elif set(addresses) != {ipv4}:
            problem = f"{shown} resolves to {', '.join(addresses)}, not {ipv4}"
        else:
            problem = ""
        found.append(Lookup(record, addresses, problem))
    return found


def wait_for_records(
    member: MemberConfig,
    ipv4: str,
    timeout: float,
    progress: Callable[[str], None],
) -> list[Lookup]:
    """Look the records up until all resolve to ``ipv4``; BinderctlError after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = FIRST_POLL
    while True:
        lookups = check(member, ipv4)
        problems = [lookup.problem for lookup in lookups if not lookup.ok]
        if not problems:
            return lookups
        if time.monotonic() >= deadline:
            raise BinderctlError(
                f"the DNS records are not in place after {int(timeout)}s: " + "; ".join(problems),
                hint="create the A records printed above (or fix them), then run "
                "`binderctl --provision` again: it resumes here; --skip-dns-wait goes on "
                "without them (certificates and the federation need them)",
            )
        progress("waiting for DNS: " + "; ".join(problems))
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, POLL_SECONDS)
