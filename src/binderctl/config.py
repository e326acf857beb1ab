"""The TOML configuration: one file, one or more members, every value validated.

A bad file gives one ``ConfigError`` naming the file, the key, what was wrong and what
is allowed; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from binderctl import parsing
from binderctl.errors import ConfigError
from binderctl.federation_config import DEFAULT_FEDERATION, FederationConfig, parse_federation
from binderctl.paths import default_config_path
from binderctl.upgrades_config import DEFAULT_UPGRADES, UpgradesConfig, parse_upgrades
from binderctl.watch_config import DEFAULT_WATCH, WatchConfig, parse_watch

DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1"
ENDPOINT_ENV = "BINDERCTL_HCLOUD_ENDPOINT"
# k3s's stable channel when this was written: "Update stable channel to v1.36.3+k3s1"
# (k3s-io/k3s #14492, in the v1.37.0+k3s1 release notes, k3s-io/docs
# docs/release-notes/v1.37.X.md @5962ea1e); Kubernetes 1.36 is among the three minors
# upstream maintains (1.37, 1.36, 1.35). v1.32.4+k3s1, the pin before, is out of support.
DEFAULT_K3S_VERSION = "v1.36.3+k3s1"
# k3s's helm-controller reads a HelmChart's valuesSecrets from these patch releases on
# (helm-controller v0.16.7), and in every release from VALUES_SECRETS_ALL_FROM on; older
# API servers drop the field, so an external registry's password would never arrive.
VALUES_SECRETS_SINCE = {(1, 30): 12, (1, 31): 8, (1, 32): 4}
VALUES_SECRETS_ALL_FROM = (1, 33)
_K3S_RELEASE = re.compile(r"v([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})\+k3s[0-9]{1,4}")

# RAM in GB of the Hetzner server types, for the max_pods rule of thumb (1.75 x GB).
SERVER_TYPE_MEMORY_GB: dict[str, int] = {
    "cx22": 4, "cx32": 8, "cx42": 16, "cx52": 32,
    "cpx11": 2, "cpx21": 4, "cpx31": 8, "cpx41": 16, "cpx51": 32,
    "cax11": 4, "cax21": 8, "cax31": 16, "cax41": 32,
    "ccx13": 8, "ccx23": 16, "ccx33": 32, "ccx43": 64, "ccx53": 128, "ccx63": 192,
}  # fmt: skip

# Public list prices (EUR per month, net) of a node comparable to a ccx63, labelled as such.
DEFAULT_COMPARISONS: dict[str, Decimal] = {
    "AWS m6a.12xlarge on-demand (list price, eu-central-1)": Decimal("2050.00"),
    "DigitalOcean CPU-optimized 48 vCPU / 96 GB (list price)": Decimal("1008.00"),
}


def k3s_release(version: str) -> tuple[int, int, int]:
    """``v1.31.4+k3s1`` -> (1, 31, 4); ValueError for anything else."""
    match = _K3S_RELEASE.fullmatch(version)
    if match is None:
        raise ValueError(f"{version[:60]!r} is not a k3s release; expected like v1.31.4+k3s1")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def reads_values_secrets(k3s_version: str) -> bool:
    """Whether this k3s release's helm-controller reads ``spec.valuesSecrets``."""
    major, minor, patch = k3s_release(k3s_version)
    if (major, minor) >= VALUES_SECRETS_ALL_FROM:
        return True
    since = VALUES_SECRETS_SINCE.get((major, minor))
    return since is not None and patch >= since


def default_max_pods(server_type: str) -> int | None:
    memory = SERVER_TYPE_MEMORY_GB.get(server_type)
    return None if memory is None else int(memory * 1.75)


SMTP_PORTS = (25, 465, 587)  # mail submission and relay: spam from sessions


