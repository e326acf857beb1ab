"""The OpenAPI v3 documents of the served API, published as kube-apiserver publishes them
(k8s.io/kube-openapi's handler3): ``/openapi/v3`` lists a document per group-version with
a ``serverRelativeURL`` carrying the hash of its content, and ``/openapi/v3/api/v1`` or
``/openapi/v3/apis/<group>/<version>`` is that document: the paths and operations the
emulator serves, with their parameters and ``x-kubernetes-*`` extensions, and the schemas
of the kinds they take and give (schemas.py).

kubectl reads them to learn that the server validates fields itself (the
``fieldValidation`` parameter of PATCH), to compute the patches of ``apply`` and to
``explain`` kinds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote

from aiohttp import web

from binderctl.demo.kube.discovery import SUBRESOURCES
from binderctl.demo.kube.registry import RETURNS_DELETED, patch_types
from binderctl.demo.kube.schemas import Schemas, gvk, ref
from binderctl.demo.kube.store import Obj, ResourceType

JSON = "application/json"
PATCH_BODY = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_LIST = (
    ("allowWatchBookmarks", "boolean"), ("continue", "string"), ("fieldSelector", "string"),
    ("labelSelector", "string"), ("limit", "integer"), ("resourceVersion", "string"),
    ("resourceVersionMatch", "string"), ("sendInitialEvents", "boolean"),
    ("timeoutSeconds", "integer"), ("watch", "boolean"),
)  # fmt: skip
_WRITE = (("dryRun", "string"), ("fieldManager", "string"), ("fieldValidation", "string"))
_DELETE = (
    ("dryRun", "string"), ("gracePeriodSeconds", "integer"),
    ("ignoreStoreReadErrorWithClusterBreakingPotential", "boolean"),
    ("orphanDependents", "boolean"), ("propagationPolicy", "string"),
)  # fmt: skip
_LOG = (
    ("container", "string"), ("follow", "boolean"), ("insecureSkipTLSVerifyBackend", "boolean"),
    ("limitBytes", "integer"), ("previous", "boolean"), ("sinceSeconds", "integer"),
    ("stream", "string"), ("tailLines", "integer"), ("timestamps", "boolean"),
)  # fmt: skip
_UNWATCHED_LIST = tuple(p for p in _LIST if p[0] not in ("allowWatchBookmarks", "watch"))
_OPTION_PARAMS = {
    "list": _LIST,
    "create": _WRITE,
    "update": _WRITE,
    "patch": (*_WRITE, ("force", "boolean")),
    "delete": _DELETE,
    "deletecollection": (*_UNWATCHED_LIST, *_DELETE),
}
# Kubernetes verb -> (HTTP method, operation id prefix, x-kubernetes-action)
_VERBS = {
    "get": ("get", "read", "get"),
    "list": ("get", "list", "list"),
    "create": ("post", "create", "post"),
    "update": ("put", "replace", "put"),
    "patch": ("patch", "patch", "patch"),
    "delete": ("delete", "delete", "delete"),
    "deletecollection": ("delete", "deletecollection", "deletecollection"),
}
_COLLECTION_VERBS = ("list", "create", "deletecollection")
_OBJECT_VERBS = ("get", "update", "patch", "delete")


def etag(body: bytes) -> str:
    return hashlib.sha512(body).hexdigest().upper()


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _operation_word(text: str, capitalize: bool = True) -> str:
    """k8s.io/apiserver's ToValidOperationID: letters kept, a letter after anything
    else capitalised (``helm.cattle.io`` -> ``HelmCattleIo``)."""
    out = []
    for index, char in enumerate(text):
        if char.isalpha() or char == "_" or (index and char.isdigit()):
            out.append(char.upper() if capitalize else char)
            capitalize = False
        else:
            capitalize = True
    return "".join(out)


def _article(noun: str) -> str:
    if noun.endswith("s") and not noun.endswith("ss"):
        return " "
    return " an " if noun[0].lower() in "aeiou" else " a "


def _param(name: str, kind: str, where: str = "query") -> Obj:
    param: Obj = {"name": name, "in": where}
    if where == "path":
        param["required"] = True
    param["schema"] = {"type": kind, "uniqueItems": True}
    return param


def _content(schema: Obj, *types: str) -> Obj:
    return {t: {"schema": schema} for t in types or (JSON,)}


@dataclass(frozen=True)
class _Path:
    """One path of a resource: its collection, its objects, or a subresource of them."""

    rt: ResourceType
    namespaced: bool  # the path has a {namespace}
    item: bool  # the path has a {name}
    subresource: str = ""
    all_namespaces: bool = False

    @property
    def url(self) -> str:
        rt = self.rt
        base = "/" + gv_path(rt.group, rt.version)
        parts = [base, "namespaces/{namespace}"] if self.namespaced else [base]
        parts.append(rt.plural)
        if self.item:
            parts.append("{name}")
        if self.subresource:
            parts.append(self.subresource)
        return "/".join(parts)

    def verbs(self) -> tuple[str, ...]:
        if self.subresource:
            return SUBRESOURCES[self.subresource].verbs
        wanted: tuple[str, ...] = _OBJECT_VERBS if self.item else _COLLECTION_VERBS
        if self.all_namespaces:
            wanted = ("list",)
        return tuple(v for v in wanted if v in self.rt.verbs)


class _Builder:
    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas

    def _kind(self, path: _Path) -> Obj:
        """The GVK the path's operations take or give."""
        rt = path.rt
        sub = SUBRESOURCES.get(path.subresource)
        if sub is None or not sub.kind or sub.kind == rt.kind:
            return gvk(rt.group, rt.version, rt.kind)
        group = rt.group if sub.group is None else sub.group
        return gvk(group, sub.version or rt.version, sub.kind)

    def _schema(self, path: _Path) -> Obj:
        if path.subresource == "log":
            return {"type": "string"}
        kind = self._kind(path)
        if kind == gvk(path.rt.group, path.rt.version, path.rt.kind):
            return ref(self.schemas.resource(path.rt))
        return ref(self.schemas.kind(kind["group"], kind["version"], kind["kind"]))

    def _status(self) -> Obj:
        return ref(self.schemas.kind("", "v1", "Status"))

    def operation(self, path: _Path, verb: str) -> tuple[str, Obj]:
        rt, sub = path.rt, path.subresource
        method, prefix, action = _VERBS[verb]
        group = rt.group.removesuffix(".k8s.io") or "core"
        scope = "Namespaced" if path.namespaced else ""
        suffix = "ForAllNamespaces" if path.all_namespaces else ""
        operation_id = (
            prefix
            + _operation_word(group)
            + _operation_word(rt.version)
            + _operation_word(scope + rt.kind + sub.title() + suffix)
        )
        op: Obj = {
            "tags": [f"{_operation_word(group, False)}_{_operation_word(rt.version, False)}"],
            "description": self._description(path, verb),
            "operationId": operation_id,
            "parameters": [_param(n, t) for n, t in self._options(path, verb)],
        }
        schema = self._schema(path)
        if verb in ("create", "update"):
            op["requestBody"] = {"content": _content(schema, "*/*")}
        elif verb == "patch":
            self.schemas.components[PATCH_BODY] = {
                "description": "Patch is provided to give a concrete name and type to the "
                "Kubernetes PATCH request body.",
                "type": "object",
            }
            op["requestBody"] = {"content": _content(ref(PATCH_BODY), *patch_types(rt, sub))}
        elif verb in ("delete", "deletecollection"):
            op["requestBody"] = {
                "content": _content(ref(self.schemas.meta("DeleteOptions")), "*/*")
            }
        op["responses"] = self._responses(path, verb, schema)
        op["x-kubernetes-action"] = action
        op["x-kubernetes-group-version-kind"] = self._kind(path)
        return method, op

    def _description(self, path: _Path, verb: str) -> str:
        kind, sub = path.rt.kind, path.subresource
        if verb == "list":
            watched = "list or watch" if "watch" in path.rt.verbs else "list"
            return f"{watched} objects of kind {kind}"
        if verb == "deletecollection":
            return f"delete collection of {kind}"
        if verb in ("create", "delete"):
            return (
                f"{verb} {sub} of{_article(kind)}{kind}" if sub else f"{verb}{_article(kind)}{kind}"
            )
        doing = {"get": "read", "update": "replace", "patch": "partially update"}[verb]
        return f"{doing} {sub} of the specified {kind}" if sub else f"{doing} the specified {kind}"

    @staticmethod
    def _options(path: _Path, verb: str) -> tuple[tuple[str, str], ...]:
        if path.subresource == "log":
            return _LOG
        return _OPTION_PARAMS.get(verb, ())

    def _responses(self, path: _Path, verb: str, schema: Obj) -> Obj:
        ok = "OK"
        if verb == "list":
            listed = ref(self.schemas.resource(path.rt) + "List")
            return {
                "200": {
                    "description": ok,
                    "content": _content(listed, JSON, f"{JSON};stream=watch"),
                },
                "401": {"description": "Unauthorized"},
            }
        if verb == "deletecollection" or (verb == "delete" and path.rt.key not in RETURNS_DELETED):
            schema = self._status()
        content = _content(schema, "text/plain") if path.subresource == "log" else _content(schema)
        codes = {
            "get": ("200",),
            "update": ("200", "201"),
            "patch": ("200", "201"),
            "create": ("200", "201", "202"),
            "delete": ("200", "202"),
            "deletecollection": ("200",),
        }[verb]
        words = {"200": ok, "201": "Created", "202": "Accepted"}
        responses: Obj = {code: {"description": words[code], "content": content} for code in codes}
        responses["401"] = {"description": "Unauthorized"}
        return responses

    def path_item(self, path: _Path) -> Obj | None:
        """The path's operations, with the parameters they all share moved to the path,
        as the real document has them."""
        operations = [self.operation(path, verb) for verb in path.verbs()]
        if not operations:
            return None
        common = [_param("name", "string", "path")] if path.item else []
        if path.namespaced:
            common.append(_param("namespace", "string", "path"))
        common.append(_param("pretty", "string"))
        for _, op in operations:
            op["parameters"] = common + op["parameters"]
        shared = [
            p
            for p in operations[0][1]["parameters"]
            if all(p in op["parameters"] for _, op in operations)
        ]
        item: Obj = {}
        for method, op in operations:
            own = sorted((p for p in op["parameters"] if p not in shared), key=lambda p: p["name"])
            if own:
                op["parameters"] = own
            else:
                del op["parameters"]
            item[method] = op
        item["parameters"] = sorted(shared, key=lambda p: p["name"])
        return item

    def paths(self, kinds: list[ResourceType]) -> Obj:
        paths: Obj = {}
        for rt in kinds:
            candidates = [_Path(rt, rt.namespaced, False), _Path(rt, rt.namespaced, True)]
            if rt.namespaced:
                candidates.append(_Path(rt, False, False, all_namespaces=True))
            candidates += [_Path(rt, rt.namespaced, True, sub) for sub in rt.subresources]
            for path in candidates:
                item = self.path_item(path)
                if item is not None:
                    paths[path.url] = item
        return dict(sorted(paths.items()))


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str
    schemas: Schemas  # the schemas it serves, which field validation checks against


