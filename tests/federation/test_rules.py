"""The redirector's rules as the product applies them (pure functions), the
``[federation]`` config and the versions that must match the prime."""

from __future__ import annotations

from pathlib import Path

import pytest

from binderctl.config import parse_config
from binderctl.errors import ConfigError
from binderctl.federation_config import DEFAULT_FEDERATION, CheckSettings, FederationHost
from binderctl.models import Health, HealthCheck
from binderctl.services import prime_versions as pv
from binderctl.services.federation import judge, remembered

SETTINGS = CheckSettings()
MEMBER = FederationHost("ours", "https://ours.test", 50, "https://ours.test/health",
                        "https://ours.test/versions")  # fmt: skip
PRIME_VERSIONS = pv.versions_for(pv.PINNED_CHART_VERSION, pv.PINNED_BUILD_IMAGE)


def health(total: int, quota: int | None, *, registry: bool = True) -> Health:
    quota_ok = quota is None or total <= quota
    return Health(
        ok=registry,
        checks=(
            HealthCheck("Docker registry", registry),
            HealthCheck("JupyterHub API", True),
            HealthCheck("Pod quota", quota_ok, {"total_pods": total, "quota": quota}),
        ),
    )


def test_quota_headroom_rule_boundary() -> None:
    out, _ = judge(MEMBER, PRIME_VERSIONS, health(90, 100), 200, PRIME_VERSIONS, SETTINGS)
    assert (out.in_rotation, out.reason) == (False, "quota headroom")
    assert out.detail == "quota headroom: total_pods 90 + pod_headroom 10 >= quota 100"
    ok, _ = judge(MEMBER, PRIME_VERSIONS, health(89, 100), 200, PRIME_VERSIONS, SETTINGS)
    assert ok.in_rotation is True
    assert "total_pods 89 + pod_headroom 10 < quota 100" in ok.detail
    unlimited, _ = judge(MEMBER, PRIME_VERSIONS, health(5000, None), 200, PRIME_VERSIONS, SETTINGS)
    assert unlimited.in_rotation is True


def test_versions_differ_names_the_key_and_both_values() -> None:
    ours = pv.versions_for(pv.PINNED_CHART_VERSION, "quay.io/jupyterhub/repo2docker:old")
    out, diffs = judge(MEMBER, ours, health(1, 100), 200, PRIME_VERSIONS, SETTINGS)
    assert (out.in_rotation, out.reason) == (False, "versions")
    assert "builder_info.build_image: ours 'quay.io/jupyterhub/repo2docker:old', prime " in (
        out.detail
    )
    assert pv.PINNED_BUILD_IMAGE in out.detail
    assert {key for key, _, _ in diffs} == {"builder", "builder_info.build_image"}


def test_a_failing_check_is_named() -> None:
    out, _ = judge(MEMBER, PRIME_VERSIONS, health(1, 100, registry=False), 503,
                   PRIME_VERSIONS, SETTINGS)  # fmt: skip
    assert (out.in_rotation, out.reason, out.check) == (False, "check", "Docker registry")
    assert "503" in out.detail and "'unknown'" in out.detail


def test_checks_after_pod_quota_are_not_looked_at() -> None:
    """app.py breaks out of the loop over the checks after the Pod quota check."""
    checks = (*health(1, 100).checks, HealthCheck("Later", False))
    out, _ = judge(MEMBER, PRIME_VERSIONS, Health(True, checks), 200, PRIME_VERSIONS, SETTINGS)
    assert out.in_rotation is True


def test_prime_unreachable_is_not_guessed() -> None:
    out, _ = judge(MEMBER, PRIME_VERSIONS, health(1, 100), 200, None, SETTINGS)
    assert (out.in_rotation, out.reason) == (None, "prime unreachable")
    # what fails regardless of the prime's versions is still out
    out, _ = judge(MEMBER, PRIME_VERSIONS, health(95, 100), 200, None, SETTINGS)
    assert out.in_rotation is False


def test_unreachable_and_weight_zero() -> None:
    out, _ = judge(MEMBER, None, None, None, PRIME_VERSIONS, SETTINGS, error="refused")
    assert (out.in_rotation, out.reason) == (False, "unreachable") and "refused" in out.detail
    retired = FederationHost("old", "https://old.test", 0, "h", "v")
    out, _ = judge(retired, None, None, None, PRIME_VERSIONS, SETTINGS)
    assert (out.in_rotation, out.reason) == (False, "weight")


