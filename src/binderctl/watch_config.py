"""The ``[watch]`` table: how often `binderctl watch` looks, its rules and its targets.

    [watch]
    interval = "15s"             # how often the attention policy is evaluated
    notify = "warning"           # the least severity that is sent: error, warning, info

    [watch.targets.ops]          # the URL: BINDERCTL_WATCH_OPS or
    kind = "slack"               # `binderctl auth login --watch-target ops`

    [watch.targets.room]         # the access token: BINDERCTL_WATCH_ROOM or the keyring
    kind = "matrix"
    homeserver = "https://matrix.org"
    room = "!abcdef:matrix.org"

    [watch.rules.disk-pressure]  # one table per attention item kind; all keys optional
    for = "2m"                   # how long it must hold before it is sent
    repeat = "4h"                # reminders while it holds
    severity = "error"           # overrides the policy's
    enabled = true
    auto_action = "prune-images" # run by the watcher itself (off unless set)

Rules not listed use the defaults of their severity (``DEFAULT_RULES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from binderctl import parsing
from binderctl.errors import ConfigError
from binderctl.services.alert_state import SEVERITY_RANK, Finding, RuleSettings, Severity
from binderctl.services.notify import TARGET_KINDS, TargetConfig, TargetKind

DEFAULT_RULES: dict[str, RuleSettings] = {
    "error": RuleSettings(for_seconds=60, repeat_seconds=4 * 3600),
    "warning": RuleSettings(for_seconds=300, repeat_seconds=12 * 3600),
    "info": RuleSettings(for_seconds=600, repeat_seconds=24 * 3600),
}
# Actions a rule may run by itself; drain only with allow_auto_drain = true.
AUTO_ACTIONS: tuple[str, ...] = ("prune-images", "delete-builds", "drain")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}")
_URL = re.compile(r"https?://[!-.0-~]+")
_ROOM = re.compile(r"![!-~]{1,255}")
_WATCH_KEYS = ("interval", "notify", "allow_auto_drain", "targets", "rules")
_RULE_KEYS = ("for", "repeat", "severity", "enabled", "auto_action")
_TARGET_KEYS = ("kind", "homeserver", "room")


@dataclass(frozen=True)
class WatchConfig:
    interval: float = 15.0
    notify: Severity = "warning"
    allow_auto_drain: bool = False
    targets: tuple[TargetConfig, ...] = ()
    # kind -> the RuleSettings fields its table sets; the rest are its severity's defaults
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rule(self, finding: Finding) -> RuleSettings:
        """The settings for a finding; below ``notify`` it is never sent."""
        given = self.rules.get(finding.kind, {})
        severity = given.get("severity") or finding.severity
        rule = replace(DEFAULT_RULES[severity], **given)
        if SEVERITY_RANK[severity] < SEVERITY_RANK[self.notify]:
            return replace(rule, enabled=False)
        return rule


def _where(path: Path, *keys: str) -> str:
    return f"{path}: " + ".".join(("watch", *keys))


def _table(path: Path, keys: tuple[str, ...], value: Any, allowed: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, *keys)}: expected a table")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{_where(path, *keys, unknown[0])}: unknown key; allowed: {', '.join(allowed)}"
        )
    return value


def _named_tables(path: Path, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, key)}: expected tables like [watch.{key}.<name>]")
    return value


def _duration(path: Path, keys: tuple[str, ...], value: Any, low: float) -> float:
    try:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("expected a duration like 30s, 5m or 4h")
        seconds = float(parsing.parse_duration(str(value)))
    except ValueError as exc:
        raise ConfigError(f"{_where(path, *keys)}: {exc}") from None
    if seconds < low:
        raise ConfigError(f"{_where(path, *keys)}: must be at least {low:g}s")
    return seconds


def _choice(path: Path, keys: tuple[str, ...], value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        shown = repr(value)[:40]
        raise ConfigError(f"{_where(path, *keys)}: {shown} is not allowed; one of {allowed}")
    return cast(str, value)


def _bool(path: Path, keys: tuple[str, ...], value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{_where(path, *keys)}: expected true or false")
    return value


def _name(path: Path, keys: tuple[str, ...], name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{_where(path, *keys)}: {name[:40]!r} is not a name; "
            "expected letters, digits, - and _ (up to 41)"
        )
    return name


def _rule(path: Path, kind: str, value: Any) -> dict[str, Any]:
    keys = ("rules", _name(path, ("rules",), kind))
    table = _table(path, keys, value, _RULE_KEYS)
    parsers = {
        "for": ("for_seconds", lambda v: _duration(path, (*keys, "for"), v, 0)),
        "repeat": ("repeat_seconds", lambda v: _duration(path, (*keys, "repeat"), v, 60)),
        "enabled": ("enabled", lambda v: _bool(path, (*keys, "enabled"), v)),
        "severity": (
            "severity",
            lambda v: _choice(path, (*keys, "severity"), v, tuple(DEFAULT_RULES)),
        ),
        "auto_action": (
            "auto_action",
            lambda v: _choice(path, (*keys, "auto_action"), v, AUTO_ACTIONS),
        ),
    }
    return {parsers[k][0]: parsers[k][1](v) for k, v in table.items()}


def _target(path: Path, name: str, value: Any) -> TargetConfig:
    keys = ("targets", _name(path, ("targets",), name))
    table = _table(path, keys, value, _TARGET_KEYS)
    if "kind" not in table:
        raise ConfigError(f"{_where(path, *keys, 'kind')}: missing; one of {TARGET_KINDS}")
    kind = cast(TargetKind, _choice(path, (*keys, "kind"), table["kind"], TARGET_KINDS))
    if kind != "matrix":
        extra = sorted(set(table) - {"kind"})
        if extra:
            raise ConfigError(
                f"{_where(path, *keys, extra[0])}: only a matrix target has this; the "
                f"{kind} URL is a secret: set {TargetConfig(name, kind).credential.env}"
            )
        return TargetConfig(name, kind)
    homeserver = table.get("homeserver")
    if not isinstance(homeserver, str) or not _URL.fullmatch(homeserver.rstrip("/")):
        raise ConfigError(
            f"{_where(path, *keys, 'homeserver')}: expected a URL like https://matrix.org"
        )
    room = table.get("room")
    if not isinstance(room, str) or not _ROOM.fullmatch(room):
        raise ConfigError(f"{_where(path, *keys, 'room')}: expected a room id like !abc:matrix.org")
    return TargetConfig(name, kind, homeserver.rstrip("/"), room)


def parse_watch(path: Path, table: Any) -> WatchConfig:
    table = _table(path, (), table, _WATCH_KEYS)
    targets = _named_tables(path, "targets", table.get("targets", {}))
    rules = _named_tables(path, "rules", table.get("rules", {}))
    config = WatchConfig(
        interval=_duration(path, ("interval",), table.get("interval", "15s"), 1),
        notify=cast(
            Severity,
            _choice(path, ("notify",), table.get("notify", "warning"), tuple(DEFAULT_RULES)),
        ),
        allow_auto_drain=_bool(path, ("allow_auto_drain",), table.get("allow_auto_drain", False)),
        targets=tuple(_target(path, name, value) for name, value in targets.items()),
        rules={kind: _rule(path, kind, value) for kind, value in rules.items()},
    )
    for kind, rule in config.rules.items():
        if rule.get("auto_action") == "drain" and not config.allow_auto_drain:
            raise ConfigError(
                f"{_where(path, 'rules', kind, 'auto_action')}: drain is never automatic "
                "unless [watch] allow_auto_drain = true says so"
            )
    return config


DEFAULT_WATCH = WatchConfig()
