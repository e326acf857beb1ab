"""Label selectors: the query-string syntax, ``metav1.LabelSelector`` objects, matching
and the text forms ``kubectl`` shows (``labels.Parse`` and ``FormatLabelSelector``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from binderctl.demo.kube.store import Obj

_TOKEN = re.compile(r"\s*(?:(!=|==|=|<|>|!|\(|\)|,)|([^\s!=<>(),]+))")
_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET_OPS = ("in", "notin")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "==", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        match self.op:
            case "=" | "==" | "in":
                return present and value in self.values
            case "!=" | "notin":
                return not present or value not in self.values
            case "exists":
                return present
            case "!":
                return not present
            case ">" | "<":
                if not present or not value or not value.lstrip("-").isdigit():
                    return False
                bound = int(self.values[0])
                return int(value) > bound if self.op == ">" else int(value) < bound
        return False

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return f"!{self.key}"
        if self.op in _SET_OPS:
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        return f"{self.key}{self.op}{self.values[0]}"


class Selector:
    """A conjunction of requirements; ``None`` for ``nothing`` (a null LabelSelector)."""

    def __init__(self, requirements: list[Requirement] | None) -> None:
        self.requirements = requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.requirements is None:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Obj) -> bool:
        return self.matches(obj.get("metadata", {}).get("labels"))

    @property
    def empty(self) -> bool:
        return self.requirements == []

    def __str__(self) -> str:
        if not self.requirements:
            return ""
        return ",".join(str(r) for r in sorted(self.requirements, key=lambda r: r.key))


def _check_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if not _NAME.match(name) or (prefix and (len(prefix) > 253 or not _PREFIX.match(prefix))):
        raise ValueError(
            f'unable to parse requirement: key: Invalid value: "{key}": name part must '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise ValueError(
            f'unable to parse requirement: values[0]: Invalid value: "{value}": a valid label '
            "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: kind is "op" or "id"."""
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"unable to parse requirement: found {text[pos]!r}")
        out.append(("op", match.group(1)) if match.group(1) else ("id", match.group(2)))
        pos = match.end()
    return out


def parse_selector(text: str) -> Selector:
    """``labelSelector=`` syntax: ``a=b,c!=d,e in (x,y),f notin (z),g,!h``."""
    tokens = _tokens(text)
    requirements: list[Requirement] = []
    i = 0

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise ValueError("found '', expected: identifier")
        i += 1
        return tokens[i - 1]

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    while i < len(tokens):
        kind, text_ = take()
        if (kind, text_) == ("op", "!"):
            kind, key = take()
            if kind != "id":
                raise ValueError(f"found '{key}', expected: identifier after '!'")
            _check_key(key)
            requirements.append(Requirement(key, "!"))
        elif kind == "id":
            key = text_
            _check_key(key)
            nxt = peek()
            if nxt is None or nxt == ("op", ","):
                requirements.append(Requirement(key, "exists"))
            elif nxt[0] == "op" and nxt[1] in ("=", "==", "!=", ">", "<"):
                op = take()[1]
                after = peek()
                value = ""
                if after is not None and after[0] == "id":
                    value = take()[1]
                if op in (">", "<") and not value.lstrip("-").isdigit():
                    raise ValueError(
                        f"unable to parse requirement: for 'gt', 'lt' operators, the value "
                        f"must be an integer, not {value!r}"
                    )
                _check_value(value)
                requirements.append(Requirement(key, op, (value,)))
            elif nxt[0] == "id" and nxt[1] in _SET_OPS:
                op = take()[1]
                if take() != ("op", "("):
                    raise ValueError("found '', expected: '('")
                values: list[str] = []
                while True:
                    kind, item = take()
                    if kind == "id":
                        _check_value(item)
                        values.append(item)
                        kind, item = take()
                    elif item in (",", ")"):
                        values.append("")
                    if item == ")":
                        break
                    if item != ",":
                        raise ValueError(f"found '{item}', expected: ',' or ')'")
                requirements.append(Requirement(key, op, tuple(values)))
            else:
                raise ValueError(f"found '{nxt[1]}', expected: '=', '!=', '==', 'in', notin'")
        else:
            raise ValueError(f"found '{text_}', expected: !, identifier, or 'end of string'")
        nxt = peek()
        if nxt is not None:
            if nxt != ("op", ","):
                raise ValueError(f"found '{nxt[1]}', expected: ',' or 'end of string'")
            take()
    return Selector(requirements)


_EXPRESSION_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def selector_from_spec(spec: Obj | None) -> Selector:
    """A ``metav1.LabelSelector`` (matchLabels, matchExpressions); None selects nothing."""
    if spec is None:
        return Selector(None)
    requirements = [Requirement(k, "=", (v,)) for k, v in (spec.get("matchLabels") or {}).items()]
    for expression in spec.get("matchExpressions") or []:
        operator = expression.get("operator", "")
        op = _EXPRESSION_OPS.get(operator)
        if op is None:
            raise ValueError(f"{operator!r} is not a valid label selector operator")
        values = tuple(expression.get("values") or ())
        requirements.append(Requirement(expression["key"], op, values))
    return Selector(requirements)


def format_selector_spec(spec: Obj | None) -> str:
    """``metav1.FormatLabelSelector``."""
    try:
        text = str(selector_from_spec(spec))
    except ValueError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
