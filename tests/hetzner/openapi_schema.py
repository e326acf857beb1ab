"""Validate answers against the published Hetzner Cloud OpenAPI description.

The description is OpenAPI 3.0: ``nullable: true`` is turned into JSON Schema's
``null`` type, and each response schema is checked with a Draft 7 validator whose root
is the whole document (so ``#/components/...`` references resolve).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

DOCUMENT = Path(__file__).parent / "data" / "hcloud-openapi.json"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable(value) for key, value in node.items()}
    if converted.pop("nullable", False) is not True:
        return converted
    if "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@cache
def _document() -> dict[str, Any]:
    return _nullable(json.loads(DOCUMENT.read_text(encoding="utf-8")))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", path) + "$"), path)
        for path in _document()["paths"]
    ]


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The schema for an answer to ``method path`` (path below /v1) with ``status``."""
    matches = [template for pattern, template in _templates() if pattern.match(path)]
    # A literal segment beats a parameter: /servers/actions over /servers/{id}.
    template = min(matches, key=lambda t: t.count("{"))
    responses = _document()["paths"][template][method.lower()]["responses"]
    found = responses.get(str(status)) or responses[f"{str(status)[0]}xx"]
    return found["content"]["application/json"]["schema"]


def problems(method: str, path: str, status: int, body: Any) -> list[str]:
    """Every way ``body`` breaks the schema (empty when it validates)."""
    schema = {**_document(), **response_schema(method, path, status)}
    errors = Draft7Validator(schema).iter_errors(body)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
