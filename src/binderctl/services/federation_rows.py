"""The federation in words and JSON: what the Federation screen, `binderctl federation`
and `binderctl status` show of a ``FederationReport`` (one place for all three)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from binderctl.models import RotationVerdict
from binderctl.services.federation import FederationReport, HostReport

SHORT_CHECKS = {"Docker registry": "registry", "JupyterHub API": "hub", "Pod quota": "quota"}


def rotation_words(verdict: RotationVerdict) -> str:
    if verdict.in_rotation is None:
        return "?"
    return "IN" if verdict.in_rotation else "OUT"


def why_words(verdict: RotationVerdict) -> str:
    if verdict.in_rotation:
        return ""
    if verdict.reason == "check":
        return f"check: {verdict.check}"
    return verdict.reason or ""


def checks_words(report: HostReport) -> str:
    """``3 ok``, or the failing ones."""
    health = report.health
    if health is None or not health.checks:
        return "-"
    failing = [SHORT_CHECKS.get(c.service, c.service) for c in health.checks if not c.ok]
    if not failing:
        return f"{len(health.checks)} ok"
    return "FAIL " + ", ".join(failing)


def pods_words(report: HostReport, headroom: int) -> str:
    """``total + headroom / quota`` of the Pod quota check (the rule's two sides)."""
    health = report.health
    check = next((c for c in health.checks if c.service == "Pod quota"), None) if health else None
    if check is None:
        return "-"
    quota = check.detail.get("quota")
    total = check.detail.get("total_pods")
    return f"{total}+{headroom} / {'no limit' if quota is None else quota}"


def versions_words(report: HostReport, prime_known: bool) -> str:
    if report.health is None or not report.health.versions:
        return "-"
    if report.host.prime:
        return "prime"
    if report.differences:
        keys = ", ".join(key for key, _, _ in report.differences[:2])
        return f"DIFFER: {keys}"
    return "= prime" if prime_known else "? (prime unknown)"


def _iso(moment: float) -> str | None:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds") if moment else None


def verdict_json(verdict: RotationVerdict) -> dict[str, Any]:
    return {
        "in_rotation": verdict.in_rotation,
        "reason": verdict.reason,
        "check": verdict.check,
        "detail": verdict.detail,
    }


def host_json(report: HostReport) -> dict[str, Any]:
    health = report.health
    return {
        "name": report.host.name,
        "url": report.host.url,
        "weight": report.host.weight,
        "prime": report.host.prime,
        "member": report.member,
        **verdict_json(report.verdict),
        "health": None
        if health is None
        else {
            "ok": health.ok,
            "error": health.error,
            "checks": [{"service": c.service, "ok": c.ok, **c.detail} for c in health.checks],
        },
        "versions": health.versions if health else None,
        "differences": [
            {"key": key, "ours": ours, "prime": prime} for key, ours, prime in report.differences
        ],
        "checked": _iso(report.checked),
        "elapsed": round(report.elapsed, 3),
    }


def report_json(report: FederationReport) -> dict[str, Any]:
    settings = report.settings
    return {
        "time": _iso(report.checked),
        "prime": {
            "versions_url": report.prime_url,
            "versions": report.prime_versions,
            "error": report.prime_error,
        },
        "settings": {
            "period": settings.period,
            "jitter": settings.jitter,
            "retries": settings.retries,
            "timeout": settings.timeout,
            "failed_period": settings.failed_period,
            "pod_headroom": settings.pod_headroom,
        },
        "hosts": [host_json(h) for h in report.hosts],
    }
