"""Hetzner labels: validation of label maps and the ``label_selector`` query language.

The selector language is Kubernetes' (``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``,
``k in (a,b)``, ``k notin (a,b)``, joined by commas) without ``>`` and ``<``, so the
Kubernetes emulator's parser is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from binderctl.demo.kube import labels as kubernetes

_NAME = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"
_KEY = re.compile(rf"^([a-z0-9]([a-z0-9.-]{{0,251}}[a-z0-9])?/)?{_NAME}$")
_VALUE = re.compile(rf"^({_NAME})?$")

Matcher = Callable[[Mapping[str, str]], bool]


def label_problems(labels: object) -> list[str]:
    """Why ``labels`` is not a valid label map (empty list when it is)."""
    if not isinstance(labels, dict):
        return ["labels must be an object of string keys and string values"]
    problems = []
    for key, value in labels.items():
        if not _KEY.match(key):
            problems.append(f"invalid label key {key[:70]!r}")
        if not isinstance(value, str) or not _VALUE.match(value):
            problems.append(f"invalid value for label {key[:70]!r}")
    return problems


def parse_selector(selector: str) -> Matcher:
    """A predicate over label maps; ``ValueError`` says what is wrong in ``selector``."""
    parsed = kubernetes.parse_selector(selector)
    if any(r.op in (">", "<") for r in parsed.requirements or []):
        raise ValueError(f"invalid label selector {selector!r}: '>' and '<' are not supported")
    return parsed.matches
