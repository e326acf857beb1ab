"""The Kubernetes API server emulator: HTTPS with client-certificate authentication like
k3s, discovery, the verbs, watches, tables, logs and metrics, over a ``Store``.

Usage (on the emulator loop)::

    server = KubeAPIServer(store, logs, metrics)
    url = await server.start("127.0.0.1", 0)
    await server.add_address(node_ip, 6443)

``server.faults`` holds the knobs tests turn (latency, dropped watches, compaction,
restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import yaml
from aiohttp import web

from binderctl.demo.kube import discovery, openapi, types
from binderctl.demo.kube.apierrors import (
    bad_request,
    internal,
    method_not_allowed,
    not_acceptable,
    path_not_found,
    status_failure,
    unauthorized,
    unsupported_media_type,
)
from binderctl.demo.kube.deletion import DeleteOptions
from binderctl.demo.kube.eviction import evict
from binderctl.demo.kube.fields import FieldSelector, parse_or_400
from binderctl.demo.kube.fieldvalidation import FieldValidation
from binderctl.demo.kube.labels import Selector, parse_selector
from binderctl.demo.kube.logs import (
    LogOptions,
    before_current,
    render,
    select,
    why_no_log,
)
from binderctl.demo.kube.metrics import MetricsAPI
from binderctl.demo.kube.nodeproxy import node_proxy
from binderctl.demo.kube.query import flag, integer
from binderctl.demo.kube.registry import Registry
from binderctl.demo.kube.sources import (
    KubeletSource,
    LogFollower,
    LogLine,
    LogSource,
    MetricsSource,
)
from binderctl.demo.kube.store import Obj, ResourceType, Store, StoreError
from binderctl.demo.kube.tables import partial_metadata, to_table
from binderctl.demo.kube.tls import ClusterCredentials, client_is_valid, generate
from binderctl.demo.kube.watch import WatchRequest, WatchSession

log = logging.getLogger(__name__)

JSON = "application/json"
BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
FOLLOW_BATCH = 5000  # lines of a followed log held for a client that reads slower


@dataclass
class Drop:
    """``faults.drop``: the connections of the next ``times`` matching requests are
    dropped, ``hold`` seconds after they arrive: ``after`` the request took effect (its
    answer is lost) or before (it never does; a client gone meanwhile cancels it)."""

    method: str
    path: str  # regular expression, full match on the request path
    after: bool = True
    times: int = 1
    hold: float = 0.0
    seen: int = 0


class Faults:
    """Fault knobs: ``latency`` (seconds added to every request; ``delayed`` counts the
    requests it held back), dropped requests (``drop``) and actions."""

    def __init__(self, server: KubeAPIServer) -> None:
        self._server = server
        self.latency = 0.0
        self.delayed = 0
        self.drops: list[Drop] = []

    def drop(
        self, method: str, path: str, *, after: bool = True, times: int = 1, hold: float = 0.0
    ) -> Drop:
        rule = Drop(method, path, after, times, hold)
        self.drops.append(rule)
        return rule

    def dropping(self, method: str, path: str) -> Drop | None:
        for rule in self.drops:
            if rule.seen < rule.times and rule.method == method and re.fullmatch(rule.path, path):
                rule.seen += 1
                return rule
        return None

    def drop_watches(self) -> None:
        """End every open watch and log stream now (clients must re-watch)."""
        self._server.end_streams()

    def compact(self) -> None:
        """Forget the event history: the next watch from an older version gets 410."""
        self._server.store.compact()

    async def restart(self) -> None:
        """Close every connection, as an API server restart does; the state is kept."""
        await self._server.close_connections()


@dataclass(frozen=True)
class _Target:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str


@dataclass(frozen=True)
class _Output:
    form: str  # "json", "table" or "partial"
    api_version: str = ""


def _parse_media(text: str) -> tuple[str, dict[str, str]]:
    base, *params = [p.strip() for p in text.split(";")]
    parsed = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip()] = value.strip()
    return base.lower(), parsed


def _negotiate(accept: str) -> _Output:
    if not accept.strip():
        return _Output("json")
    for media in accept.split(","):
        base, params = _parse_media(media)
        if base not in (JSON, "*/*", "application/*"):
            continue
        shape = params.get("as")
        if shape is None:
            return _Output("json")
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        if shape == "Table":
            return _Output("table", f"meta.k8s.io/{params['v']}")
        if shape in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return _Output("partial", f"meta.k8s.io/{params['v']}")
    raise not_acceptable(accept)


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _json(body: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=_dumps(body), status=status, headers={"Content-Type": content_type})


def _error(err: StoreError) -> web.Response:
    response = _json(status_failure(err), err.code)
    retry = err.details.get("retryAfterSeconds") if err.details else None
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


async def _drop(request: web.Request, drop: Drop) -> None:
    await asyncio.sleep(drop.hold)
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def _warned(response: web.Response, validation: FieldValidation) -> web.Response:
    """A write's answer with the warnings of its field validation, as Warning headers."""
    for text in validation.warnings:
        response.headers.add("Warning", f"299 - {json.dumps(text)}")
    return response


