"""BinderHub as operated live: the launch quota in the HelmChart values, and /health.

The launch quota (``config.LaunchQuota.total_quota``) lives in the ``valuesContent`` of
the ``binderhub`` HelmChart; k3s helm-controller upgrades the release when it changes.
``None`` means no limit and ``0`` maintenance (the federation redirector then drops the
member at its next health check).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from typing import Any

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.models import Health, HealthCheck
from binderctl.services import charts
from binderctl.services.kube import HELMCHARTS, MERGE_PATCH, Kube, KubeError

HEALTH_TIMEOUT = 5.0
_PATCH_ATTEMPTS = 3


# -- launch quota ---------------------------------------------------------------------
def _chart(kube: Kube) -> dict[str, Any]:
    try:
        return kube.get(HELMCHARTS, charts.RELEASE, charts.CHART_NAMESPACE)
    except KubeError as exc:
        if exc.status == 404:
            raise BinderctlError(
                f"no {charts.RELEASE!r} HelmChart in namespace {charts.CHART_NAMESPACE}",
                hint="is BinderHub installed? run `binderctl --provision`",
            ) from None
        raise


def _values(chart: dict[str, Any]) -> dict[str, Any]:
    import yaml

    text = (chart.get("spec") or {}).get("valuesContent") or ""
    try:
        values = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise BinderctlError(
            f"the {charts.RELEASE} HelmChart has unreadable values: {exc}"
        ) from None
    if not isinstance(values, dict):
        raise BinderctlError(f"the {charts.RELEASE} HelmChart values are not a YAML mapping")
    return values


def _quota_in(values: dict[str, Any]) -> int | None:
    config = values.get("config") or {}
    launch = config.get("LaunchQuota") or {}
    if "total_quota" in launch:
        quota = launch["total_quota"]
    else:
        quota = (config.get("BinderHub") or {}).get("pod_quota")
    if quota is None:
        return None
    if isinstance(quota, bool) or not isinstance(quota, int):
        raise BinderctlError(f"the launch quota in the HelmChart is not a number: {quota!r}")
    return quota


def get_launch_quota(kube: Kube) -> int | None:
    """The launch quota in force: a number of sessions, or None for no limit."""
    return _quota_in(_values(_chart(kube)))


def update_chart(
    kube: Kube, change: Callable[[dict[str, Any], dict[str, Any]], dict[str, str] | None]
) -> dict[str, Any]:
    """Edit the BinderHub chart's values: ``change(values, chart)`` edits ``values`` in
    place and returns annotations to set on the HelmChart (or None). One merge patch of
    ``spec.valuesContent`` (and the annotations) carrying the object's resourceVersion,
    so a concurrent change of the chart makes it fail with 409 and it is retried on the
    fresh object instead of lost. Returns the chart as it was before."""
    import yaml

    for attempt in range(_PATCH_ATTEMPTS):
        chart = _chart(kube)
        values = _values(chart)
        annotations = change(values, chart)
        metadata: dict[str, Any] = {"resourceVersion": chart["metadata"]["resourceVersion"]}
        if annotations:
            metadata["annotations"] = annotations
        patch = {
            "metadata": metadata,
            "spec": {"valuesContent": yaml.safe_dump(values, sort_keys=True)},
        }
        try:
            kube.patch(
                HELMCHARTS,
                charts.RELEASE,
                patch,
                namespace=charts.CHART_NAMESPACE,
                content_type=MERGE_PATCH,
            )
        except KubeError as exc:
            if exc.status == 409 and attempt + 1 < _PATCH_ATTEMPTS:
                continue
            raise
        return chart
    raise AssertionError("unreachable")


def read_chart(kube: Kube) -> tuple[dict[str, Any], dict[str, Any]]:
    """The BinderHub HelmChart and its values."""
    chart = _chart(kube)
    return chart, _values(chart)


def set_launch_quota(kube: Kube, quota: int | None) -> int | None:
    """Set the launch quota (merge patch of the HelmChart); returns the previous one."""

    def change(values: dict[str, Any], chart: dict[str, Any]) -> None:
        config = values.setdefault("config", {})
        config.setdefault("LaunchQuota", {})["total_quota"] = quota
        legacy = config.get("BinderHub") or {}
        if "pod_quota" in legacy:
            legacy["pod_quota"] = quota

    return _quota_in(_values(update_chart(kube, change)))


# -- /health and /versions -----------------------------------------------------------
def tls_verify(member: MemberConfig) -> ssl.SSLContext | bool:
    if member.tls_ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(member.tls_ca_bundle.expanduser()))
    except (OSError, ssl.SSLError) as exc:
        raise BinderctlError(f"tls_ca_bundle {member.tls_ca_bundle}: unusable: {exc}") from None


def health_checks(document: Any) -> tuple[HealthCheck, ...]:
    items = document.get("checks") if isinstance(document, dict) else None
    checks = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            detail = {k: v for k, v in item.items() if k not in ("service", "ok")}
            service = str(item.get("service", "?"))
            checks.append(HealthCheck(service, item.get("ok") is True, detail))
    return tuple(checks)


def fetch_health(member: MemberConfig, address: str, timeout: float = HEALTH_TIMEOUT) -> Health:
    """BinderHub's ``/health`` and ``/versions`` on ``address`` (the node's public IP),
    asked for the binder host (Host header and TLS SNI), as the federation does."""
    import httpx

    host = f"[{address}]" if ":" in address else address
    base = f"https://{host}:{member.https_port}"
    where = f"https://{member.binder_host}/health (at {address}:{member.https_port})"
    headers, extensions = {"Host": member.binder_host}, {"sni_hostname": member.binder_host}
    try:
        with httpx.Client(verify=tls_verify(member), timeout=timeout) as client:
            response = client.get(f"{base}/health", headers=headers, extensions=extensions)
            if response.status_code not in (200, 503):
                return Health(ok=None, error=f"{where} answered HTTP {response.status_code}")
            document = response.json()
            versions: dict[str, object] = {}
            with contextlib.suppress(httpx.HTTPError, ValueError):
                answer = client.get(f"{base}/versions", headers=headers, extensions=extensions)
                if answer.status_code == 200 and isinstance(answer.json(), dict):
                    versions = answer.json()
    except httpx.HTTPError as exc:
        return Health(ok=None, error=f"cannot reach {where}: {exc or type(exc).__name__}")
    except ValueError:
        return Health(ok=None, error=f"{where} did not answer JSON")
    ok = document.get("ok") if isinstance(document, dict) else None
    ok = ok if isinstance(ok, bool) else None
    return Health(ok=ok, checks=health_checks(document), versions=versions)
