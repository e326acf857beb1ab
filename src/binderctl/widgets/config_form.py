"""The member's config as a form, validated by the config loader itself (same messages)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Static

from binderctl.config import Config, MemberConfig, parse_config
from binderctl.errors import ConfigError
from binderctl.screens import keymap

# (config key, label, placeholder); "name" is the member table's name.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Member name", "mymember"),
    ("binder_host", "Binder hostname", "mymember.mybinder.org"),
    ("ssh_allowed_cidrs", "SSH and API allowed from (CIDRs, comma separated)", "203.0.113.0/24"),
    ("location", "Hetzner location", "nbg1"),
    ("server_type", "Server type", "ccx63"),
    ("launch_quota", "Launch quota (0 = maintenance, none = no limit)", "100"),
    ("budget_cap_eur", "Budget cap (EUR per month, net)", "300"),
    ("letsencrypt_email", "Let's Encrypt e-mail", "ops@example.org"),
)
LISTS = frozenset({"ssh_allowed_cidrs"})
NUMBERS = frozenset({"launch_quota"})
_FAILED_KEY = re.compile(r"members\.[^.:]+\.(\w+): ")


def member_values(member: MemberConfig) -> dict[str, str]:
    """What the form shows for an existing member."""
    quota = "none" if member.launch_quota is None else str(member.launch_quota)
    return {
        "name": member.name,
        "binder_host": member.binder_host,
        "ssh_allowed_cidrs": ", ".join(member.ssh_allowed_cidrs),
        "location": member.location,
        "server_type": member.server_type,
        "launch_quota": quota,
        "budget_cap_eur": str(member.budget_cap_eur),
        "letsencrypt_email": member.letsencrypt_email,
    }


def _toml_value(key: str, text: str) -> Any:
    text = text.strip()
    if key in LISTS:
        return [part.strip() for part in text.split(",") if part.strip()]
    if key in NUMBERS and text.isdigit():
        return int(text)
    return text


def member_table(values: Mapping[str, str], base: Mapping[str, Any]) -> dict[str, Any]:
    """The member's TOML table: ``base`` (the file's table) updated with the form."""
    table = dict(base)
    for key, _, _ in FIELDS[1:]:
        text = values.get(key, "").strip()
        if text:
            table[key] = _toml_value(key, text)
        else:
            table.pop(key, None)
    return table


def config_text(values: Mapping[str, str], document: Mapping[str, Any]) -> str:
    """The whole config file with this member's table replaced by the form's values."""
    name = values.get("name", "").strip()
    members = dict(document.get("members") or {})
    members[name] = member_table(values, members.get(name) or {})
    return tomli_w.dumps({**document, "members": members})


def validate(
    path: Path, values: Mapping[str, str], document: Mapping[str, Any]
) -> tuple[Config | None, str | None, str | None]:
    """(config, None, None) when valid, else (None, failing field, message)."""
    try:
        return parse_config(path, config_text(values, document)), None, None
    except ConfigError as exc:
        message = exc.message.removeprefix(f"{path}: ")
        match = _FAILED_KEY.match(message)
        return None, match.group(1) if match else "name", message


def read_document(path: Path) -> dict[str, Any]:
    """The config file as TOML data ({} when there is none yet)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None


class Field(Input):
    """A form field: printable keys type, q included; esc leaves it for the screen's keys."""

    BINDINGS = list(keymap.FIELD_BINDINGS)

    def action_leave(self) -> None:
        self.screen.set_focus(None)


class ConfigForm(VerticalScroll):
    """Inputs for the main keys; each shows the loader's message when it is wrong."""

    def __init__(self, values: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial = dict(values)

    def compose(self) -> ComposeResult:
        for key, label, placeholder in FIELDS:
            yield Label(label)
            yield Field(
                self.initial.get(key, ""), placeholder=placeholder, id=f"field-{key}", compact=True
            )
            yield Static(id=f"error-{key}", classes="field-error", markup=False)

    @property
    def values(self) -> dict[str, str]:
        return {key: self.query_one(f"#field-{key}", Input).value for key, _, _ in FIELDS}

    def show_error(self, field: str | None, message: str | None) -> None:
        for key, _, _ in FIELDS:
            error = message if key == field else ""
            line = self.query_one(f"#error-{key}", Static)
            line.update(error or "")
            line.set_class(bool(error), "shown")
            self.query_one(f"#field-{key}", Input).set_class(bool(error), "-invalid")