@dataclass(frozen=True)
class OpenAPI:
    discovery: bytes
    discovery_etag: str
    documents: dict[str, Document]  # by group-version path: "api/v1", "apis/apps/v1"
    modified: float

    def schemas(self, rt: ResourceType) -> Schemas:
        return self.documents[gv_path(rt.group, rt.version)].schemas


@functools.cache
def build(kinds: tuple[ResourceType, ...], server_version: str) -> OpenAPI:
    """The documents of ``kinds``, built once (the client's models load in about 0.5 s)."""
    groups: dict[str, list[ResourceType]] = {}
    for rt in kinds:
        groups.setdefault(gv_path(rt.group, rt.version), []).append(rt)
    documents = {}
    for path, members in groups.items():
        schemas = Schemas()
        paths = _Builder(schemas).paths(members)
        body = json.dumps(
            {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": server_version},
                "paths": paths,
                "components": {"schemas": dict(sorted(schemas.components.items()))},
            },
            separators=(",", ":"),
        ).encode()
        documents[path] = Document(body, etag(body), schemas)
    discovery = json.dumps(
        {
            "paths": {
                path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={document.etag}"}
                for path, document in sorted(documents.items())
            }
        },
        separators=(",", ":"),
    ).encode()
    return OpenAPI(discovery, etag(discovery), documents, time.time())


