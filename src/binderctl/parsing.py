"""Parsers for the values operators type: durations, CIDRs, quotas, names, hostnames.

Each returns a valid value or raises ``ValueError`` with a message that says what was
wrong and what is allowed. The config loader and the CLI share them.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from decimal import Decimal

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_DURATION_SECONDS = 366 * 86400


def _shown(text: str, limit: int = 40) -> str:
    """A short, inert rendering of user input for error messages."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def parse_duration(text: str) -> int:
    """``90s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or plain seconds -> whole seconds."""
    value = text.strip().lower()
    allowed = "a duration like 30s, 10m, 2h, 1d or 1h30m (at most 366d)"
    if not value:
        raise ValueError(f"empty duration; expected {allowed}")
    if value.isdigit():
        seconds = int(value)
    else:
        pos = 0
        seconds = 0
        for match in _DURATION_PART.finditer(value):
            if match.start() != pos:
                break
            seconds += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            pos = match.end()
        if pos != len(value) or pos == 0:
            raise ValueError(f"{_shown(text)} is not a duration; expected {allowed}")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"{_shown(text)} is too long; expected {allowed}")
    return seconds


def parse_cidr(text: str) -> str:
    """An IPv4 or IPv6 network in CIDR form, normalised (``10.0.0.0/8``)."""
    value = text.strip()
    if "/" not in value:
        raise ValueError(
            f"{_shown(text)} is not a CIDR; expected an address with a prefix length, "
            "like 203.0.113.0/24 or 2001:db8::/32"
        )
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(
            f"{_shown(text)} is not a valid CIDR; expected an IPv4 prefix 0-32 "
            "(203.0.113.0/24) or an IPv6 prefix 0-128 (2001:db8::/32)"
        ) from None
    return str(network)


def is_world(cidr: str) -> bool:
    return ipaddress.ip_network(cidr).prefixlen == 0


def parse_quota(text: str | int | None) -> int | None:
    """A launch quota: a whole number >= 0 (0 = maintenance) or ``none`` for no limit."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise ValueError("expected a whole number >= 0 or 'none', not a boolean")
    if isinstance(text, int):
        value = text
    else:
        raw = text.strip().lower()
        if raw in ("none", "unlimited"):
            return None
        if not re.fullmatch(r"\d+", raw):
            raise ValueError(
                f"{_shown(text)} is not a quota; expected a whole number >= 0 "
                "(0 = maintenance) or 'none' for no limit"
            )
        value = int(raw)
    if value < 0 or value > 100_000:
        raise ValueError(f"quota {value} is out of range; expected 0 to 100000 (0 = maintenance)")
    return value


def parse_member_name(text: str) -> str:
    """A member name: a DNS label, lower case, 1-63 characters, starting with a letter."""
    if not _NAME.match(text):
        raise ValueError(
            f"{_shown(text)} is not a valid member name; expected 1-63 lower-case letters, "
            "digits or '-', starting with a letter and not ending with '-'"
        )
    return text


def parse_hostname(text: str) -> str:
    """A DNS hostname such as ``hetzner.mybinder.org``."""
    value = text.strip().lower().rstrip(".")
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(part) for part in labels):
        raise ValueError(
            f"{_shown(text)} is not a valid hostname; expected dot-separated labels of "
            "letters, digits and '-', like binder.example.org"
        )
    return value


def parse_positive_int(text: str | int, *, name: str, low: int = 1, high: int = 1_000_000) -> int:
    if isinstance(text, bool):
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not a boolean")
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a whole number from {low} to {high}, got {_shown(str(text))}"
        ) from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")
    return value


_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]i?)?")
_SIZE_FACTORS = {
    **{unit: 1000**power for power, unit in enumerate("KMGT", start=1)},
    **{f"{unit}i": 1024**power for power, unit in enumerate("KMGT", start=1)},
}


def parse_size(text: str) -> int:
    """A Kubernetes quantity of bytes: ``450M`` (decimal), ``2Gi`` (binary) or plain bytes."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{_shown(text)} is not a size; expected like 450M, 2G or 512Mi")
    number, unit = match.groups()
    return int(Decimal(number) * _SIZE_FACTORS.get(unit or "", 1))


_SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp521")  # fmt: skip


def ssh_fingerprint(public_key: str) -> str:
    """The MD5 fingerprint Hetzner shows for an OpenSSH public key (``aa:bb:...``)."""
    parts = public_key.split()
    allowed = f"an OpenSSH public key line ({', '.join(_SSH_KEY_TYPES)})"
    if len(parts) < 2 or parts[0] not in _SSH_KEY_TYPES:
        raise ValueError(f"not {allowed}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise ValueError(f"the key data is not base64; expected {allowed}") from None
    length = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + length] != parts[0].encode():
        raise ValueError(f"the key data does not match its type {parts[0]}")
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))
