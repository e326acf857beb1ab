"""Resource quantities (``resource.Quantity``): ``100m``, ``0.5``, ``450M``, ``2Gi``."""

from __future__ import annotations

import re

_SUFFIXES = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?([a-zA-Z]*)$")


def parse_quantity(value: object) -> float:
    """The value of a quantity (cores for CPU, bytes for memory); ValueError if invalid."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if match is None or match.group(3) not in _SUFFIXES:
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    number = float(match.group(1))
    if match.group(2):
        number *= 10 ** int(match.group(2))
    return number * _SUFFIXES[match.group(3)]
