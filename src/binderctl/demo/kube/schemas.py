"""OpenAPI v3 component schemas of the served kinds (``components.schemas`` of the
``/openapi/v3`` documents), and the one description of their fields that field validation
checks writes against.

Built-in kinds come from the kubernetes client's generated models, which carry the API's
definitions: every field with its JSON name, type, description and whether it is
required. Their strategic-merge metadata (``x-kubernetes-patch-strategy`` and
``x-kubernetes-patch-merge-key``) is patchmeta.py's, the one the server patches with.
Kinds the client has no model for (custom resources, metrics) get their top-level fields
only, each open to any content. The models do not say which Go package a definition is
from: meta/v1's are known, any other is named in the package of the first kind that
uses it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from binderctl.demo.kube import patchmeta, types
from binderctl.demo.kube.store import Obj, ResourceType

REF = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta"
# The definitions of k8s.io/apimachinery's meta/v1 among those the served kinds use.
_META_TYPES = frozenset(
    {
        "Condition", "DeleteOptions", "LabelSelector", "LabelSelectorRequirement", "ListMeta",
        "ManagedFieldsEntry", "ObjectMeta", "OwnerReference", "Preconditions", "Status",
        "StatusCause", "StatusDetails",
    }
)  # fmt: skip
# Kinds without a client model: their fields besides apiVersion, kind and metadata
# (a custom resource's are spec and status).
_CUSTOM_FIELDS = ("spec", "status")
_UNMODELLED_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    types.NODE_METRICS.key: ("timestamp", "window", "usage"),
    types.POD_METRICS.key: ("timestamp", "window", "containers"),
}
_SCALARS: dict[str, Obj] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "bytes": {"type": "string", "format": "byte"},
    "datetime": {"type": "string", "format": "date-time"},
    "object": {},  # IntOrString, RawExtension, FieldsV1: any JSON value
}
# A model's name: an optional group (``Core``, ``Events``), the version, the definition.
_MODEL_NAME = re.compile(r"(?:[A-Z][a-z]+)*(?P<version>V\d+(?:(?:alpha|beta)\d+)?)(?P<short>\w+)")
_OPEN: Obj = {"x-kubernetes-preserve-unknown-fields": True}


def gvk(group: str, version: str, kind: str) -> Obj:
    return {"group": group, "version": version, "kind": kind}


def ref(name: str) -> Obj:
    return {"$ref": REF + name}


def _is_builtin(group: str) -> bool:
    """Kubernetes' own groups are one word (``apps``) or end in ``.k8s.io``."""
    return "." not in group or group.endswith(".k8s.io")


def _package(group: str) -> str:
    if not group:
        return "io.k8s.api.core"
    if _is_builtin(group):
        return f"io.k8s.api.{group.removesuffix('.k8s.io')}"
    return ".".join(reversed(group.split(".")))  # as for custom resources: io.cattle.helm


def _model(group: str, version: str, kind: str) -> type | None:
    """The client's model class of a built-in kind (``CoreV1Event`` before ``V1Event``)."""
    if not _is_builtin(group):
        return None
    prefix = (group.split(".")[0] if group else "core").capitalize() + version.capitalize()
    for name in (prefix + kind, version.capitalize() + kind):
        module = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        try:
            return getattr(importlib.import_module(f"kubernetes.client.models.{module}"), name)
        except ModuleNotFoundError:
            continue
    return None


def _description(cls: type) -> str:
    return inspect.cleandoc(cls.__doc__ or "").partition("Attributes:")[0].strip()


def _target(prop: Obj) -> str | None:
    """The component a property refers to, through an array's items."""
    inner = prop.get("items", prop)
    refs = inner.get("allOf") or [inner]
    name = refs[0].get("$ref", "")
    return name.removeprefix(REF) or None