@dataclass(frozen=True)
class MemberConfig:
    name: str
    binder_host: str
    hub_host: str
    ssh_allowed_cidrs: tuple[str, ...]
    api_allowed_cidrs: tuple[str, ...]
    location: str = "nbg1"
    server_type: str = "ccx63"
    image: str = "ubuntu-24.04"
    ssh_key: Path = Path("~/.ssh/id_ed25519")
    ssh_port: int = 22
    https_port: int = 443
    allow_world_access: bool = False
    k3s_version: str = DEFAULT_K3S_VERSION
    max_pods: int = 336
    image_gc_high_percent: int = 40
    image_gc_low_percent: int = 20
    launch_quota: int | None = 100
    budget_cap_eur: Decimal = Decimal("300")
    hcloud_endpoint: str = DEFAULT_ENDPOINT
    letsencrypt_email: str = ""
    registry_url: str = ""
    registry_username: str = ""
    tls_ca_bundle: Path | None = None
    readonly: bool = False
    session_memory_guarantee: str = "450M"
    session_memory_limit: str = "2G"
    session_cpu_limit: float = 1.0
    cull_timeout_seconds: int = 600
    cull_max_age_seconds: int = 21600
    # "" = read from the prime's /versions when provisioning (services/prime_versions.py)
    binderhub_chart_version: str = ""
    build_image: str = ""
    dns_resolvers: tuple[str, ...] = ()  # empty: the nameservers of /etc/resolv.conf
    # mybinder.org-deploy mybinder/values.yaml binderhub.networkPolicy.egress.tcpPorts:
    # http(s), git, rsync, xroot, Wolfram licensing, IPFS; () = every port (z2jh default)
    session_egress_ports: tuple[int, ...] = (80, 443, 9418, 873, 1094, 1095, 16286, 4001)
    # mybinder's tc-init caps what a session sends at 1mbit (mybinder/values.yaml
    # EGRESS_BANDWIDTH); here the pod annotation kubernetes.io/egress-bandwidth (bits a
    # second), which k3s's bundled bandwidth CNI plugin applies; "" = no limit
    session_egress_bandwidth: str = "1M"
    block_smtp: bool = True  # sessions cannot send mail (TCP 25, 465, 587)
    block_cloud_metadata: bool = True  # sessions cannot reach 169.254.169.254
    cryptnono: bool = True  # mybinder's crypto-mining detection (a chart of its own)
    dind_mtu: int = 1450
    dind_max_concurrent_uploads: int = 32
    comparisons: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_COMPARISONS))

    @property
    def ssh_key_path(self) -> Path:
        return self.ssh_key.expanduser()

    @property
    def labels(self) -> dict[str, str]:
        return {"managed-by": "binderctl", "binderctl/member": self.name}


@dataclass(frozen=True)
class Config:
    path: Path
    members: dict[str, MemberConfig]
    federation: FederationConfig = field(default_factory=lambda: DEFAULT_FEDERATION)
    watch: WatchConfig = DEFAULT_WATCH
    upgrades: UpgradesConfig = DEFAULT_UPGRADES

    def member(self, name: str | None) -> MemberConfig:
        if name is not None:
            if name not in self.members:
                known = ", ".join(sorted(self.members)) or "none"
                raise ConfigError(
                    f"{self.path}: no member named {name!r}; members in this file: {known}"
                )
            return self.members[name]
        if len(self.members) == 1:
            return next(iter(self.members.values()))
        if not self.members:
            raise ConfigError(
                f"{self.path}: no [members.<name>] table; add one "
                "(`binderctl config init` writes a commented template)"
            )
        raise ConfigError(
            f"{self.path} describes several members ({', '.join(sorted(self.members))}); "
            "pick one with --member NAME"
        )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {type(value).__name__}")
    return value