def test_failed_period_after_a_failure() -> None:
    memory: dict[str, dict[str, float]] = {}
    out, _ = judge(MEMBER, PRIME_VERSIONS, health(95, 100), 200, PRIME_VERSIONS, SETTINGS)
    assert remembered(MEMBER, out, 1000.0, SETTINGS, memory).reason == "quota headroom"
    ok, _ = judge(MEMBER, PRIME_VERSIONS, health(1, 100), 200, PRIME_VERSIONS, SETTINGS)
    waiting = remembered(MEMBER, ok, 1010.0, SETTINGS, memory)
    assert (waiting.in_rotation, waiting.reason) == (False, "failed_period")
    limit = 1010.0 + SETTINGS.failed_period * (1 + SETTINGS.jitter / 2)
    assert remembered(MEMBER, ok, limit - 1, SETTINGS, memory).reason == "failed_period"
    assert remembered(MEMBER, ok, limit, SETTINGS, memory).in_rotation is True
    assert memory == {}


def test_default_federation_is_prod_yaml() -> None:
    hosts = {h.name: h for h in DEFAULT_FEDERATION.hosts}
    assert set(hosts) == {"hetzner-2i2c", "hetzner-gesis", "bids-ovh"}
    assert all(h.weight == 50 for h in hosts.values())
    assert DEFAULT_FEDERATION.prime_versions_url == "https://2i2c.mybinder.org/versions"
    assert DEFAULT_FEDERATION.check == CheckSettings(15, 0.1, 5, 5, 90, 10)


MEMBER_TOML = '[members.m]\nbinder_host = "m.test"\nssh_allowed_cidrs = ["203.0.113.0/24"]\n'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[federation]\nfoo = 1\n", "federation.foo: unknown key"),
        ("[federation.check]\nretries = 2.5\n", "federation.check.retries: expected a whole"),
        ("[federation.check]\nperiod = 0\n", "federation.check.period: 0 is out of range"),
        ('[federation.hosts.a]\nurl = "ftp://x"\nweight = 1\n', "hosts.a.url: 'ftp://x' is not"),
        ('[federation.hosts.a]\nurl = "https://a.test"\nweight = 5\n', "no host with prime = true"),
        ('[federation.hosts.a]\nprime = "yes"\nurl = "https://a.test"\n', "prime: expected true"),
        ("[federation]\npod_headroom = -1\n", "pod_headroom: -1 is out of range"),
    ],
)
def test_bad_federation_tables(table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml: ") as caught:
        parse_config(Path("config.toml"), MEMBER_TOML + table)
    assert message in caught.value.message


def test_a_federation_table() -> None:
    text = MEMBER_TOML + (
        "[federation]\npod_headroom = 5\n[federation.check]\nfailed_period = 30\n"
        '[federation.hosts.p]\nprime = true\nurl = "https://p.test/"\nweight = 10\n'
        '[federation.hosts.q]\nurl = "https://q.test"\n'
    )
    federation = parse_config(Path("c.toml"), text).federation
    assert federation.check.pod_headroom == 5 and federation.check.failed_period == 30
    assert federation.check.period == 15  # the rest from mybinder/values.yaml
    p, q = federation.hosts
    assert (p.url, p.health, p.prime) == ("https://p.test", "https://p.test/health", True)
    assert q.weight == 0  # kept, shown as the redirector treats it
    assert federation.prime_versions_url == "https://p.test/versions"


def test_chart_version_and_binderhub_version_name_the_same_build() -> None:
    # chartpress counts every commit of the branch, versioneer those since the tag 0.2.0
    # (1732 commits up to it): mybinder's pinned chart runs BinderHub 0.2.0+2251
    assert pv.binderhub_version_for("1.0.0-0.dev.git.3983.h383374de") == "0.2.0+2251.g383374de"
    assert pv.chart_version_for("0.2.0+2251.g383374de") == "1.0.0-0.dev.git.3983.h383374de"
    assert pv.binderhub_version_for("1.0.0-0.dev.git.1000.h383374de") is None
    assert pv.chart_version_for("1.0.0") == "1.0.0"
    assert pv.chart_version_for("0.2.0+2251.g383374de.dirty") is None
    assert pv.chart_version_for("unknown") is None
