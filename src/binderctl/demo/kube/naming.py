"""Names the control plane makes up, in the alphabet and shape Kubernetes uses."""

from __future__ import annotations

import json
import random
from typing import Any

# k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable characters.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(ALPHANUMS) for _ in range(length))


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character mapped into the alphabet above."""
    return "".join(ALPHANUMS[ord(char) % len(ALPHANUMS)] for char in text)


def fnv32a(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def template_hash(template: Any, collision_count: int = 0) -> str:
    """The ``pod-template-hash`` of a pod template (like ``controller.ComputeHash``)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += collision_count.to_bytes(4, "little")
    return safe_encode(str(fnv32a(data)))
