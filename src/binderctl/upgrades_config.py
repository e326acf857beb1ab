"""The ``[upgrades]`` table: where k3s's release channels are read, which channel a
scheduled upgrade follows, and its maintenance window.

    [upgrades]
    channel_url = "https://update.k3s.io/v1-release/channels"   # k3s's channel server
    channel = "stable"
    [upgrades.window]          # `binderctl upgrade schedule`; mybinder's by default
    days = ["sunday"]
    start = "00:00"
    end = "02:00"
    timezone = "UTC"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from binderctl.errors import ConfigError
from binderctl.maintenance_window import MYBINDER_WINDOW, Window, check

# docs.k3s.io "Release Channels": the channel service API the install script and the
# system-upgrade-controller read (rancher/channelserver, k3s's channel.yaml).
K3S_CHANNEL_URL = "https://update.k3s.io/v1-release/channels"
_URL = re.compile(r"https?://[!-.0-~]+(/[!-~]*)?")
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9.-]{0,30}")


@dataclass(frozen=True)
class UpgradesConfig:
    channel_url: str = K3S_CHANNEL_URL
    channel: str = "stable"
    window: Window = MYBINDER_WINDOW


DEFAULT_UPGRADES = UpgradesConfig()


def _where(path: Path, *keys: str) -> str:
    return f"{path}: " + ".".join(("upgrades", *keys))


def _string(path: Path, key: str, value: Any, pattern: re.Pattern[str], example: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ConfigError(
            f"{_where(path, key)}: {repr(value)[:60]} is not valid; expected {example}"
        )
    return value


def _window(path: Path, table: Any) -> Window:
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(path, 'window')}: expected a table ([upgrades.window])")
    allowed = ("days", "start", "end", "timezone")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{_where(path, 'window', unknown[0])}: unknown key; allowed: days, "
                          "start, end, timezone")  # fmt: skip
    days = table.get("days", list(MYBINDER_WINDOW.days))
    if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
        raise ConfigError(f'{_where(path, "window", "days")}: expected a list like ["sunday"]')
    values = {key: table.get(key, getattr(MYBINDER_WINDOW, key)) for key in allowed[1:]}
    if not all(isinstance(v, str) for v in values.values()):
        raise ConfigError(f"{_where(path, 'window')}: start, end and timezone are strings")
    window = Window(tuple(days), values["start"], values["end"], values["timezone"])
    try:
        check(window)
    except ValueError as exc:
        raise ConfigError(f"{_where(path, 'window')}: {exc}") from None
    return window


def parse_upgrades(path: Path, table: Any) -> UpgradesConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: upgrades: expected a table ([upgrades])")
    unknown = sorted(set(table) - {"channel_url", "channel", "window"})
    if unknown:
        raise ConfigError(f"{_where(path, unknown[0])}: unknown key; allowed: channel_url, "
                          "channel, window")  # fmt: skip
    url = table.get("channel_url", K3S_CHANNEL_URL)
    channel = table.get("channel", DEFAULT_UPGRADES.channel)
    return UpgradesConfig(
        channel_url=_string(path, "channel_url", url, _URL, "a URL").rstrip("/"),
        channel=_string(path, "channel", channel, _CHANNEL, "a channel like stable or v1.36"),
        window=_window(path, table["window"]) if "window" in table else MYBINDER_WINDOW,
    )