class Schemas:
    """Component schemas, built on demand: ``resource(rt)`` and ``kind(g, v, k)`` give the
    name of a kind's schema (adding it, its List and what they refer to)."""

    def __init__(self) -> None:
        self.components: dict[str, Obj] = {}
        self._names: dict[type, str] = {}
        self._resources: dict[tuple[str, str], str] = {}

    # -- lookups ---------------------------------------------------------------------
    def resolve(self, schema: Obj) -> Obj:
        """Follow ``$ref`` (bare or as the single ``allOf`` of a described property)."""
        while True:
            inner = schema["allOf"][0] if len(schema.get("allOf") or ()) == 1 else schema
            name = inner.get("$ref")
            if name is None:
                return schema
            schema = self.components[name.removeprefix(REF)]

    def of(self, rt: ResourceType) -> Obj:
        """The schema of ``rt``'s kind."""
        return self.components[self.resource(rt)]

    # -- building ----------------------------------------------------------------------
    def resource(self, rt: ResourceType) -> str:
        """The name of ``rt``'s kind's schema (added with its List)."""
        name = self._resources.get(rt.key)
        if name is None:
            fields = _UNMODELLED_FIELDS.get(rt.key, _CUSTOM_FIELDS)
            name = self.kind(rt.group, rt.version, rt.kind, fields)
            self._list(rt, name)
            meta = patchmeta.schema_for(rt)
            if meta is not None:
                self._overlay(name, meta)
            self._resources[rt.key] = name
        return name

    def kind(
        self, group: str, version: str, kind: str, fields: tuple[str, ...] = _CUSTOM_FIELDS
    ) -> str:
        """The schema of a kind: its client model's, or ``fields`` open to anything."""
        cls = _model(group, version, kind)
        if cls is not None:
            name = self._from_model(cls, _package(group))
        else:
            name = f"{_package(group)}.{version}.{kind}"
            if name not in self.components:
                properties = {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"allOf": [ref(self.meta("ObjectMeta"))]},
                }
                properties.update({field: dict(_OPEN) for field in fields})
                self.components[name] = {"type": "object", "properties": properties}
        self.components[name]["x-kubernetes-group-version-kind"] = [gvk(group, version, kind)]
        return name

    def meta(self, kind: str) -> str:
        """The schema of a meta/v1 type that is not a kind (ObjectMeta, DeleteOptions)."""
        cls = _model("", "v1", kind)
        assert cls is not None, kind
        return self._from_model(cls, META)

    def _list(self, rt: ResourceType, item: str) -> None:
        name = f"{item}List"
        self.components[name] = {
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "items": {"type": "array", "items": ref(item)},
                "kind": {"type": "string"},
                "metadata": {"allOf": [ref(self.meta("ListMeta"))]},
            },
            "x-kubernetes-group-version-kind": [gvk(rt.group, rt.version, f"{rt.kind}List")],
        }

    def _from_model(self, cls: Any, package: str) -> str:
        known = self._names.get(cls)
        if known is not None:
            return known
        parts = _MODEL_NAME.fullmatch(cls.__name__)
        assert parts is not None, cls.__name__
        short, version = parts["short"], parts["version"].lower()
        name = f"{META if short in _META_TYPES else package}.{version}.{short}"
        self._names[cls] = name
        schema: Obj = {"type": "object"}
        self.components[name] = schema
        description = _description(cls)
        if description:
            schema["description"] = description
        namespace = vars(inspect.getmodule(cls))
        # Fields named like Python keywords are renamed (``_continue`` is ``var_continue``).
        fields = {f.alias or attr: f for attr, f in cls.model_fields.items()}
        properties: Obj = {}
        required = []
        for attr, typ in cls.openapi_types.items():
            key = cls.attribute_map[attr]
            field = fields[attr]
            prop = self._property(typ, namespace, package)
            if "$ref" in prop:
                prop = {"allOf": [prop]}
            if field.description:
                prop = {"description": field.description, **prop}
            properties[key] = prop
            if field.is_required():
                required.append(key)
        schema["properties"] = properties
        if required:
            schema["required"] = required
        return name

    def _property(self, typ: str, namespace: dict[str, Any], package: str) -> Obj:
        if typ.startswith("List["):
            return {"type": "array", "items": self._property(typ[5:-1], namespace, package)}
        if typ.startswith("Dict[str, "):
            return {
                "type": "object",
                "additionalProperties": self._property(typ[10:-1], namespace, package),
            }
        if typ in _SCALARS:
            return dict(_SCALARS[typ])
        return ref(self._from_model(namespace[typ], package))

    def _overlay(self, name: str, meta: patchmeta.Schema) -> None:
        """Mark the lists patchmeta merges (by key, or as sets) on the schemas they are in."""
        properties = self.components[name]["properties"]
        for field, how in meta.items():
            prop = properties[field]
            if isinstance(how, patchmeta.MergeList):
                prop["x-kubernetes-patch-strategy"] = "merge"
                prop["x-kubernetes-patch-merge-key"] = how.key
                how = how.item
            elif how == patchmeta.SET:
                prop["x-kubernetes-patch-strategy"] = "merge"
                continue
            target = _target(prop)
            if isinstance(how, dict) and how and target is not None:
                self._overlay(target, how)
