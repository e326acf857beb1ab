"""Query parameters as the API server converts them."""

from __future__ import annotations

from collections.abc import Mapping

from binderctl.demo.kube.apierrors import bad_request


def flag(value: str | None) -> bool:
    """A boolean parameter: anything but "0" or "false" (any case) is true, so
    ``watch=True`` (older Python clients) and ``watch=true`` both work."""
    return value is not None and not (value == "0" or value.lower() == "false")


def integer(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"{name}: invalid value {value!r}: must be an integer") from None
