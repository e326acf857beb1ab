"""Field selectors: which fields each resource can be selected by, and matching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import bad_request, resource_name
from binderctl.demo.kube.store import Obj, ResourceType

Getter = Callable[[Obj], str]


def _path(*keys: str) -> Getter:
    def get(obj: Obj) -> str:
        value: object = obj
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return get


def _involved(field: str, top: str = "involvedObject") -> Getter:
    return _path(top, field)


_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

# Selectable fields beyond metadata.name and metadata.namespace, per (group, plural);
# types listed here answer unknown fields with "field label not supported".
_FIELDS: dict[tuple[str, str], dict[str, Getter]] = {
    types.PODS.key: {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": lambda o: "true" if o.get("spec", {}).get("hostNetwork") else "false",
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    types.EVENTS.key: {
        **{f"involvedObject.{f}": _involved(f) for f in _INVOLVED},
        "reason": _path("reason"),
        "reportingComponent": _path("reportingComponent"),
        "source": _path("source", "component"),
        "type": _path("type"),
    },
    types.NODES.key: {"spec.unschedulable": _path("spec", "unschedulable")},
    types.NAMESPACES.key: {"status.phase": _path("status", "phase")},
    types.SECRETS.key: {"type": _path("type")},
    types.REPLICASETS.key: {"status.replicas": _path("status", "replicas")},
    types.JOBS.key: {"status.successful": _path("status", "succeeded")},
}
# events.k8s.io names the same fields of the one set of events differently.
_FIELDS[types.EVENTS_V1.key] = {
    **{f"regarding.{f}": _involved(f, "regarding") for f in _INVOLVED},
    "reason": _path("reason"),
    "reportingController": _path("reportingController"),
    "type": _path("type"),
}


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, str, str], ...]  # (field, "=" or "!=", value)
    getters: tuple[Getter, ...]

    def matches(self, obj: Obj) -> bool:
        for (_, op, value), get in zip(self.terms, self.getters, strict=True):
            if (get(obj) == value) != (op == "="):
                return False
        return True

    def value_of(self, field: str) -> str | None:
        """The value an ``=`` term requires of ``field`` (e.g. metadata.name for watches)."""
        for name, op, value in self.terms:
            if name == field and op == "=":
                return value
        return None


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` not escaped with a backslash."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    out, escaped = [], False
    for char in text:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _term(text: str) -> tuple[str, str, str]:
    for index in range(len(text)):
        for op in ("!=", "==", "="):
            if text.startswith(op, index) and (index == 0 or text[index - 1] != "\\"):
                field, value = text[:index], text[index + len(op) :]
                return field.strip(), "!=" if op == "!=" else "=", _unescape(value)
    raise ValueError(f"invalid selector: '{text}'; can't understand '{text}'")


def parse_field_selector(rt: ResourceType, text: str, label_selector: str = "") -> FieldSelector:
    terms = tuple(_term(t) for t in _split(text, ",") if t.strip()) if text.strip() else ()
    known = _FIELDS.get(rt.key)
    getters: list[Getter] = []
    for field, _, _ in terms:
        if field == "metadata.name":
            getters.append(_path("metadata", "name"))
        elif field == "metadata.namespace":
            getters.append(_path("metadata", "namespace"))
        elif known is not None and field in known:
            getters.append(known[field])
        else:
            why = (
                f"field label not supported: {field}"
                if known is not None
                else f'"{field}" is not a known field selector: only "metadata.name", '
                '"metadata.namespace"'
            )
            raise bad_request(
                f'Unable to find "{resource_name(rt)}" that match label selector '
                f'"{label_selector}", field selector "{text}": {why}'
            )
    return FieldSelector(terms, tuple(getters))


def parse_or_400(rt: ResourceType, text: str, label_selector: str) -> FieldSelector:
    try:
        return parse_field_selector(rt, text, label_selector)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
