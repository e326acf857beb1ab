"""Shared pieces of the fuzz suite: example budgets, the in-process CLI, a sandbox.

``BINDERCTL_FUZZ=full`` raises every property's example count to the full-size run;
the default (CI) budget keeps the whole suite under a minute.

``run_cli`` calls ``binderctl.cli.main`` with stdout as a strict UTF-8 stream (like a
terminal under an ``en_US.UTF-8`` locale: an unencodable character is an error, not
garbage) and stderr as Python's own (``backslashreplace``), so a lone surrogate that
reaches ``print`` fails the test instead of passing unnoticed through a StringIO.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, settings

from binderctl.cli import main
from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.tls import generate
from binderctl.demo.world import patched_environ
from binderctl.errors import EXIT_USAGE

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


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """The lines that report an error (argparse's and ours both start so)."""
        return [line for line in self.err.splitlines() if line.startswith("binderctl:")]


def run_cli(argv: Sequence[str]) -> Result:
    """``binderctl ARGV`` in this process; exceptions other than SystemExit propagate."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    saved_stdin, sys.stdin = sys.stdin, io.StringIO()  # no terminal: nothing is confirmed
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(list(argv))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved_stdin
    return Result(code, out.getvalue().decode(), err.getvalue().decode())


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
        return {
            "BINDERCTL_HOME": str(self.home),
            "BINDERCTL_CONFIG": str(self.config_path),
            "HCLOUD_TOKEN": "fuzz-token-not-a-secret",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }


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


environment = patched_environ
