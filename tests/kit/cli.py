"""The real ``binderctl``: as a user runs it (the venv's entry point, a subprocess with
no terminal), or in this process for properties that run it thousands of times.

A subprocess gets this process's environment with the target's on top (a ``DemoWorld``,
or anything else with an ``env`` mapping, or a mapping itself) and without
``SSH_AUTH_SOCK``: the operator's ssh-agent never takes part in a test (one that
brings its own agent names it in ``env``).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from binderctl.auth import TOKEN_ENV
from binderctl.cli import main
from binderctl.demo.world import KEYRING_ENV, NO_KEYRING
from binderctl.paths import CONFIG_ENV, HOME_ENV

BINDERCTL = Path(sys.executable).parent / "binderctl"
CLI_TIMEOUT = 120  # seconds before a hung command fails the test (not a measurement)
AGENT_ENV = "SSH_AUTH_SOCK"  # this process's agent is left out; a test may give its own


class HasEnv(Protocol):
    @property
    def env(self) -> Mapping[str, str]: ...


Target = HasEnv | Mapping[str, str]
RunCli = Callable[..., subprocess.CompletedProcess[str]]  # run_cli with its target bound


def cli_env(home: Path, config_path: Path, token: str = "") -> dict[str, str]:
    """The variables that give binderctl a home and a config of its own, a Hetzner token
    (none by default) and no keyring."""
    return {
        HOME_ENV: str(home),
        CONFIG_ENV: str(config_path),
        TOKEN_ENV: token,
        KEYRING_ENV: NO_KEYRING,
    }


def subprocess_env(target: Target, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != AGENT_ENV}
    return {**env, **(target if isinstance(target, Mapping) else target.env), **(extra or {})}


def run_cli(
    target: Target,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = CLI_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``binderctl ARGS`` against ``target`` (``env`` on top of its environment); stdin
    is ``stdin``, or /dev/null."""
    return subprocess.run(
        [str(BINDERCTL), *args],
        env=subprocess_env(target, env),
        stdin=subprocess.DEVNULL if stdin is None else None,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_on_terminal(
    target: Target, typed: str, *args: str, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``binderctl ARGS`` with a terminal on stdin on which ``typed`` was typed: what an
    operator at a prompt sees and answers."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, typed.encode())
        return subprocess.run(
            [str(BINDERCTL), *args],
            env=subprocess_env(target),
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)


def start_cli(target: Target, *args: str) -> subprocess.Popen[str]:
    """``binderctl ARGS`` started against ``target``: the test reads, signals, waits."""
    return subprocess.Popen(
        [str(BINDERCTL), *args],
        env=subprocess_env(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt_cli(
    target: Target, args: Sequence[str], ready: Callable[[], bool], what: str
) -> tuple[int, str]:
    """Start ``binderctl ARGS``, send it SIGINT (Ctrl-C) once ``ready()`` holds, and
    return its exit code and stderr; fails if it ends first (``what`` it was to reach)."""
    process = start_cli(target, *args)
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while not ready():
            assert process.poll() is None, f"ended before {what}: {process.communicate()[1]}"
            assert time.monotonic() < deadline, f"never got to {what}"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=CLI_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """The lines that report an error (argparse's and ours both start so)."""
        return [line for line in self.err.splitlines() if line.startswith("binderctl:")]


def run_main(argv: Sequence[str]) -> Result:
    """``binderctl ARGV`` in this process; exceptions other than SystemExit propagate.

    stdout is a strict UTF-8 stream (like a terminal under an ``en_US.UTF-8`` locale: an
    unencodable character is an error, not garbage) and stderr Python's own
    (``backslashreplace``), so a lone surrogate that reaches ``print`` fails the test
    instead of passing unnoticed through a StringIO.
    """
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
