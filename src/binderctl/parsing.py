"""Parsers for the values operators type: durations, CIDRs, quotas, names, hostnames.

Each returns a valid value or raises ``ValueError`` with a message that says what was
wrong and what is allowed. The config loader and the CLI share them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

# ASCII digits only: str.isdigit and \d also take superscripts and other scripts' digits,
# which int() rejects or nobody means. Numbers are bounded before int(), whose own error for
# thousands of digits is not a message for operators.
_DURATION_PART = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
MAX_DURATION_SECONDS = 366 * 86400
MAX_DURATION_CHARS = 40
MAX_QUOTA = 100_000
T = TypeVar("T")


def _shown(text: str, limit: int = 40) -> str:
    """A short, inert rendering of user input for error messages."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def argument_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse`` as an argparse type: its message is what argparse shows (exit code 2)."""

    def parsed(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parsed


def parse_duration(text: str) -> int:
    """``90s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or plain seconds -> whole seconds."""
    value = text.strip().lower()
    allowed = "a duration like 30s, 10m, 2h, 1d or 1h30m (at most 366d)"
    if not value:
        raise ValueError(f"empty duration; expected {allowed}")
    if len(value) > MAX_DURATION_CHARS:
        raise ValueError(f"{_shown(text)} is too long; expected {allowed}")
    if re.fullmatch("[0-9]+", value):
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


def parse_resolver(text: str) -> tuple[str, int]:
    """A DNS resolver, ``IP``, ``IP:PORT`` or ``[IPv6]:PORT`` -> (address, port)."""
    host, port_text = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") or "53"
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
    except ValueError:
        raise ValueError(
            f"{_shown(text)} is not a resolver address; expected an IP such as 1.1.1.1, "
            "optionally with :PORT"
        ) from None
    if not 0 < port < 65536:
        raise ValueError(f"{_shown(text)}: port {port} is out of range (1-65535)")
    return host, port


def covers_world(cidrs: Iterable[str]) -> bool:
    """Whether the networks together admit every IPv4 or every IPv6 address:
    ``0.0.0.0/0`` or ``::/0``, or pieces that add up to one (``0.0.0.0/1`` + ``128.0.0.0/1``)."""
    networks = [ipaddress.ip_network(c) for c in cidrs]
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    merged: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [
        *ipaddress.collapse_addresses(v4),
        *ipaddress.collapse_addresses(v6),
    ]
    return any(network.prefixlen == 0 for network in merged)


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
        if not re.fullmatch("[0-9]+", raw):
            raise ValueError(
                f"{_shown(text)} is not a quota; expected a whole number >= 0 "
                "(0 = maintenance) or 'none' for no limit"
            )
        if len(raw.lstrip("0")) > len(str(MAX_QUOTA)):
            raise _quota_out_of_range(_shown(text))
        value = int(raw)
    if value < 0 or value > MAX_QUOTA:
        raise _quota_out_of_range(str(value))
    return value


def _quota_out_of_range(shown: str) -> ValueError:
    return ValueError(f"quota {shown} is out of range; expected 0 to {MAX_QUOTA} (0 = maintenance)")


def parse_path(text: str) -> Path:
    """A file path with ``~`` or ``~user`` expanded."""
    if not text or "\x00" in text:
        raise ValueError("empty path; expected a file path" if not text else "NUL in a path")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # no such user, or no home directory
        raise ValueError(f"cannot expand {_shown(text.split('/', 1)[0])}: no such user") from None


def parse_member_name(text: str) -> str:
    """A member name: a DNS label, lower case, 1-63 characters, starting with a letter."""
    if not _NAME.fullmatch(text):
        raise ValueError(
            f"{_shown(text)} is not a valid member name; expected 1-63 lower-case letters, "
            "digits or '-', starting with a letter and not ending with '-'"
        )
    return text


def parse_hostname(text: str) -> str:
    """A DNS hostname such as ``hetzner.mybinder.org``."""
    value = text.strip().lower().rstrip(".")
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(part) for part in labels):
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


_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGT]i?)?")
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


_BANDWIDTH = re.compile(r"([0-9]+(?:\.[0-9]+)?)([kMGTP]|[KMGTP]i)?")
_BANDWIDTH_FACTORS = {
    **{unit: 1000**power for power, unit in enumerate("kMGTP", start=1)},
    **{f"{unit}i": 1024**power for power, unit in enumerate("KMGTP", start=1)},
}


def parse_bandwidth(text: str) -> float | None:
    """A Kubernetes quantity of bits a second (``1M``, ``500k``), or None."""
    match = _BANDWIDTH.fullmatch(text.strip())
    if not match:
        return None
    number, unit = match.groups()
    return float(Decimal(number) * _BANDWIDTH_FACTORS.get(unit or "", 1))


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
