"""What the member has at Hetzner that is billed: its servers and primary IPv4s.

Found through the Hetzner service by the member's labels; the last answer is kept in the
member's cache dir (``resources.json``) so the budget still adds up while the API is
unreachable.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.formatting import age
from binderctl.paths import member_dir, write_private
from binderctl.services.budget import PrimaryIPv4, Resources, ServerUsage
from binderctl.services.hetzner import HetznerService, MemberResources, known, name_of

RESOURCES_FILE = "resources.json"


def to_resources(found: MemberResources) -> Resources:
    return Resources(
        servers=tuple(
            ServerUsage(
                name=known(s.name, "server name"),
                server_type=name_of(s.server_type, "server type"),
                location=name_of(s.location, "server location"),
                created=known(s.created, "server's creation time"),
                outgoing_traffic=s.outgoing_traffic or 0,
                included_traffic=s.included_traffic or 0,
            )
            for s in found.servers
        ),
        primary_ipv4s=tuple(
            PrimaryIPv4(
                name_of(ip.location, "primary IP location"),
                known(ip.created, "primary IP's creation time"),
            )
            for ip in found.primary_ips
            if ip.type == "ipv4"
        ),
    )


def _path(member: MemberConfig) -> Path:
    return member_dir("cache", member.name) / RESOURCES_FILE


def _save(member: MemberConfig, resources: Resources, now: datetime) -> None:
    document = {"fetched": now, **asdict(resources)}
    write_private(_path(member), json.dumps(document, default=datetime.isoformat))


def _cached(member: MemberConfig) -> tuple[Resources, datetime] | None:
    try:
        document: dict[str, Any] = json.loads(_path(member).read_text("utf-8"))
        resources = Resources(
            servers=tuple(
                ServerUsage(**{**s, "created": datetime.fromisoformat(s["created"])})
                for s in document["servers"]
            ),
            primary_ipv4s=tuple(
                PrimaryIPv4(**{**ip, "created": datetime.fromisoformat(ip["created"])})
                for ip in document["primary_ipv4s"]
            ),
        )
        return resources, datetime.fromisoformat(document["fetched"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None


def billed_resources(
    member: MemberConfig, hetzner: HetznerService, now: datetime
) -> tuple[Resources, str | None]:
    """The member's resources from the API, else the last seen with a note saying when."""
    try:
        resources = to_resources(hetzner.find_member_resources())
    except BinderctlError as exc:
        cached = _cached(member)
        if cached is None:
            raise type(exc)(
                f"cannot list the member's servers ({exc.message}), and none were seen before",
                hint=exc.hint,
            ) from None
        resources, fetched = cached
        seen = age((now - fetched).total_seconds())
        return resources, f"servers as seen {seen} ago (not refreshed: {exc.message})"
    _save(member, resources, now)
    return resources, None
