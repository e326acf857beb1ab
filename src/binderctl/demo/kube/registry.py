"""The verbs of the API on the store, independent of HTTP: get, list, create, update,
patch, delete, deletecollection, and the status, scale and binding subresources.

Objects are served as stored; events.k8s.io/v1 is a converted view of the core events.
Stored objects are never changed in place: writes go through copies.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import (
    bad_request,
    conflict,
    forbidden,
    invalid,
    invalid_value,
    required,
    resource_name,
    status_success,
    unsupported_media_type,
)
from binderctl.demo.kube.defaults import apply_defaults
from binderctl.demo.kube.deletion import DeleteOptions, delete_object, finish_if_released
from binderctl.demo.kube.events import core_to_v1, v1_to_core
from binderctl.demo.kube.fields import FieldSelector
from binderctl.demo.kube.fieldvalidation import FieldValidation
from binderctl.demo.kube.labels import Selector, format_selector_spec
from binderctl.demo.kube.naming import random_suffix
from binderctl.demo.kube.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from binderctl.demo.kube.patchmeta import schema_for
from binderctl.demo.kube.podutil import set_condition
from binderctl.demo.kube.store import Obj, ResourceType, Store, StoreError, not_found
from binderctl.demo.kube.validation import validate, validate_update

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
# Kinds whose DELETE answers with the object rather than a Status.
RETURNS_DELETED = (types.PODS.key, types.SERVICES.key, types.NAMESPACES.key, types.HELMCHARTS.key)


def patch_types(rt: ResourceType, subresource: str = "") -> list[str]:
    """The patch content types a resource (or its scale) takes: strategic merge patch for
    built-in kinds only, as on a real server."""
    if subresource == "scale":
        return [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH]
    strategic = [STRATEGIC_PATCH] if schema_for(rt) is not None else []
    return [JSON_PATCH, MERGE_PATCH, *strategic, APPLY_PATCH]


@dataclass(frozen=True)
class View:
    """How a resource is stored (``backing``) and converted to and from what is served."""

    backing: ResourceType
    out: Callable[[Obj], Obj]
    into: Callable[[Obj], Obj]


def _same(obj: Obj) -> Obj:
    return obj


@dataclass(frozen=True)
class Page:
    items: list[Obj]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None


def _token(rv: int, start: str) -> str:
    data = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).encode()
    return base64.urlsafe_b64encode(data).decode()


def _untoken(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: illegal base64 data") from None


def _key(obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


class Registry:
    def __init__(self, store: Store, rng: random.Random | None = None) -> None:
        self.store = store
        self.rng = rng or random.Random()
        self.views: dict[tuple[str, str], View] = {
            types.EVENTS_V1.key: View(types.EVENTS, core_to_v1, v1_to_core)
        }

    def view(self, rt: ResourceType) -> View:
        return self.views.get(rt.key) or View(rt, _same, _same)

    # -- reads -------------------------------------------------------------------------
    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        return self.view(rt).out(self._current(rt, namespace, name))

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: Selector,
        fields: FieldSelector,
        *,
        limit: int = 0,
        continue_token: str = "",
    ) -> Page:
        view = self.view(rt)
        rv = self.store.resource_version
        start = ""
        if continue_token:
            rv, start = _untoken(continue_token)
        objects = self.store.list(view.backing, namespace)
        selected = []
        for obj in objects:
            served = view.out(obj)
            if labels.matches_object(served) and fields.matches(served):
                selected.append((_key(served), served))
        selected.sort(key=lambda pair: pair[0])
        if start:
            selected = [pair for pair in selected if pair[0] > start]
        if limit and len(selected) > limit:
            page = selected[:limit]
            return Page(
                [obj for _, obj in page],
                str(rv),
                _token(rv, page[-1][0]),
                len(selected) - limit,
            )
        return Page([obj for _, obj in selected], str(rv))

    # -- create ------------------------------------------------------------------------
    def _check_body(self, rt: ResourceType, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be an object")
        version = body.get("apiVersion")
        if version and version != rt.api_version:
            raise bad_request(
                f"the API version in the data ({version}) does not match the expected API "
                f"version ({rt.api_version})"
            )
        kind = body.get("kind")
        if kind and kind != rt.kind:
            raise bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        return body

    def _namespace(self, rt: ResourceType, body: Obj, namespace: str | None) -> None:
        meta = body.setdefault("metadata", {})
        if not rt.namespaced:
            meta.pop("namespace", None)
            return
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        meta["namespace"] = namespace

    def _admit_namespace(self, rt: ResourceType, name: str, namespace: str | None) -> None:
        if not rt.namespaced:
            return
        ns = self.store.find(types.NAMESPACES, None, namespace or "")
        if ns is None:
            raise not_found(types.NAMESPACES, namespace or "")
        if ns["metadata"].get("deletionTimestamp"):
            raise forbidden(
                rt,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def create(
        self,
        rt: ResourceType,
        namespace: str | None,
        body: Any,
        *,
        dry_run: bool = False,
        validation: FieldValidation | None = None,
    ) -> Obj:
        """``validation``: the request's field validation (None for writes not from HTTP)."""
        view = self.view(rt)
        obj = copy.deepcopy(self._check_body(rt, body))
        if validation is not None:
            validation.decoded(rt, obj)
        self._namespace(rt, obj, namespace)
        obj = view.into(obj)
        meta = obj["metadata"]
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            meta.pop(field, None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(view.backing, namespace, meta["generateName"])
        meta["uid"] = str(uuid.uuid4())
        if "status" in view.backing.subresources and view.backing is not types.NODES:
            obj["status"] = {}
        try:
            apply_defaults(self.store, view.backing, obj)
        except (AttributeError, TypeError) as exc:
            raise bad_request(
                f"the body of the request has a field of the wrong type: {exc}"
            ) from None
        validate(rt, obj)
        self._admit_namespace(rt, meta["name"], namespace)
        if dry_run:
            if self.store.find(view.backing, namespace, meta["name"]) is not None:
                raise _already_exists(rt, meta["name"])
            obj["apiVersion"], obj["kind"] = view.backing.api_version, view.backing.kind
            return view.out(obj)
        try:
            return view.out(self.store.create(view.backing, obj))
        except StoreError as err:
            if err.code == 409:
                raise _already_exists(rt, meta["name"]) from None
            raise

    def _generate_name(self, rt: ResourceType, namespace: str | None, prefix: str) -> str:
        while True:
            name = prefix + random_suffix(self.rng)
            if self.store.find(rt, namespace, name) is None:
                return name

    # -- update and patch --------------------------------------------------------------
    def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str = "",
        dry_run: bool = False,
        validation: FieldValidation | None = None,
    ) -> Obj:
        view = self.view(rt)
        current = self._current(rt, namespace, name)
        obj = copy.deepcopy(self._check_body(rt, body))
        if validation is not None:
            validation.decoded(rt, obj)
        if obj.get("metadata", {}).get("name", name) != name:
            raise bad_request(
                f"the name of the object ({obj['metadata']['name']}) does not match the name on "
                f"the URL ({name})"
            )
        self._namespace(rt, obj, namespace)
        obj["metadata"]["name"] = name
        return self._write(rt, view, current, view.into(obj), subresource, dry_run)

    def _current(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        try:
            return self.store.get(self.view(rt).backing, namespace, name)
        except StoreError as err:
            if err.code == 404:
                raise not_found(rt, name) from None
            raise

    def _write(
        self,
        rt: ResourceType,
        view: View,
        current: Obj,
        new: Obj,
        subresource: str,
        dry_run: bool,
    ) -> Obj:
        backing = view.backing
        meta, old_meta = new.setdefault("metadata", {}), current["metadata"]
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(current)
            new["metadata"]["resourceVersion"] = meta.get("resourceVersion")
            new["status"] = status
        elif "status" in backing.subresources:
            new["status"] = copy.deepcopy(current.get("status"))
        validate_update(rt, new, current)
        wanted = meta.get("resourceVersion")
        if wanted and wanted != old_meta.get("resourceVersion"):
            raise conflict(
                rt,
                old_meta["name"],
                "the object has been modified; please apply your changes to the latest version "
                "and try again",
            )
        if dry_run:
            return view.out(new)
        stored = self.store.replace(backing, new, check_version=False)
        finish_if_released(self.store, backing, stored)
        return view.out(stored)

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        content_type: str,
        raw: bytes,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str = "",
        validation: FieldValidation | None = None,
    ) -> tuple[Obj, bool]:
        """Returns (the object, whether it was created by an apply)."""
        view = self.view(rt)
        kind = content_type.split(";")[0].strip().lower()
        try:
            patch = yaml.safe_load(raw) if kind == APPLY_PATCH else json.loads(raw or b"null")
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        if kind == APPLY_PATCH:
            if not field_manager:
                raise bad_request(
                    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                    "is required for apply patch"
                )
            if self.store.find(view.backing, namespace, name) is None:
                return self.create(rt, namespace, patch, dry_run=dry_run), True
        current = self._current(rt, namespace, name)
        served = view.out(current)
        schema = schema_for(rt)
        try:
            if kind == JSON_PATCH:
                patched = json_patch(served, patch)
            elif kind == MERGE_PATCH:
                patched = merge_patch(served, patch)
            elif kind == STRATEGIC_PATCH and schema is not None:
                patched = strategic_merge_patch(served, patch, schema)
            elif kind == APPLY_PATCH:
                self._check_body(rt, patch)
                patched = (
                    strategic_merge_patch(served, patch, schema)
                    if schema is not None
                    else merge_patch(served, patch)
                )
            else:
                raise unsupported_media_type(content_type, patch_types(rt))
        except PatchError as err:
            if err.code == 400:
                raise bad_request(err.message) from None
            raise StoreError(422, "Invalid", err.message) from None
        if not isinstance(patched, dict):
            raise StoreError(422, "Invalid", "the patched object is not a JSON object")
        if validation is not None and kind != APPLY_PATCH:
            validation.patched(rt, patch, patched, strategic=kind == STRATEGIC_PATCH)
        patched.setdefault("metadata", {})
        if patched["metadata"].get("name") != name:
            raise bad_request(
                f"the name of the object ({patched['metadata'].get('name')}) does not match the "
                f"name on the URL ({name})"
            )
        return self._write(rt, view, current, view.into(patched), subresource, dry_run), False

    # -- delete ------------------------------------------------------------------------
    def delete(
        self, rt: ResourceType, namespace: str | None, name: str, options: DeleteOptions
    ) -> Obj:
        view = self.view(rt)
        self._current(rt, namespace, name)
        obj, gone = delete_object(self.store, view.backing, namespace, name, options)
        if not gone or rt.key in RETURNS_DELETED:
            return view.out(obj)
        return status_success(
            200,
            {"name": name, "group": rt.group, "kind": rt.plural, "uid": obj["metadata"].get("uid")},
        )

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: Selector,
        fields: FieldSelector,
        options: DeleteOptions,
    ) -> Obj:
        view = self.view(rt)
        page = self.list(rt, namespace, labels, fields)
        items = []
        for obj in page.items:
            meta = obj["metadata"]
            try:
                items.append(
                    view.out(
                        delete_object(
                            self.store, view.backing, meta.get("namespace"), meta["name"], options
                        )[0]
                    )
                )
            except StoreError as err:
                if err.code != 404:
                    raise
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": str(self.store.resource_version)},
            "items": items,
        }

    # -- subresources ------------------------------------------------------------------
    def scale(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self._current(rt, namespace, name)
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                key: meta[key]
                for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if key in meta
            },
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {
                "replicas": (obj.get("status") or {}).get("replicas", 0),
                "selector": format_selector_spec(obj["spec"].get("selector")).replace("<none>", ""),
            },
        }

    def update_scale(self, rt: ResourceType, namespace: str | None, name: str, scale: Any) -> Obj:
        if not isinstance(scale, dict):
            raise bad_request("the body of the request must be a Scale object")
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise invalid(
                rt,
                name,
                [invalid_value("spec.replicas", replicas, "must be greater than or equal to 0")],
            )
        current = copy.deepcopy(self._current(rt, namespace, name))
        wanted = (scale.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise conflict(
                rt,
                name,
                "the object has been modified; please apply your changes to the latest version "
                "and try again",
            )
        current["spec"]["replicas"] = replicas
        self.store.replace(rt, current, check_version=False)
        return self.scale(rt, namespace, name)

    def patch_scale(
        self, rt: ResourceType, namespace: str | None, name: str, content_type: str, raw: bytes
    ) -> Obj:
        kind = content_type.split(";")[0].strip().lower()
        try:
            patch = json.loads(raw or b"null")
            scale = self.scale(rt, namespace, name)
            if kind == JSON_PATCH:
                patched = json_patch(scale, patch)
            elif kind in (MERGE_PATCH, STRATEGIC_PATCH):
                patched = merge_patch(scale, patch)
            else:
                raise unsupported_media_type(content_type, patch_types(rt, "scale"))
        except ValueError as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        except PatchError as err:
            raise StoreError(422 if err.code == 422 else 400, "Invalid", err.message) from None
        return self.update_scale(rt, namespace, name, patched)

    def bind(self, namespace: str, name: str, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a Binding object")
        target = body.get("target") or {}
        node = target.get("name")
        if not node:
            raise invalid(types.PODS, name, [required("target.name")])
        pod = self._current(types.PODS, namespace, name)
        assigned = pod["spec"].get("nodeName")
        if assigned:
            raise StoreError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is already '
                f'assigned to node "{assigned}"',
                {"name": name, "kind": "pods/binding"},
            )

        def assign(obj: Obj) -> None:
            obj["spec"]["nodeName"] = node
            set_condition(obj.setdefault("status", {}), "PodScheduled", "True", probe_time=True)

        self.store.mutate(types.PODS, namespace, name, assign)
        return status_success(201)


def _already_exists(rt: ResourceType, name: str) -> StoreError:
    return StoreError(
        409,
        "AlreadyExists",
        f'{resource_name(rt)} "{name}" already exists',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )
