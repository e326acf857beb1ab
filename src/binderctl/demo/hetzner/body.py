"""Reading request bodies the way the API does: wrong fields give ``invalid_input``."""

from __future__ import annotations

import re
from typing import Any

from binderctl.demo.hetzner.errors import invalid_input
from binderctl.demo.hetzner.labels import label_problems

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def optional_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid_input(key, "Not a valid string.")
    return value


def string(body: dict[str, Any], key: str) -> str:
    value = optional_string(body, key)
    if value is None:
        raise invalid_input(key, "Missing data for required field.")
    return value


def flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_input(key, "Not a valid boolean.")
    return value


def integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_input(key, "Not a valid integer.")
    return value


def id_or_name(body: dict[str, Any], key: str) -> int | str:
    value = optional_id_or_name(body, key)
    if value is None:
        raise invalid_input(key, "Missing data for required field.")
    return value


def optional_id_or_name(body: dict[str, Any], key: str) -> int | str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else value
    raise invalid_input(key, "Not a valid ID or name.")


def labels(body: dict[str, Any], *, default: dict[str, str] | None = None) -> dict[str, str]:
    value = body.get("labels")
    if value is None:
        return dict(default or {})
    problems = label_problems(value)
    if problems:
        raise invalid_input("labels", "; ".join(problems))
    return dict(value)


def resource_name(body: dict[str, Any], *, required: bool = True) -> str | None:
    name = string(body, "name") if required else optional_string(body, "name")
    if name is not None and not _NAME.match(name):
        raise invalid_input("name", "Name must be 1-128 characters, no control characters.")
    return name


def hostname(body: dict[str, Any]) -> str:
    name = string(body, "name")
    if not _HOSTNAME.match(name):
        raise invalid_input("name", "Name must be a valid hostname (RFC 1123).")
    return name


def object_list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_input(key, "Not a valid list.")
    return value
