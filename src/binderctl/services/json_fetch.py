"""A JSON object read over HTTPS (the prime's ``/versions``, k3s's channels)."""

from __future__ import annotations

from typing import Any


def fetch_object(url: str, timeout: float) -> dict[str, Any]:
    """GET ``url`` (no redirects followed); ValueError saying why it could not be read."""
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ValueError(f"cannot reach {url}: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        raise ValueError(f"{url} answered HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        raise ValueError(f"{url} did not answer JSON") from None
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return document
