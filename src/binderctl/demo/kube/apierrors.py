"""API errors as the Kubernetes API server reports them: ``Status`` objects.

Every error is a ``StoreError`` (store.py) carrying code, reason, message and details;
the helpers here build the ones the server needs with the real messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from binderctl.demo.kube.store import Obj, ResourceType, StoreError


def resource_name(rt: ResourceType) -> str:
    """``pods`` or ``deployments.apps``: how messages name a resource."""
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


def status_failure(err: StoreError) -> Obj:
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": err.message,
        "reason": err.reason,
        "code": err.code,
    }
    if err.details:
        body["details"] = err.details
    return body


def status_success(code: int = 200, details: Obj | None = None) -> Obj:
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    body["code"] = code
    return body


def bad_request(message: str) -> StoreError:
    return StoreError(400, "BadRequest", message)


def unauthorized() -> StoreError:
    return StoreError(401, "Unauthorized", "Unauthorized")


def path_not_found() -> StoreError:
    return StoreError(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed() -> StoreError:
    return StoreError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def not_acceptable(accept: str) -> StoreError:
    return StoreError(
        406,
        "NotAcceptable",
        f"only the following media types are accepted: application/json, application/yaml "
        f"(not {accept})",
    )


def unsupported_media_type(content_type: str, accepted: list[str]) -> StoreError:
    return StoreError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)}",
        {"causes": [{"reason": "UnexpectedHeader", "message": content_type}]}
        if content_type
        else None,
    )


def conflict(rt: ResourceType, name: str, why: str) -> StoreError:
    return StoreError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource_name(rt)} "{name}": {why}',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def forbidden(rt: ResourceType, name: str, why: str) -> StoreError:
    return StoreError(
        403,
        "Forbidden",
        f'{resource_name(rt)} "{name}" is forbidden: {why}',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def expired(message: str) -> StoreError:
    return StoreError(410, "Expired", message)


def too_many_requests(message: str, retry_after: int, causes: list[Obj]) -> StoreError:
    details: Obj = {"causes": causes}
    if retry_after > 0:
        details["retryAfterSeconds"] = retry_after
    return StoreError(429, "TooManyRequests", message, details)


def internal(message: str) -> StoreError:
    return StoreError(500, "InternalError", message)


def _go_value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return f"map[string]string{{{inner}}}"
    return str(value)


@dataclass(frozen=True)
class FieldError:
    """One ``field.Error``: what is wrong with which field."""

    type: str  # FieldValueRequired, FieldValueInvalid, FieldValueDuplicate, ...
    field: str
    detail: str = ""
    value: Any = None

    def body(self) -> str:
        match self.type:
            case "FieldValueRequired":
                text = "Required value"
            case "FieldValueInvalid":
                text = f"Invalid value: {_go_value(self.value)}"
            case "FieldValueDuplicate":
                text = f"Duplicate value: {_go_value(self.value)}"
            case "FieldValueNotSupported":
                text = f"Unsupported value: {_go_value(self.value)}"
            case "FieldValueForbidden":
                text = "Forbidden"
            case _:
                text = "Internal error"
        return f"{text}: {self.detail}" if self.detail else text


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, detail)


def invalid_value(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", field, detail, value)


def invalid(rt: ResourceType, name: str, errors: list[FieldError]) -> StoreError:
    """422 Invalid, as ``errors.NewInvalid`` words it."""
    return invalid_kind(rt.group, rt.kind, name, errors)


def invalid_kind(group: str, kind: str, name: str, errors: list[FieldError]) -> StoreError:
    """422 Invalid of any kind (``CreateOptions.meta.k8s.io``), or of none (``""``)."""
    texts = [f"{e.field}: {e.body()}" for e in errors]
    joined = texts[0] if len(texts) == 1 else f"[{', '.join(texts)}]"
    qualified = f"{kind}.{group}" if group else kind
    details: Obj = {
        key: value for key, value in (("name", name), ("group", group), ("kind", kind)) if value
    }
    details["causes"] = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errors]
    return StoreError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)