def _int_range(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number from {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range; allowed: {low} to {high}")
        return value

    return parse


def _cidrs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(
            'expected a non-empty list of CIDRs, like ["203.0.113.0/24", "2001:db8::/32"]'
        )
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ValueError(f"item {index}: expected a CIDR string")
        try:
            result.append(parsing.parse_cidr(item))
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
    return tuple(result)


def _pattern(regex: str, allowed: str) -> Callable[[Any], str]:
    compiled = re.compile(regex, re.ASCII)  # \d: 0-9 only, as parsing and Kubernetes read them

    def parse(value: Any) -> str:
        text = _str(value)
        if not compiled.fullmatch(text):
            raise ValueError(f"{text[:60]!r} is not allowed; expected {allowed}")
        return text

    return parse


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected an amount in EUR, like 300 or 299.50")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(
            f"{str(value)[:40]!r} is not an amount; expected like 300 or 299.50"
        ) from None
    if not amount.is_finite() or amount <= 0 or amount > Decimal("1000000"):
        raise ValueError(f"{str(value)[:40]} is out of range; expected an amount above 0 EUR")
    return amount


def _comparisons(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, dict):
        raise ValueError('expected a table of "provider name" = monthly EUR amount')
    return {str(k): _money(v) for k, v in value.items()}


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("expected a duration like 10m or 6h")
    return parsing.parse_duration(str(value))


def _float_range(low: float, high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number from {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range; allowed: {low} to {high}")
        return float(value)

    return parse


def _quota(value: Any) -> int | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return parsing.parse_quota(value)
    raise ValueError("expected a whole number >= 0 (0 = maintenance) or 'none'")


def _path(value: Any) -> Path:
    text = _str(value)
    parsing.parse_path(text)  # expandable when used
    return Path(text)


def _url(value: Any) -> str:
    text = _str(value)
    if not re.fullmatch(r"https?://[!-.0-~]+(/[!-~]*)?", text):
        raise ValueError(f"{text[:60]!r} is not a URL; expected like https://api.hetzner.cloud/v1")
    return text.rstrip("/")


def _resolvers(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError('expected a non-empty list of resolvers, like ["1.1.1.1", "9.9.9.9"]')
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ValueError(f"item {index}: expected a resolver address string")
        try:
            parsing.parse_resolver(item)
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
    return tuple(value)


def _ports(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or any(
        isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 65536 for p in value
    ):
        raise ValueError("expected a list of TCP ports (1-65535), like [80, 443, 9418]; [] = all")
    return tuple(value)


def _bandwidth(value: Any) -> str:
    """A bandwidth the CNI plugin accepts: a quantity of bits a second from 1k to 1P
    (containerd's CRI plugin refuses the pod's sandbox otherwise), or "" for none."""
    text = _str(value).strip()
    if not text:
        return ""
    bits = parsing.parse_bandwidth(text)
    if bits is None:
        raise ValueError(f"{text[:30]!r} is not a bandwidth; expected bits a second like 1M")
    if not 1e3 <= bits <= 1e15:
        raise ValueError(f"{text} is out of range; allowed: 1k to 1P (bits a second)")
    return text


def _k3s_version(value: Any) -> str:
    text = _str(value)
    k3s_release(text)
    return text


def _hostname(value: Any) -> str:
    return parsing.parse_hostname(_str(value))


def _image(value: Any) -> str:
    return _pattern(
        r"[a-z0-9][a-z0-9.:/_-]{0,200}(:[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127})?(@sha256:[0-9a-f]{64})?",
        "an image reference like quay.io/jupyterhub/repo2docker:2024.07.0",
    )(value)


_SIZE = _pattern(r"\d+(\.\d+)?[KMGT]i?", "a size like 450M or 2G")

# key -> (parser, description of the key for the template's comments)
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "binder_host": _hostname,
    "hub_host": _hostname,
    "location": _pattern(r"[a-z]{2,4}\d{0,2}", "a Hetzner location name such as nbg1, fsn1, hel1"),
    "server_type": _pattern(r"[a-z]{2,4}\d{1,3}", "a Hetzner server type name such as ccx63"),
    "image": _pattern(r"[a-z0-9][a-z0-9.-]{1,62}", "an image name such as ubuntu-24.04"),
    "ssh_key": _path,
    "ssh_port": _int_range(1, 65535),
    "https_port": _int_range(1, 65535),
    "allow_world_access": _bool,
    "ssh_allowed_cidrs": _cidrs,
    "api_allowed_cidrs": _cidrs,
    "k3s_version": _k3s_version,
    "max_pods": _int_range(10, 8000),  # a /19 pod range per node holds 8,181
    "image_gc_high_percent": _int_range(1, 100),
    "image_gc_low_percent": _int_range(0, 99),
    "launch_quota": _quota,
    "budget_cap_eur": _money,
    "hcloud_endpoint": _url,
    "letsencrypt_email": _pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address"),
    "registry_url": _url,
    "registry_username": _str,
    "tls_ca_bundle": _path,
    "readonly": _bool,
    "session_memory_guarantee": _SIZE,
    "session_memory_limit": _SIZE,
    "session_cpu_limit": _float_range(0.01, 64),
    "cull_timeout": _duration,
    "cull_max_age": _duration,
    "dns_resolvers": _resolvers,
    "session_egress_ports": _ports,
    "session_egress_bandwidth": _bandwidth,
    "block_smtp": _bool,
    "block_cloud_metadata": _bool,
    "cryptnono": _bool,
    "dind_mtu": _int_range(576, 9000),
    "dind_max_concurrent_uploads": _int_range(1, 128),
    "comparisons": _comparisons,
    "binderhub_chart_version": _pattern(
        r"[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]{1,80})?",
        "a chart version like 1.0.0-0.dev.git.3983.h383374de",
    ),
    "build_image": _image,
}
_RENAMED = {"cull_timeout": "cull_timeout_seconds", "cull_max_age": "cull_max_age_seconds"}
_REQUIRED = ("binder_host", "ssh_allowed_cidrs")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{1,60}")


def _dotted(keys: tuple[str, ...]) -> str:
    """A key path as TOML spells it: odd keys (escapes, spaces, 10k characters) quoted
    with escapes and shortened, so the message stays one inert line."""
    return ".".join(
        key if _BARE_KEY.fullmatch(key) else json.dumps(key if len(key) <= 60 else key[:60] + "…")
        for key in keys
    )


def _fail(path: Path, keys: tuple[str, ...], problem: str) -> ConfigError:
    return ConfigError(f"{path}: {_dotted(keys)}: {problem}")


def _member(path: Path, name: str, table: Any) -> MemberConfig:
    def fail(key: str | None, problem: str) -> ConfigError:
        return _fail(path, ("members", name) if key is None else ("members", name, key), problem)

    try:
        parsing.parse_member_name(name)
    except ValueError as exc:
        raise fail(None, str(exc)) from None
    if not isinstance(table, dict):
        raise fail(None, "expected a table ([members.NAME])")
    unknown = sorted(set(table) - set(_PARSERS))
    if unknown:
        raise fail(unknown[0], f"unknown key; allowed keys: {', '.join(sorted(_PARSERS))}")
    for key in _REQUIRED:
        if key not in table:
            raise fail(key, "missing; this key is required")
    values: dict[str, Any] = {"name": name}
    for key, raw in table.items():
        try:
            values[_RENAMED.get(key) or key] = _PARSERS[key](raw)
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    values.setdefault("hub_host", f"hub.{values['binder_host']}")
    values.setdefault("api_allowed_cidrs", values["ssh_allowed_cidrs"])
    endpoint = os.environ.get(ENDPOINT_ENV)
    if endpoint:
        try:
            values["hcloud_endpoint"] = _url(endpoint)
        except ValueError as exc:
            raise ConfigError(f"{ENDPOINT_ENV}: {exc}") from None
    server_type = values.get("server_type", "ccx63")
    if "max_pods" not in values:
        derived = default_max_pods(server_type)
        if derived is None:
            raise fail(
                "max_pods",
                f"cannot derive a default for server type {server_type!r}; set max_pods "
                "(rule of thumb: 1.75 x the server's RAM in GB)",
            )
        values["max_pods"] = derived
    high = values.get("image_gc_high_percent", 40)
    low = values.get("image_gc_low_percent", 20)
    if low >= high:
        raise fail(
            "image_gc_low_percent",
            f"{low} must be below image_gc_high_percent ({high})",
        )
    version = values.get("k3s_version", DEFAULT_K3S_VERSION)
    if values.get("registry_url") and not reads_values_secrets(version):
        raise fail(
            "k3s_version",
            f"{version} cannot hand the registry password to BinderHub (registry_url is "
            "set): k3s reads a HelmChart's valuesSecrets from v1.30.12, v1.31.8, v1.32.4 and "
            "v1.33.0 on; set k3s_version to one of those or later, or remove registry_url "
            "to use the in-cluster registry",
        )
    mail = sorted(set(values.get("session_egress_ports", ())) & set(SMTP_PORTS))
    if mail and values.get("block_smtp", True):
        raise fail(
            "session_egress_ports",
            f"port {mail[0]} is SMTP, which block_smtp (on by default) keeps closed; remove "
            "it, or set block_smtp = false",
        )
    if not values.get("allow_world_access", False):
        for key in ("ssh_allowed_cidrs", "api_allowed_cidrs"):
            if parsing.covers_world(values[key]):
                port = "22 (SSH)" if key.startswith("ssh") else "6443 (Kubernetes API)"
                raise fail(
                    key,
                    f"opens port {port} to the whole internet; list your team's networks, "
                    "or set allow_world_access = true to do this deliberately",
                )
    return MemberConfig(**values)


def parse_config(path: Path, text: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    unknown = sorted(set(data) - {"members", "federation", "watch", "upgrades"})
    if unknown:
        raise _fail(
            path,
            (unknown[0],),
            "unknown top-level key; allowed: [members.<name>] tables, [federation], "
            "[watch] and [upgrades]",
        )
    members_table = data.get("members", {})
    if not isinstance(members_table, dict):
        raise _fail(path, ("members",), "expected tables like [members.<name>]")
    members = {name: _member(path, name, table) for name, table in members_table.items()}
    federation = parse_federation(path, data["federation"]) if "federation" in data else None
    watch = parse_watch(path, data["watch"]) if "watch" in data else DEFAULT_WATCH
    upgrades = parse_upgrades(path, data["upgrades"]) if "upgrades" in data else DEFAULT_UPGRADES
    return Config(
        path=path,
        members=members,
        federation=federation or DEFAULT_FEDERATION,
        watch=watch,
        upgrades=upgrades,
    )


def load_config(path: Path | None = None) -> Config:
    target = path or default_config_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{target}: no configuration file; create one with `binderctl config init`"
        ) from None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL in the path
        raise ConfigError(f"{target}: cannot read the configuration: {exc}") from None
    return parse_config(target, text)


TEMPLATE = """\
# binderctl configuration. One [members.<name>] table per federation member;
# `binderctl --member NAME` picks one (the only one is the default).
# Check it with `binderctl config check`.

[members.{name}]
# Public hostnames: create DNS A records for both and their wildcards.
binder_host = "{binder_host}"
# hub_host = "hub.{binder_host}"
# `binderctl --provision` waits until they resolve, asking these resolvers:
# dns_resolvers = ["1.1.1.1", "9.9.9.9"]   # default: the nameservers of /etc/resolv.conf

# Who may reach SSH (22) and the Kubernetes API (6443). 0.0.0.0/0 is refused
# unless allow_world_access = true.
ssh_allowed_cidrs = ["203.0.113.0/24"]
# api_allowed_cidrs = ["203.0.113.0/24"]   # default: same as ssh_allowed_cidrs

# Hetzner Cloud server.
location = "nbg1"
server_type = "ccx63"
image = "ubuntu-24.04"
ssh_key = "~/.ssh/id_ed25519"       # private key; the public key is <path>.pub

# k3s and the kubelet.
k3s_version = "{k3s_version}"
# max_pods = 336                     # default: 1.75 x the server type's RAM in GB
image_gc_high_percent = 40
image_gc_low_percent = 20

# BinderHub.
launch_quota = 100                   # sessions at once; 0 = maintenance, "none" = no limit
letsencrypt_email = "ops@example.org"
# registry_url = "https://registry.example.org"   # default: an in-cluster registry
# registry_username = "robot"   # password: `binderctl auth login --registry`; k3s >= v1.31.8
# binderhub_chart_version = "1.0.0-0.dev.git.3983.h383374de"   # default: the prime's
# build_image = "quay.io/jupyterhub/repo2docker:2026.4.1.dev44-g97bb4e45a"  # default: the prime's
# session_memory_limit = "2G"
# cull_timeout = "10m"
# cull_max_age = "6h"
# session_egress_ports = [80, 443, 9418, 873, 1094, 1095, 16286, 4001]  # mybinder's; [] = all
# session_egress_bandwidth = "1M"    # bits a second a session may send; "" = no limit
# block_smtp = true                  # sessions cannot send mail (ports 25, 465, 587)
# block_cloud_metadata = true        # sessions cannot reach 169.254.169.254
# cryptnono = true                  # mybinder's crypto-mining detection
# dind_mtu = 1450                    # mybinder's value: 1500 breaks some sites for builds
# dind_max_concurrent_uploads = 32   # mybinder's value: parallel layer pushes

# Money.
budget_cap_eur = 300
# [members.{name}.comparisons]       # other providers' monthly price for a like node
# "AWS m6a.12xlarge" = 2050

# Safety.
readonly = false
# hcloud_endpoint = "https://api.hetzner.cloud/v1"   # or BINDERCTL_HCLOUD_ENDPOINT

# The federation: default mybinder.org's hosts (config/prod.yaml of mybinder.org-deploy),
# its prime and the redirector's check settings (mybinder/values.yaml).
# [federation]
# pod_headroom = 10
# [federation.check]
# failed_period = 90
"""


def render_template(name: str = "mymember", binder_host: str = "mymember.mybinder.org") -> str:
    return TEMPLATE.format(name=name, binder_host=binder_host, k3s_version=DEFAULT_K3S_VERSION)
