"""`binderctl auth login|status|logout --registry`: the external registry's password in
a real (file-backed, keyrings.alt) keyring of the test's own, or from
BINDERCTL_REGISTRY_PASSWORD; never shown, and apart from the Hetzner token."""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

from binderctl import auth
from binderctl.config import parse_config, reads_values_secrets
from binderctl.errors import ConfigError
from tests.kit.cli import cli_env, run_cli

PASSWORD = "reg-pw-RECOGNISABLE-0451"


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {
        **cli_env(tmp_path / "home", tmp_path / "cfg" / "config.toml"),
        auth.REGISTRY_PASSWORD_ENV: "",
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "keyring"),
    }
    assert run_cli(env, "config", "init", "--name", "alpha").returncode == 0
    return env


def test_login_status_logout(home: dict[str, str]) -> None:
    login = run_cli(home, "auth", "login", "--registry", stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert "stored the container registry password for 'alpha'" in login.stderr
    assert "has no registry_url" in login.stderr  # the template's member uses the in-cluster one
    status = run_cli(home, "auth", "status", "--registry")
    assert status.returncode == 0
    assert status.stdout == (
        "alpha: container registry password from system keyring (service 'binderctl')\n"
    )
    document = json.loads(run_cli(home, "auth", "status", "--registry", "-o", "json").stdout)
    assert document == {
        "member": "alpha",
        "registry_password": True,
        "source": "system keyring (service 'binderctl')",
    }
    token = run_cli(home, "auth", "status")  # the Hetzner token is another entry
    assert token.returncode == 1
    assert "no Hetzner API token" in token.stdout
    logout = run_cli(home, "auth", "logout", "--registry")
    assert logout.returncode == 0
    assert "removed the container registry password for 'alpha'" in logout.stderr
    gone = run_cli(home, "auth", "status", "--registry")
    assert gone.returncode == 1
    assert gone.stdout == (
        "alpha: no container registry password; run `binderctl auth login --registry "
        f"--member alpha` or set {auth.REGISTRY_PASSWORD_ENV}\n"
    )
    again = run_cli(home, "auth", "logout", "--registry")
    assert "no container registry password for 'alpha' was stored" in again.stderr
    for done in (login, status, token, logout, gone, again):
        assert PASSWORD not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr


def _read_until(fd: int, end: bytes | None, seconds: float = 30.0) -> bytes:
    """What the terminal shows until ``end`` (None: until the program exits)."""
    shown = b""
    deadline = time.monotonic() + seconds
    while end is None or end not in shown:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"timed out; the terminal showed {shown!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the program ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    return shown


def test_login_on_a_terminal_does_not_echo(home: dict[str, str]) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: binderctl on the terminal
        command = [sys.executable, "-m", "binderctl", "auth", "login", "--registry"]
        os.execve(sys.executable, command, {**os.environ, **home})
    try:
        prompt = _read_until(fd, b"(input hidden): ")
        os.write(fd, PASSWORD.encode() + b"\n")
        rest = _read_until(fd, None)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, rest
    assert b"container registry password for member 'alpha'" in prompt
    assert b"stored the container registry password" in rest
    assert PASSWORD.encode() not in prompt + rest
    assert run_cli(home, "auth", "status", "--registry").returncode == 0


def test_environment_wins_and_is_named(home: dict[str, str]) -> None:
    # a password in the keyring too, so that the variable has something to win over
    stored = run_cli(home, "auth", "login", "--registry", stdin="reg-pw-in-the-keyring\n")
    assert stored.returncode == 0, stored.stderr
    env = {**home, auth.REGISTRY_PASSWORD_ENV: PASSWORD}
    status = run_cli(env, "auth", "status", "--registry")
    assert status.returncode == 0
    assert auth.REGISTRY_PASSWORD_ENV in status.stdout
    assert "keyring" not in status.stdout
    assert PASSWORD not in status.stdout + status.stderr


def test_empty_input_is_a_usage_error(home: dict[str, str]) -> None:
    login = run_cli(home, "auth", "login", "--registry", stdin="\n")
    assert login.returncode == 2
    assert "no container registry password given" in login.stderr
    assert run_cli(home, "auth", "status", "--registry").returncode == 1


def test_without_a_keyring_points_to_the_variable(home: dict[str, str]) -> None:
    env = {**home, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    login = run_cli(env, "auth", "login", "--registry", stdin=PASSWORD + "\n")
    assert login.returncode == 1
    assert "no system keyring" in login.stderr
    assert f"container registry password in the {auth.REGISTRY_PASSWORD_ENV}" in login.stderr
    assert PASSWORD not in login.stdout + login.stderr


def test_registry_password_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.REGISTRY_PASSWORD_ENV, PASSWORD)
    secret = auth.registry_password("alpha")
    assert secret.reveal() == PASSWORD
    assert PASSWORD not in repr(secret)
    monkeypatch.delenv(auth.REGISTRY_PASSWORD_ENV)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(ConfigError, match="auth login --registry --member alpha"):
        auth.registry_password("alpha")


@pytest.mark.parametrize(
    ("version", "reads"),
    [
        ("v1.29.15+k3s1", False),
        ("v1.30.11+k3s1", False),
        ("v1.30.12+k3s1", True),
        ("v1.31.4+k3s1", False),
        ("v1.31.8+k3s1", True),
        ("v1.32.3+k3s1", False),
        ("v1.32.4+k3s1", True),
        ("v1.33.0+k3s1", True),
        ("v2.0.0+k3s1", True),
    ],
)
def test_k3s_releases_that_read_values_secrets(version: str, reads: bool) -> None:
    assert reads_values_secrets(version) is reads


def test_an_external_registry_needs_a_k3s_that_reads_values_secrets() -> None:
    text = (
        '[members.alpha]\nbinder_host = "alpha.example.org"\n'
        'ssh_allowed_cidrs = ["203.0.113.0/24"]\nregistry_url = "https://registry.example.org"\n'
    )
    parse_config(Path("c.toml"), text)  # the default k3s reads them
    older = text + 'k3s_version = "v1.31.4+k3s1"\n'
    with pytest.raises(ConfigError, match=r"members\.alpha\.k3s_version: v1\.31\.4\+k3s1 cannot"):
        parse_config(Path("c.toml"), older)
    member = parse_config(Path("c.toml"), text + 'k3s_version = "v1.31.8+k3s1"\n').member(None)
    assert member.registry_url == "https://registry.example.org"
