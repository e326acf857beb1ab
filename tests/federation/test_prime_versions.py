"""The chart version and build_image come from the prime's /versions (real httpx against
an emulated prime), a config override wins with a warning, pinned fallbacks say where
they come from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from binderctl.config import MemberConfig
from binderctl.demo.federation.hosts import EmulatedHost
from binderctl.demo.federation.world import changed_versions, prime_versions
from binderctl.demo.runtime import LoopThread
from binderctl.federation_config import FederationConfig, FederationHost
from binderctl.services import prime_versions as pv

MEMBER = MemberConfig("m", "m.test", "hub.m.test", ("203.0.113.0/24",), ("203.0.113.0/24",))
NEW = "quay.io/jupyterhub/repo2docker:2099.1.0"


@pytest.fixture
def prime() -> Iterator[EmulatedHost]:
    runtime = LoopThread("test-prime")
    host = EmulatedHost("prime", changed_versions(prime_versions(), {
        "build_image": NEW, "binderhub": "0.2.0+4100.gabcdef12",
    }))  # fmt: skip
    runtime.run(host.start())
    try:
        yield host
    finally:
        runtime.run(host.stop())
        runtime.stop()


def federation(url: str) -> FederationConfig:
    return FederationConfig(
        hosts=(FederationHost("p", url, 50, f"{url}/health", f"{url}/versions", prime=True),)
    )


def test_read_from_the_prime(prime: EmulatedHost) -> None:
    pins = pv.resolve(MEMBER, federation(prime.url))
    assert pins.warnings == ()
    assert pins.chart_version == "1.0.0-0.dev.git.5832.habcdef12"
    assert pins.build_image == NEW
    assert pins.chart_source == pins.build_image_source == f"{prime.url}/versions"
    member = pins.apply(MEMBER)
    assert (member.binderhub_chart_version, member.build_image) == (pins.chart_version, NEW)


def test_a_config_override_that_differs_is_warned_about(prime: EmulatedHost) -> None:
    ours = replace(MEMBER, build_image="quay.io/jupyterhub/repo2docker:2024.07.0")
    pins = pv.resolve(ours, federation(prime.url))
    assert pins.build_image == ours.build_image and pins.build_image_source == "config"
    (warning,) = pins.warnings
    assert warning.startswith("build_image differs from the prime: ours ")
    assert "'quay.io/jupyterhub/repo2docker:2024.07.0' (config)" in warning
    assert f"prime '{NEW}'" in warning


def test_pinned_fallbacks_when_the_prime_cannot_be_read() -> None:
    pins = pv.resolve(MEMBER, federation("http://127.0.0.1:9"))
    assert (pins.chart_version, pins.build_image) == (
        pv.PINNED_CHART_VERSION, pv.PINNED_BUILD_IMAGE,
    )  # fmt: skip
    assert "mybinder/Chart.yaml at 95860dbc" in pins.chart_source
    assert "mybinder/values.yaml" in pins.build_image_source
    assert pins.prime_versions is None
    assert "cannot read the prime's versions" in pins.warnings[0]


def test_a_binderhub_version_no_chart_is_named_after(prime: EmulatedHost) -> None:
    prime.versions_doc = {**prime.versions_doc, "binderhub": "main"}
    pins = pv.resolve(MEMBER, federation(prime.url))
    assert pins.chart_version == pv.PINNED_CHART_VERSION and pins.build_image == NEW
    assert any("no chart version can be derived" in w and "'main'" in w for w in pins.warnings)
