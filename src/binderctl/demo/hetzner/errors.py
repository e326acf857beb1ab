"""The Hetzner API error envelope and the HTTP status that goes with each code."""

from __future__ import annotations

from typing import Any

STATUS: dict[str, int] = {
    "json_error": 400,
    "invalid_input": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "resource_limit_exceeded": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "uniqueness_error": 409,
    "conflict": 409,
    "primary_ip_assigned": 409,
    "resource_unavailable": 412,
    "server_not_stopped": 412,
    "server_has_ipv4": 412,
    "primary_ip_datacenter_mismatch": 412,
    "primary_ip_version_mismatch": 412,
    "resource_in_use": 412,
    "firewall_already_applied": 412,
    "locked": 423,
    "rate_limit_exceeded": 429,
    "server_error": 500,
    "bad_gateway": 502,
    "unavailable": 503,
    "timeout": 504,
}
CODE_FOR_STATUS = {500: "server_error", 502: "bad_gateway", 503: "unavailable", 504: "timeout"}


class ApiError(Exception):
    """An error the emulated API answers with ``{"error": {code, message, details}}``."""

    def __init__(
        self, code: str, message: str, details: dict[str, Any] | None = None, status: int = 0
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.status = status or STATUS[code]

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def invalid_input(field: str, message: str) -> ApiError:
    return ApiError(
        "invalid_input",
        f"invalid input in field '{field}'",
        {"fields": [{"name": field, "messages": [message]}]},
    )


def not_found(kind: str, ident: object) -> ApiError:
    return ApiError("not_found", f"{kind} with ID '{ident}' not found")


def uniqueness(field: str, message: str) -> ApiError:
    return ApiError("uniqueness_error", message, {"fields": [{"name": field}]})
