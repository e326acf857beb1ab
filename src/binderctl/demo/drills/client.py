"""Talking to a running demo's control endpoint (``binderctl demo drill``, the console).

The demo's env snippet carries the endpoint's address and token in
``BINDERCTL_DEMO_CONTROL`` and ``BINDERCTL_DEMO_TOKEN``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx

from binderctl.errors import BinderctlError, UsageError

CONTROL_ENV = "BINDERCTL_DEMO_CONTROL"
CONTROL_TOKEN_ENV = "BINDERCTL_DEMO_TOKEN"
TIMEOUT = 30.0  # starting a drill may stop k3s on the node


def available() -> bool:
    return bool(os.environ.get(CONTROL_ENV) and os.environ.get(CONTROL_TOKEN_ENV))


class DrillClient:
    def __init__(self) -> None:
        url, token = os.environ.get(CONTROL_ENV), os.environ.get(CONTROL_TOKEN_ENV)
        if not url or not token:
            raise BinderctlError(
                f"no demo to drill: {CONTROL_ENV} and {CONTROL_TOKEN_ENV} are not set",
                hint="start `binderctl demo --env-file F` and `source F` in this shell, "
                "or use the console of `binderctl --demo`",
            )
        self._url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    def __repr__(self) -> str:
        return f"DrillClient(url={self._url!r})"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = httpx.request(
                method, self._url + path, headers=self._headers, json=body, timeout=TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise BinderctlError(
                f"the demo's control endpoint {self._url} does not answer ({exc})",
                hint="is `binderctl demo` still running?",
            ) from None
        try:
            document = response.json()
        except ValueError:
            document = {}
        if response.is_error:
            message = document.get("error") if isinstance(document, dict) else None
            hint = document.get("hint") if isinstance(document, dict) else None
            error = UsageError if response.status_code in (400, 404) else BinderctlError
            raise error(message or f"HTTP {response.status_code}", hint=hint)
        return document

    def drills(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/drills")["drills"])

    def start(self, name: str, duration: float | None = None) -> dict[str, Any]:
        body = None if duration is None else {"duration": duration}
        return dict(self._call("POST", f"/drills/{quote(name, safe='')}/start", body))

    def status(self) -> dict[str, Any]:
        return dict(self._call("GET", "/drill"))

    def stop(self) -> dict[str, Any]:
        return dict(self._call("POST", "/drill/stop"))
