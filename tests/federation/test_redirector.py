"""The emulated federation redirector follows ``health_check`` of mybinder.org-deploy
``images/federation-redirect/app.py``: what drops a host, when it is checked again, and
which hosts it starts with."""

from __future__ import annotations

import httpx
import pytest

from binderctl.demo.federation.redirector import Redirector
from binderctl.demo.federation.world import changed_versions, prime_versions
from binderctl.federation_config import CheckSettings
from tests.federation.fedkit import SPEED, entry, federation

SETTINGS = CheckSettings().scaled(SPEED)


def test_removes_zero_and_missing_weight_hosts_at_start() -> None:
    extra = {
        "zero": entry("http://127.0.0.1:9", weight=0),
        "unweighted": entry("http://127.0.0.1:9", weight=None),
        "empty": None,
    }
    with federation(extra) as fed:
        fed.until(lambda: fed.hosts()["member"]["checks"] >= 1)
        hosts = fed.hosts()
        assert hosts["zero"]["reason"] == hosts["unweighted"]["reason"] == "weight"
        assert "empty" not in hosts
        assert fed.active() == {"prime", "member"}
        assert fed.hosts()["zero"]["checks"] == 0  # never checked


def test_refuses_to_start_without_a_prime() -> None:
    with pytest.raises(ValueError, match="No prime host configured!"):
        Redirector({"a": entry("http://127.0.0.1:9")}, CheckSettings())
    with pytest.raises(ValueError, match="No prime host configured!"):
        Redirector({"a": entry("http://127.0.0.1:9", weight=0, prime=True)}, CheckSettings())


def test_healthy_hosts_are_in_rotation_and_checked_retries_times() -> None:
    with federation() as fed:
        fed.until(lambda: fed.hosts()["member"]["checks"] >= 2)
        assert fed.active() == {"prime", "member"}
        # app.py's retry loop does not stop after a good attempt: /versions and /health
        # are each fetched `retries` times per check
        requests = fed.member.requests
        checks = fed.hosts()["member"]["checks"]
        assert requests >= 2 * SETTINGS.retries * (checks - 1)
        answer = httpx.get(f"{fed.redirector.url}/build/gh/a/b/HEAD", timeout=5)
        assert answer.status_code == 307
        assert answer.headers["location"].startswith((fed.prime.url, fed.member.url))


def test_drops_a_member_on_quota_headroom() -> None:
    with federation() as fed:
        fed.until(lambda: "member" in fed.active() and fed.hosts()["member"]["checks"] >= 1)
        # total_pods 90 + pod_headroom 10 >= quota 100, though the Pod quota check is ok
        fed.runtime.on_loop(lambda: setattr(fed.member, "user_pods", 88))
        out = fed.until(lambda: (h := fed.hosts()["member"])["reason"] and h)
        assert out["reason"] == "Pod quota"
        assert "approaching pod quota: 90/100" in out["message"]
        assert "member" not in fed.active()


def test_one_pod_less_keeps_it_in() -> None:
    with federation() as fed:
        fed.runtime.on_loop(lambda: setattr(fed.member, "user_pods", 87))  # 89 + 10 < 100
        fed.until(lambda: fed.hosts()["member"]["checks"] >= 3)
        assert "member" in fed.active() and fed.hosts()["member"]["reason"] == ""


def test_drops_a_member_whose_versions_differ_from_the_prime() -> None:
    with federation() as fed:
        fed.until(lambda: fed.hosts()["prime"]["checks"] >= 1)
        bumped = changed_versions(prime_versions(), {"build_image": "quay.io/x/r2d:new"})
        fed.runtime.on_loop(lambda: setattr(fed.prime, "versions_doc", bumped))
        out = fed.until(lambda: (h := fed.hosts()["member"])["reason"] == "versions" and h)
        assert "different versions" in out["message"] and "quay.io/x/r2d:new" in out["message"]
        assert fed.active() == {"prime"}


def test_a_failing_check_drops_it_after_retries_as_unknown() -> None:
    """BinderHub answers 503 when a hard check fails; tornado's fetch raises for it, so
    the redirector retries and records reason "unknown" (not the check's name)."""
    with federation() as fed:
        fed.until(lambda: fed.hosts()["member"]["checks"] >= 1)
        fed.runtime.on_loop(lambda: setattr(fed.member, "registry_ok", False))
        out = fed.until(lambda: (h := fed.hosts()["member"])["reason"] and h)
        assert out["reason"] == "unknown" and "503" in out["message"]
        assert "member" not in fed.active()


def test_a_failed_host_is_checked_again_only_after_failed_period() -> None:
    with federation() as fed:
        fed.until(lambda: fed.hosts()["member"]["checks"] >= 1)
        fed.runtime.on_loop(lambda: setattr(fed.member, "quota_value", 0))
        fed.until(lambda: fed.hosts()["member"]["reason"] == "Pod quota")
        fed.runtime.on_loop(lambda: setattr(fed.member, "quota_value", 100))
        failed = fed.redirector.state["member"]
        failed_at = failed.last_checked
        assert failed_at is not None
        back = fed.until(lambda: "member" in fed.active() and fed.redirector.state["member"])
        recheck = next(t for t in back.checks if t > failed_at)
        gap = recheck - failed_at
        low = SETTINGS.failed_period * (1 - SETTINGS.jitter / 2)
        assert gap >= low, f"re-checked after {gap:.2f}s, failed_period is {low:.2f}s"
        assert gap < SETTINGS.failed_period * 2  # and not much later