def _unchanged(request: web.Request, tag: str, modified: float) -> bool:
    """http.ServeContent's conditional GET: If-None-Match, else If-Modified-Since."""
    match = request.headers.get("If-None-Match")
    if match is not None:
        return any(t.strip() in (f'"{tag}"', "*") for t in match.split(","))
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return int(modified) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


def _serve(
    request: web.Request, body: bytes, tag: str, modified: float, headers: dict[str, str]
) -> web.Response:
    headers = {**headers, "Etag": f'"{tag}"', "Last-Modified": formatdate(modified, usegmt=True)}
    if _unchanged(request, tag, modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": JSON})


def _accepts_json(accept: str) -> bool:
    for clause in (accept or "*/*").split(","):
        base = clause.split(";")[0].strip().lower()
        if base in (JSON, "application/*", "*/*"):
            return True
    return False


def serve(request: web.Request, openapi: OpenAPI, rest: list[str]) -> web.Response:
    """``GET /openapi/v3`` (``rest`` empty) or ``/openapi/v3/<rest>``."""
    if not rest:
        return _serve(request, openapi.discovery, openapi.discovery_etag, openapi.modified, {})
    path = "/".join(rest)
    headers = {"Vary": "Accept"}
    if not _accepts_json(request.headers.get("Accept", "")):
        return web.Response(status=406, headers=headers)  # JSON only: no protobuf here
    document = openapi.documents.get(path)
    if document is None:
        # handler3 writes nothing for a group-version it does not have: 200, empty.
        return web.Response(headers=headers)
    wanted = request.query.get("hash")
    if wanted:
        if wanted != document.etag:
            location = f"/openapi/v3/{quote(path)}?hash={document.etag}"
            return web.Response(status=301, headers={**headers, "Location": location})
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = formatdate(time.time() + 365 * 86400, usegmt=True)
    return _serve(request, document.body, document.etag, openapi.modified, headers)
