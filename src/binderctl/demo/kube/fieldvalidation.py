"""Server-side field validation of create, update and patch (the ``fieldValidation``
parameter). Fields the served schema (schemas.py) does not declare are dropped, as the
API server's decoder drops them, and reported as its strict decoder reports them:
``Ignore`` says nothing, ``Warn`` (the default) answers with a ``Warning`` header for each,
``Strict`` refuses the request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from binderctl.demo.kube.apierrors import FieldError, bad_request, invalid_kind, invalid_value
from binderctl.demo.kube.schemas import Schemas
from binderctl.demo.kube.store import Obj, ResourceType

DIRECTIVES = ("Ignore", "Strict", "Warn")


def drop_unknown(schemas: Schemas, schema: Obj, value: Any, path: str = "") -> list[str]:
    """Remove from ``value`` the fields ``schema`` does not declare; returns their paths
    (``spec.containers[0].foo``) in the order they appear."""
    schema = schemas.resolve(schema)
    found: list[str] = []
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += drop_unknown(schemas, schema["items"], item, f"{path}[{index}]")
    elif isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        for key in list(value):
            where = f"{path}.{key}" if path else key
            if key in properties:
                found += drop_unknown(schemas, properties[key], value[key], where)
            else:
                del value[key]
                found.append(where)
    return found


def _strict_error(unknown: list[str]) -> str:
    return "strict decoding error: " + ", ".join(f'unknown field "{f}"' for f in unknown)


def _go_float(number: float) -> str:
    """A float64 as Go's ``%v`` prints it (shortest digits; exponent from 1e+06 on)."""
    shortest = Decimal(repr(number)).normalize()
    sign, digits, exponent = shortest.as_tuple()
    point = len(digits) + int(exponent) - 1
    if -4 <= point < 6:
        return format(shortest, "f")
    text = "".join(map(str, digits))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if point < 0 else '+'}{abs(point):02d}"


def go_print(value: Any) -> str:
    """A decoded JSON value as Go's ``%v`` prints it (``map[spec:map[foo:1]]``)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_print(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_print(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


@dataclass
class FieldValidation:
    """One write's directive, and the warnings it collected for the answer."""

    directive: str
    schemas: Schemas
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, query: Mapping[str, str], options: str, schemas: Schemas) -> FieldValidation:
        """From the query; ``options`` names the options kind in errors (CreateOptions)."""
        value = query.get("fieldValidation", "")
        if value not in ("", *DIRECTIVES):
            supported = ", ".join(f'"{v}"' for v in ("", *DIRECTIVES))
            raise invalid_kind(
                "meta.k8s.io",
                options,
                "",
                [
                    FieldError(
                        "FieldValueNotSupported",
                        "fieldValidation",
                        f"supported values: {supported}",
                        value,
                    )
                ],
            )
        return cls(value or "Warn", schemas)

    def _unknown(self, rt: ResourceType, obj: Obj) -> list[str]:
        unknown = drop_unknown(self.schemas, self.schemas.of(rt), obj)
        if self.directive == "Ignore":
            return []
        return unknown

    def _warn(self, unknown: list[str]) -> None:
        for path in unknown:
            text = f'unknown field "{path}"'
            if text not in self.warnings:
                self.warnings.append(text)

    def decoded(self, rt: ResourceType, body: Obj) -> None:
        """A create or update body: under Strict, 400 BadRequest as the decoder words it."""
        unknown = self._unknown(rt, body)
        if unknown and self.directive == "Strict":
            raise bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                + _strict_error(unknown)
            )
        self._warn(unknown)

    def patched(self, rt: ResourceType, patch: Any, patched: Obj, *, strategic: bool) -> None:
        """A patched object: under Strict, 422 Invalid naming the patch (a strategic one as
        Go prints a map, JSON and merge patches by the object they made)."""
        shown = ""
        if self.directive == "Strict":
            shown = go_print(patch) if strategic else json.dumps(patched, separators=(",", ":"))
        unknown = self._unknown(rt, patched)
        if unknown and self.directive == "Strict":
            raise invalid_kind("", "", "", [invalid_value("patch", shown, _strict_error(unknown))])
        self._warn(unknown)
