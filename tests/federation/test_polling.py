"""`federation_report` polls every host at once, each request bounded by the
redirector's timeout: a slow federation costs one host's time, a hanging host costs the
timeout and is reported as not answering. Real httpx against emulated hosts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from binderctl.config import Config
from binderctl.demo.federation.hosts import EmulatedHost
from binderctl.demo.federation.world import prime_versions
from binderctl.demo.runtime import LoopThread
from binderctl.federation_config import CheckSettings, FederationConfig, FederationHost
from binderctl.paths import HOME_ENV
from binderctl.services.federation import federation_report

HOSTS = 6
DELAY = 0.4  # per request: /versions then /health, 0.8 s a host


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmulatedHost]]:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    runtime = LoopThread("test-polling")
    started = [EmulatedHost(f"h{i}", prime_versions()) for i in range(HOSTS)]
    for host in started:
        runtime.run(host.start())
    try:
        yield started
    finally:
        for host in started:
            runtime.run(host.stop())
        runtime.stop()


def config(hosts: list[EmulatedHost], timeout: float) -> Config:
    entries = tuple(
        FederationHost(h.name, h.url, 50, f"{h.url}/health", f"{h.url}/versions", i == 0)
        for i, h in enumerate(hosts)
    )
    federation = FederationConfig(entries, CheckSettings(timeout=timeout))
    return Config(Path("c.toml"), {}, federation)


def test_hosts_are_polled_at_once(hosts: list[EmulatedHost]) -> None:
    for host in hosts:
        host.delay = DELAY
    started = time.monotonic()
    report = federation_report(config(hosts, timeout=5))
    elapsed = time.monotonic() - started
    assert all(h.verdict.in_rotation for h in report.hosts), report.hosts
    one_by_one = HOSTS * 2 * DELAY + DELAY  # the prime's /versions first
    assert elapsed < one_by_one / 2, f"{elapsed:.2f}s for {HOSTS} hosts"


def test_a_hanging_host_costs_the_timeout_and_is_named(hosts: list[EmulatedHost]) -> None:
    hosts[-1].delay = 3.0
    started = time.monotonic()
    report = federation_report(config(hosts, timeout=1.0))
    elapsed = time.monotonic() - started
    silent = report.hosts[-1]
    assert (silent.verdict.in_rotation, silent.verdict.reason) == (False, "unreachable")
    assert "does not answer" in silent.verdict.detail
    assert all(h.verdict.in_rotation for h in report.hosts[:-1])
    assert elapsed < 3.0, f"{elapsed:.2f}s with a 1 s timeout"


def test_a_hostile_host_is_shown_inert(hosts: list[EmulatedHost]) -> None:
    from binderctl.commands.federation_cmd import render

    hostile = "\x1b[2J\x1b]0;pwned\x07[bold]x[/bold]"
    hosts[1].versions_doc = {**hosts[1].versions_doc, "binderhub": hostile, hostile: 1}
    report = federation_report(config(hosts, timeout=5))
    text = render(report)
    assert "\x1b" not in text and "\x07" not in text
    assert "pwned" in text  # shown, made harmless
    assert report.hosts[1].verdict.reason == "versions"