def _table_type(api_version: str) -> str:
    return f"{JSON};as=Table;v={api_version.split('/')[1]};g=meta.k8s.io"


class KubeAPIServer:
    def __init__(
        self,
        store: Store,
        logs: LogSource | None = None,
        metrics: MetricsSource | None = None,
        *,
        credentials: ClusterCredentials | None = None,
        version: discovery.VersionInfo | None = None,
        rng: random.Random | None = None,
        bookmark_interval: float = 60.0,
        kubelets: KubeletSource | None = None,
    ) -> None:
        self.store = store
        self.kubelets = kubelets
        for rt in types.ALL:
            if store.type_for(rt.group, rt.plural) is None:
                store.register(rt)
        self.logs = logs
        self.metrics = MetricsAPI(store, metrics) if metrics is not None else None
        self.credentials = credentials or generate()
        self.version = version or discovery.VersionInfo()
        self.registry = Registry(store, rng)
        self.bookmark_interval = bookmark_interval
        self.faults = Faults(self)
        self._runner: web.AppRunner | None = None
        self._sessions: set[WatchSession] = set()
        self._streams: set[asyncio.Event] = set()

    # -- lifecycle -----------------------------------------------------------------------
    def served_types(self) -> list[ResourceType]:
        served = [rt for rt in self.store.types.values()]
        if self.metrics is not None:
            served += [types.NODE_METRICS, types.POD_METRICS]
        return served

    def _bootstrap(self) -> None:
        """What kube-apiserver creates at start: system namespaces, the kubernetes service."""
        for name in BOOTSTRAP_NAMESPACES:
            if self.store.find(types.NAMESPACES, None, name) is None:
                self.registry.create(types.NAMESPACES, None, {"metadata": {"name": name}})
        if self.store.find(types.SERVICES, "default", "kubernetes") is None:
            self.registry.create(
                types.SERVICES,
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": "10.43.0.1",
                        "ports": [
                            {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
                        ],
                    },
                },
            )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); returns ``https://host:port``."""
        if self._runner is None:
            self._bootstrap()
            app = web.Application(client_max_size=16 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(
                app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
            )
            await self._runner.setup()
        return await self.add_address(host, port)

    async def add_address(self, host: str, port: int) -> str:
        """Also listen on ``host:port`` (a node's own address, like ``<ip>:6443``)."""
        assert self._runner is not None, "start() first"
        before = {tuple(a[:2]) for a in self._runner.addresses}
        site = web.TCPSite(
            self._runner,
            host,
            port,
            ssl_context=self.credentials.server_context(),
            reuse_address=True,
        )
        await site.start()
        added = [tuple(a[:2]) for a in self._runner.addresses if tuple(a[:2]) not in before]
        bound = added[0][1] if added else port
        url = f"https://{host}:{bound}"
        return url

    @property
    def open_streams(self) -> int:
        """Watches and log follows being served."""
        return len(self._sessions) + len(self._streams)

    def end_streams(self) -> None:
        for session in list(self._sessions):
            session.close()
        for stop in list(self._streams):
            stop.set()

    async def close_connections(self) -> None:
        self.end_streams()
        if self._runner is not None and self._runner.server is not None:
            for connection in self._runner.server.connections:
                connection.force_close()

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.close_connections()
        await self._runner.cleanup()
        self._runner = None

    # -- HTTP ------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            if self.faults.latency:
                self.faults.delayed += 1
                await asyncio.sleep(self.faults.latency)
            transport = request.transport
            peer = transport.get_extra_info("peercert") if transport is not None else None
            if not client_is_valid(peer, time.time()):
                raise unauthorized()
            drop = self.faults.dropping(request.method, request.path)
            if drop is not None and not drop.after:
                await _drop(request, drop)
            response = await self._route(request)
            if drop is not None:
                await _drop(request, drop)
            return response
        except StoreError as err:
            return _error(err)
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("kube emulator: %s %s failed", request.method, request.path_qs)
            return _error(
                internal("an error on the server has prevented the request from succeeding")
            )

    async def _route(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if request.method != "GET" and parts[:1] != ["api"] and parts[:1] != ["apis"]:
            raise method_not_allowed()
        if parts == ["version"]:
            return _json(self.version.document())
        if parts[:2] == ["openapi", "v3"]:
            return openapi.serve(request, self._openapi(), parts[2:])
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok", content_type="text/plain")
        if parts == ["api"]:
            return self._discovery(request, core=True)
        if parts == ["apis"]:
            return self._discovery(request, core=False)
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        elif len(parts) == 2 and parts[0] == "apis":
            found = discovery.api_group(self.served_types(), parts[1])
            if found is None:
                raise path_not_found()
            return _json(found)
        else:
            raise path_not_found()
        if not group and len(rest) >= 3 and rest[0] == "nodes" and rest[2] == "proxy":
            return node_proxy(request, self.store, self.kubelets, rest[1], "/".join(rest[3:]))
        if not rest:
            resources = discovery.api_resource_list(self.served_types(), group, version)
            if resources is None or request.method != "GET":
                raise path_not_found()
            return _json(resources)
        return await self._resource(request, self._target(group, version, rest))

    def _openapi(self) -> openapi.OpenAPI:
        return openapi.build(tuple(self.served_types()), self.version.git_version)

    def _validation(self, request: web.Request, rt: ResourceType, options: str) -> FieldValidation:
        return FieldValidation.parse(request.query, options, self._openapi().schemas(rt))

    def _discovery(self, request: web.Request, *, core: bool) -> web.Response:
        accept = request.headers.get("Accept", "")
        if any(
            _parse_media(m)[1].get("as") == "APIGroupDiscoveryList"
            and _parse_media(m)[1].get("v") == "v2"
            for m in accept.split(",")
        ):
            body = discovery.aggregated(self.served_types(), core=core)
            return _json(body, content_type=discovery.AGGREGATED_V2)
        if core:
            return _json(discovery.api_versions(request.host))
        return _json(discovery.api_group_list(self.served_types()))

    def _target(self, group: str, version: str, rest: list[str]) -> _Target:
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise path_not_found()
        rt = next(
            (
                t
                for t in self.served_types()
                if t.group == group and t.version == version and t.plural == rest[0]
            ),
            None,
        )
        if rt is None or (namespace is not None and not rt.namespaced):
            raise path_not_found()
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else ""
        if rt.namespaced and name is not None and namespace is None:
            raise path_not_found()
        if subresource and subresource not in rt.subresources:
            raise path_not_found()
        return _Target(rt, namespace, name, subresource)

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        kind = request.headers.get("Content-Type", JSON).split(";")[0].strip().lower()
        try:
            if kind in ("application/yaml", "application/x-yaml"):
                return yaml.safe_load(raw)
            if kind in (JSON, "") or kind.endswith("+json"):
                return json.loads(raw) if raw else None
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"error decoding the request body: {exc}") from None
        raise unsupported_media_type(kind, [JSON, "application/yaml"])

    def _selectors(self, rt: ResourceType, query: Any) -> tuple[Selector, FieldSelector]:
        label_text = query.get("labelSelector", "")
        try:
            labels = parse_selector(label_text)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        return labels, parse_or_400(rt, query.get("fieldSelector", ""), label_text)

    async def _resource(self, request: web.Request, target: _Target) -> web.StreamResponse:
        if target.rt in (types.NODE_METRICS, types.POD_METRICS):
            return self._metrics(request, target)
        sub, method = target.subresource, request.method
        namespace, name = target.namespace or "", target.name or ""
        if sub == "log" and method == "GET":
            return await self._logs(request, target)
        if sub == "eviction" and method == "POST":
            return _json(evict(self.store, namespace, name, await self._body(request) or {}), 201)
        if sub == "binding" and method == "POST":
            return _json(self.registry.bind(namespace, name, await self._body(request)), 201)
        if sub == "scale":
            return await self._scale(request, target)
        if sub in ("log", "eviction", "binding"):
            raise method_not_allowed()
        if target.name is None:
            return await self._collection(request, target)
        return await self._object(request, target)

    async def _collection(self, request: web.Request, target: _Target) -> web.StreamResponse:
        rt, query = target.rt, request.query
        if request.method == "GET":
            watching = flag(query.get("watch"))
            self._allow(rt, "watch" if watching else "list")
            return await self._watch(request, target) if watching else self._list(request, target)
        if request.method == "POST":
            self._allow(rt, "create")
            validation = self._validation(request, rt, "CreateOptions")
            body = await self._body(request)
            dry_run = query.get("dryRun") == "All"
            created = self.registry.create(
                rt, target.namespace, body, dry_run=dry_run, validation=validation
            )
            return _warned(self._respond(request, rt, created, 201), validation)
        if request.method == "DELETE":
            self._allow(rt, "deletecollection")
            labels, fields = self._selectors(rt, query)
            options = DeleteOptions.parse(await self._body(request), query)
            deleted = self.registry.delete_collection(rt, target.namespace, labels, fields, options)
            return _json(deleted)
        raise method_not_allowed()

    async def _object(self, request: web.Request, target: _Target) -> web.StreamResponse:
        rt, query, name, sub = target.rt, request.query, target.name or "", target.subresource
        dry_run = query.get("dryRun") == "All"
        if request.method == "GET":
            if flag(query.get("watch")):
                self._allow(rt, "watch")
                return await self._watch(request, target)
            self._allow(rt, "get")
            return self._respond(request, rt, self.registry.get(rt, target.namespace, name))
        if request.method == "PUT":
            self._allow(rt, "update")
            validation = self._validation(request, rt, "UpdateOptions")
            body = await self._body(request)
            if sub == "finalize":
                sub, body = "", self._finalize(target, body)
            updated = self.registry.update(
                rt,
                target.namespace,
                name,
                body,
                subresource=sub,
                dry_run=dry_run,
                validation=validation,
            )
            return _warned(self._respond(request, rt, updated), validation)
        if request.method == "PATCH":
            self._allow(rt, "patch")
            validation = self._validation(request, rt, "PatchOptions")
            patched, created = self.registry.patch(
                rt,
                target.namespace,
                name,
                request.headers.get("Content-Type", ""),
                await request.read(),
                subresource=sub,
                dry_run=dry_run,
                field_manager=query.get("fieldManager", ""),
                validation=validation,
            )
            status = 201 if created else 200
            return _warned(self._respond(request, rt, patched, status), validation)
        if request.method == "DELETE":
            self._allow(rt, "delete")
            options = DeleteOptions.parse(await self._body(request), query)
            if dry_run:
                options = replace(options, dry_run=True)
            return _json(self.registry.delete(rt, target.namespace, name, options))
        raise method_not_allowed()

    def _finalize(self, target: _Target, body: Any) -> Obj:
        current = self.registry.get(target.rt, None, target.name or "")
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a Namespace object")
        updated = copy.deepcopy(current)
        updated["spec"] = {
            **(current.get("spec") or {}),
            "finalizers": (body.get("spec") or {}).get("finalizers") or [],
        }
        return updated

    @staticmethod
    def _allow(rt: ResourceType, verb: str) -> None:
        if verb not in rt.verbs:
            raise method_not_allowed()

    def _respond(
        self, request: web.Request, rt: ResourceType, obj: Obj, status: int = 200
    ) -> web.Response:
        output = _negotiate(request.headers.get("Accept", ""))
        if output.form == "table":
            table = to_table(
                rt,
                [obj],
                resource_version=obj["metadata"].get("resourceVersion", ""),
                include_object=request.query.get("includeObject", "Metadata"),
                api_version=output.api_version,
            )
            return _json(table, status, _table_type(output.api_version))
        if output.form == "partial":
            return _json(partial_metadata(obj, output.api_version), status)
        return _json(obj, status)

    def _list(self, request: web.Request, target: _Target) -> web.Response:
        rt, query = target.rt, request.query
        labels, fields = self._selectors(rt, query)
        limit = integer(query, "limit") or 0
        page = self.registry.list(
            rt,
            target.namespace,
            labels,
            fields,
            limit=limit,
            continue_token=query.get("continue", ""),
        )
        output = _negotiate(request.headers.get("Accept", ""))
        if output.form == "table":
            table = to_table(
                rt,
                page.items,
                resource_version=page.resource_version,
                include_object=query.get("includeObject", "Metadata"),
                api_version=output.api_version,
                continue_token=page.continue_token,
                remaining=page.remaining,
            )
            return _json(table, content_type=_table_type(output.api_version))
        metadata: Obj = {"resourceVersion": page.resource_version}
        if page.continue_token:
            metadata["continue"] = page.continue_token
        if page.remaining:
            metadata["remainingItemCount"] = page.remaining
        if output.form == "partial":
            return _json(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": output.api_version,
                    "metadata": metadata,
                    "items": [partial_metadata(o, output.api_version) for o in page.items],
                }
            )
        return _json(
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version,
                "metadata": metadata,
                "items": page.items,
            }
        )

    # -- streams -----------------------------------------------------------------------
    async def _stream(self, request: web.Request, content_type: str) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        return response

    async def _watch(self, request: web.Request, target: _Target) -> web.StreamResponse:
        rt, query = target.rt, request.query
        labels, fields = self._selectors(rt, query)
        if target.name is not None:
            fields = parse_or_400(
                rt,
                ",".join(
                    filter(None, [query.get("fieldSelector", ""), f"metadata.name={target.name}"])
                ),
                "",
            )
        output = _negotiate(request.headers.get("Accept", ""))
        initial = query.get("sendInitialEvents")
        timeout = integer(query, "timeoutSeconds")
        session = WatchSession(
            self.store,
            WatchRequest(
                rt=rt,
                view=self.registry.view(rt),
                namespace=target.namespace,
                labels=labels,
                fields=fields,
                resource_version=query.get("resourceVersion", ""),
                allow_bookmarks=flag(query.get("allowWatchBookmarks")),
                send_initial_events=None if initial is None else flag(initial),
                timeout=float(timeout) if timeout else None,
            ),
            self.bookmark_interval,
        )
        self._sessions.add(session)
        try:
            first = session.open()
            response = await self._stream(request, JSON)
            # A client that goes away (ctrl-c on kubectl get -w) ends the stream.
            with contextlib.suppress(ConnectionResetError):
                async for event in session.events(first):
                    if output.form == "table" and event["type"] in (
                        "ADDED",
                        "MODIFIED",
                        "DELETED",
                    ):
                        obj = event["object"]
                        event = {
                            "type": event["type"],
                            "object": to_table(
                                rt,
                                [obj],
                                resource_version=obj["metadata"].get("resourceVersion", ""),
                                include_object=query.get("includeObject", "Metadata"),
                                api_version=output.api_version,
                            ),
                        }
                    await response.write(_dumps(event) + b"\n")
                await response.write_eof()
        finally:
            session.close()
            self._sessions.discard(session)
        return response

    async def _logs(self, request: web.Request, target: _Target) -> web.StreamResponse:
        namespace, name = target.namespace or "", target.name or ""
        pod = self.registry.get(types.PODS, namespace, name)
        options = LogOptions.parse(pod, request.query)
        container = options.container
        why = why_no_log(pod, container, options.previous)
        if why is not None:
            raise bad_request(why)
        lines: list[LogLine] = []
        follow = None
        if self.logs is not None and pod["spec"].get("nodeName"):
            earlier = before_current(pod, container, options.previous)
            with contextlib.suppress(KeyError):
                lines = list(self.logs.lines(namespace, name, container, earlier))
            if (
                options.follow
                and not options.previous
                and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            ):
                follow = self.logs.follow(namespace, name, container)
        response = await self._stream(request, "text/plain")
        budget = options.limit_bytes
        # A client that goes away mid-stream (ctrl-c on kubectl logs -f) ends the stream.
        with contextlib.suppress(ConnectionResetError):
            async for batch in self._batches(pod, select(lines, options), follow):
                data = b"".join(render(line, options) for line in batch)
                if budget is not None:
                    data, budget = data[:budget], budget - len(data)
                if data:
                    await response.write(data)
                if budget is not None and budget <= 0:
                    break
            await response.write_eof()
        return response

    async def _batches(
        self, pod: Obj, kept: list[LogLine], follow: LogFollower | None
    ) -> AsyncIterator[list[LogLine]]:
        """The lines kept so far, then (when following) the new ones as they come."""
        yield kept
        if follow is not None:
            async for batch in self._follow(pod, follow):
                yield batch

    async def _follow(self, pod: Obj, lines: LogFollower) -> AsyncIterator[list[LogLine]]:
        """New lines until the pod is deleted or finishes, or the streams are dropped;
        in batches of what arrived meanwhile, so a flooding container costs one write per
        batch rather than per line. At most ``FOLLOW_BATCH`` lines wait for the client:
        a container that logs faster than it reads is read at its pace (as the kubelet
        reads a log file)."""
        meta = pod["metadata"]
        watcher = self.store.watch(types.PODS, meta["namespace"], None)
        stop = asyncio.Event()
        self._streams.add(stop)
        arrived: list[LogLine] = []
        more = asyncio.Event()
        ended = asyncio.Event()
        room = asyncio.Event()

        async def read() -> None:
            async for line in lines:
                arrived.append(line)
                more.set()
                if len(arrived) >= FOLLOW_BATCH:
                    room.clear()
                    await room.wait()
            ended.set()
            more.set()

        reader = asyncio.ensure_future(read())
        next_event = asyncio.ensure_future(watcher.queue.get())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while True:
                waiting = asyncio.ensure_future(more.wait())
                await asyncio.wait(
                    {waiting, next_event, stopped}, return_when=asyncio.FIRST_COMPLETED
                )
                waiting.cancel()
                more.clear()
                if arrived:
                    batch = arrived[:]
                    arrived.clear()
                    room.set()
                    yield batch
                if ended.is_set() and not arrived:
                    return
                if stopped.done():
                    return
                if next_event.done():
                    event = next_event.result()
                    if event is None:
                        return
                    obj = event.obj
                    if obj["metadata"]["name"] == meta["name"] and obj["metadata"].get(
                        "uid"
                    ) == meta.get("uid"):
                        phase = (obj.get("status") or {}).get("phase")
                        if event.type == "DELETED" or phase in ("Succeeded", "Failed"):
                            return
                    next_event = asyncio.ensure_future(watcher.queue.get())
        finally:
            for task in (reader, next_event, stopped):
                task.cancel()
            await lines.aclose()  # the client may have gone: stop queueing lines for it
            self.store.unwatch(watcher)
            self._streams.discard(stop)

    # -- other subresources ------------------------------------------------------------------
    async def _scale(self, request: web.Request, target: _Target) -> web.Response:
        rt, namespace, name = target.rt, target.namespace, target.name or ""
        if request.method == "GET":
            return _json(self.registry.scale(rt, namespace, name))
        if request.method == "PUT":
            return _json(self.registry.update_scale(rt, namespace, name, await self._body(request)))
        if request.method == "PATCH":
            return _json(
                self.registry.patch_scale(
                    rt,
                    namespace,
                    name,
                    request.headers.get("Content-Type", ""),
                    await request.read(),
                )
            )
        raise method_not_allowed()

    def _metrics(self, request: web.Request, target: _Target) -> web.Response:
        assert self.metrics is not None
        if request.method != "GET" or flag(request.query.get("watch")):
            raise method_not_allowed()
        if target.name is not None:
            return _json(self.metrics.get(target.rt, target.namespace, target.name))
        labels, fields = self._selectors(target.rt, request.query)
        return _json(self.metrics.list(target.rt, target.namespace, labels, fields))
