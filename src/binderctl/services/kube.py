"""The member's Kubernetes API: the one place where a kubernetes client is built.

Every request goes through :meth:`Kube.open`, which adds a timeout and turns the
client's exceptions into :class:`KubeError` with a message meant for the operator.
Answers are read as raw JSON and decoded with orjson (``decode``): the client's typed
models are far too slow for a 1,000-session member, and ``json.loads`` was the largest
cost of following a busy watch.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError, ConfigError
from binderctl.paths import app_dir, private_dir

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

KUBECONFIG_NAME = "kubeconfig"
# (connect, read) seconds for ordinary requests; streams set their own read timeout.
REQUEST_TIMEOUT = (5.0, 30.0)
Obj = dict[str, Any]


class KubeError(BinderctlError):
    """A failed Kubernetes API call; ``status`` is the HTTP code (0: no answer)."""

    def __init__(self, message: str, *, status: int = 0, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


def decode(data: bytes) -> Any:
    """An answer's JSON. The cyclic garbage collector waits meanwhile: decoded JSON has
    no cycles, and on a 1,000-pod list (300,000 objects) its passes over the heap would
    cost more than the decoding. orjson refuses a lone surrogate escape (``"\\ud800"``),
    which the standard decoder takes, so such an answer is decoded again by it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)
    finally:
        if collecting:
            gc.enable()


def kubeconfig_path(member: str) -> Path:
    return app_dir("data") / member / KUBECONFIG_NAME


def _kubeconfig_document(path: Path) -> Obj:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"not provisioned yet: run binderctl --provision (no kubeconfig at {path})"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the kubeconfig: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: not a kubeconfig (expected a YAML mapping)")
    return document


def _current_entry(path: Path, section: str, key: str) -> Obj:
    """The current context's cluster or user entry of the kubeconfig at ``path``."""
    document = _kubeconfig_document(path)
    try:
        contexts = {c.get("name"): c.get("context", {}) for c in document.get("contexts") or []}
        current = contexts.get(document.get("current-context"))
        context: Obj = current or next(iter(contexts.values()), {})
        wanted = context.get(key)
        for entry in document.get(section) or []:
            if entry.get("name") == wanted:
                return dict(entry.get(key) or {})
    except (AttributeError, TypeError, ValueError):
        raise ConfigError(f"{path}: not a kubeconfig (malformed {section} or contexts)") from None
    return {}


def _server(path: Path) -> str:
    server = _current_entry(path, "clusters", "cluster").get("server")
    if not isinstance(server, str) or not urlsplit(server).hostname:
        raise ConfigError(f"{path}: the current context names no cluster server")
    return str(server)


def node_address(member: MemberConfig) -> str:
    """The node's public address: the API server host in the member's kubeconfig."""
    return urlsplit(_server(kubeconfig_path(member.name))).hostname or ""


def client_cert_expiry(path: Path) -> float | None:
    """When the kubeconfig's client certificate expires (POSIX time), if it has one."""
    from cryptography import x509

    user = _current_entry(path, "users", "user")
    data = user.get("client-certificate-data")
    try:
        if data:
            pem = base64.b64decode(data)
        elif user.get("client-certificate"):
            pem = (path.parent / user["client-certificate"]).read_bytes()
        else:
            return None
        cert = x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: unreadable client certificate: {exc}") from None
    return cert.not_valid_after_utc.timestamp()


def _reason(exc: Exception) -> str:
    """The innermost useful words of a urllib3/socket error."""
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    if isinstance(exc, ReadTimeoutError):
        return "no answer in time (read timed out)"
    if isinstance(exc, ProtocolError):
        return "the connection was closed in the middle of an answer"
    inner: BaseException = exc
    while True:
        nested = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nested, BaseException) or nested is inner:
            break
        inner = nested
    text = str(inner)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.split(": ", 1)[-1] if "object at 0x" in text else text


@dataclass(frozen=True)
class Resource:
    """A collection of the API: ``v1`` pods, ``apps/v1`` deployments, ..."""

    group_version: str
    plural: str
    namespaced: bool = True

    def path(
        self, namespace: str | None = None, name: str | None = None, sub: str | None = None
    ) -> tuple[str, dict[str, str]]:
        """The path template and its parameters (quoted by the client)."""
        parts = ["/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"]
        params = {}
        if namespace is not None:
            parts.append("namespaces/{namespace}")
            params["namespace"] = namespace
        parts.append(self.plural)
        if name is not None:
            parts.append("{name}")
            params["name"] = name
        if sub is not None:
            parts.append(sub)
        return "/".join(parts), params


PODS = Resource("v1", "pods")
NODES = Resource("v1", "nodes", namespaced=False)
EVENTS = Resource("v1", "events")
DEPLOYMENTS = Resource("apps/v1", "deployments")
DAEMONSETS = Resource("apps/v1", "daemonsets")
REPLICASETS = Resource("apps/v1", "replicasets")
JOBS = Resource("batch/v1", "jobs")
HELMCHARTS = Resource("helm.cattle.io/v1", "helmcharts")
SECRETS = Resource("v1", "secrets")
NODE_METRICS = Resource("metrics.k8s.io/v1beta1", "nodes", namespaced=False)
POD_METRICS = Resource("metrics.k8s.io/v1beta1", "pods")

STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
JsonPatch = list[Obj]  # the operations of a JSON_PATCH


class Kube:
    """One member's Kubernetes API through the kubernetes client's ``ApiClient``.

    The typed API classes are not used: importing ``CoreV1Api`` alone takes over a
    second (hundreds of pydantic models), and decoding answers into them is far slower
    than ``orjson.loads``. The ApiClient still does the rest: configuration from the
    kubeconfig, TLS with the client certificate, connection pooling.
    """

    def __init__(self, member: MemberConfig, path: Path | None = None) -> None:
        self.member = member
        self.path = path or kubeconfig_path(member.name)
        self.server = _server(self.path)
        self.client = self._build_client()

    def _build_client(self) -> ApiClient:
        from kubernetes import client, config

        configuration = client.Configuration()
        scratch = private_dir(self.path.parent / ".kube-tmp")
        try:
            config.load_kube_config(
                config_file=str(self.path),
                client_configuration=configuration,
                persist_config=False,
                temp_file_path=str(scratch),
            )
        except (config.ConfigException, OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: unusable kubeconfig: {exc}") from None
        configuration.retries = 1
        return client.ApiClient(configuration)

    @property
    def host(self) -> str:
        """The API server's address, which is the node's public IP on a member."""
        return urlsplit(self.server).hostname or ""

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Kube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------
    def open(
        self,
        method: str,
        resource: Resource,
        *,
        namespace: str | None = None,
        name: str | None = None,
        sub: str | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: float | tuple[float, float] = REQUEST_TIMEOUT,
    ) -> Any:
        """Send a request; returns the streaming urllib3 response of a 2xx answer."""
        path, params = resource.path(namespace, name, sub)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        with self.errors():
            request = self.client.param_serialize(
                method,
                path,
                path_params=params,
                query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.client.call_api(*request, _request_timeout=timeout).response
            if not 200 <= response.status <= 299:
                data = response.data
                response.release_conn()
                raise self._api_error(response.status, response.reason, data)
        return response

    def request(self, method: str, resource: Resource, **options: Any) -> Obj:
        """Send a request and decode its JSON answer."""
        response = self.open(method, resource, **options)
        with self.errors():
            try:
                answer: Obj = decode(response.data)
                return answer
            finally:
                response.release_conn()

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Obj:
        return self.request("GET", resource, namespace=namespace, name=name)

    def list_document(self, resource: Resource, namespace: str | None = None, **query: Any) -> Obj:
        return self.request("GET", resource, namespace=namespace, query=query)

    def list(self, resource: Resource, namespace: str | None = None, **query: Any) -> list[Obj]:
        """Items of a list; ``query`` uses the API's names (``labelSelector=...``)."""
        return self.list_document(resource, namespace, **query).get("items") or []

    def patch(
        self,
        resource: Resource,
        name: str,
        body: Obj | JsonPatch,
        *,
        namespace: str | None = None,
        content_type: str = STRATEGIC_MERGE,
    ) -> Obj:
        return self.request(
            "PATCH", resource, namespace=namespace, name=name, body=body, content_type=content_type
        )

    def delete(self, resource: Resource, name: str, namespace: str, body: Obj | None = None) -> Obj:
        return self.request("DELETE", resource, namespace=namespace, name=name, body=body)

    def post(
        self, resource: Resource, body: Obj, *, namespace: str, name: str | None = None,
        sub: str | None = None,
    ) -> Obj:  # fmt: skip
        return self.request("POST", resource, namespace=namespace, name=name, sub=sub, body=body)

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            yield
        except ApiException as exc:
            raise self._api_error(int(exc.status or 0), exc.reason, exc.body) from None
        except (HTTPError, OSError) as exc:
            raise KubeError(
                f"cannot reach the Kubernetes API at {self.server}: {_reason(exc)}",
                hint="is the server running? `binderctl status` shows what is reachable",
            ) from None
        except ValueError as exc:
            raise KubeError(f"unexpected answer from the Kubernetes API: {exc}") from None

    def _api_error(self, status: int, reason: object, body: object) -> KubeError:
        message = str(reason or "error")
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            message = decode(body).get("message") or message  # type: ignore[arg-type]  # str or None too: TypeError suppressed
        if status == 0:
            return KubeError(
                f"TLS error talking to the Kubernetes API at {self.server}: {message}",
                hint="the kubeconfig may be stale: run `binderctl renew-certs`",
            )
        hint = None
        if status in (401, 403):
            hint = "the client certificate may have expired: run `binderctl renew-certs`"
        return KubeError(f"Kubernetes API: {message} (HTTP {status})", status=status, hint=hint)


def get_or_none(kube: Kube, resource: Resource, name: str, namespace: str | None) -> Obj | None:
    """The object, or None when it (or its kind) is not there."""
    try:
        return kube.get(resource, name, namespace)
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise


def parse_time(text: str | None) -> float | None:
    """An RFC 3339 time from the API (``2024-05-01T12:00:00Z``) as POSIX seconds."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
