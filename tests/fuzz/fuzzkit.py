"""Shared pieces of the fuzz suite: example budgets, usage errors, a sandbox. The CLI
runs in this process (``tests.kit.cli.run_main``).

``BINDERCTL_FUZZ=full`` raises every property's example count to the full-size run;
the default (CI) budget keeps the whole suite under a minute.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, settings

from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.tls import generate
from binderctl.errors import EXIT_USAGE
from tests.kit.cli import Result, cli_env

FULL = os.environ.get("BINDERCTL_FUZZ") == "full"
MEMBER = "fuzz"
# Characters a terminal acts on: C0 (but newline), DEL, C1, and lone surrogates.
TERMINAL_CONTROLS = {chr(c) for c in [*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def budget(ci: int, full: int = 2000) -> settings:
    """Hypothesis settings: ``ci`` examples by default, ``full`` with BINDERCTL_FUZZ=full."""
    return settings(
        max_examples=full if FULL else ci,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def assert_usage_error(result: Result, *words: str) -> None:
    """Exit code 2 with exactly one error line (naming ``words``) and nothing on stdout."""
    assert result.code == EXIT_USAGE, result
    assert len(result.error_lines) == 1, result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    for word in words:
        assert word in result.error_lines[0], (word, result.err)


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Sandbox:
    """A home and a config whose member points at closed ports: a command that gets
    past its argument parsing fails fast on the first connection."""

    home: Path
    config_path: Path

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.home, self.config_path, token="fuzz-token-not-a-secret")


def make_sandbox(root: Path) -> Sandbox:
    port = closed_port()
    home, config_path = root / "home", root / "config.toml"
    member = {
        "binder_host": "fuzz.binder.test",
        "ssh_allowed_cidrs": ["127.0.0.0/8"],
        "hcloud_endpoint": f"http://127.0.0.1:{port}/v1",
        "https_port": port,
        "ssh_port": port,
    }
    config_path.write_text(tomli_w.dumps({"members": {MEMBER: member}}))
    write_kubeconfig(home / "data" / MEMBER / "kubeconfig", generate(), f"https://127.0.0.1:{port}")
    return Sandbox(home, config_path)
