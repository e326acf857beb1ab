import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "binderctl", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {
        "BINDERCTL_HOME": str(tmp_path / "home"),
        "BINDERCTL_CONFIG": str(tmp_path / "cfg" / "config.toml"),
        "HCLOUD_TOKEN": "",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("binderctl ")


def test_config_init_then_check(home: dict[str, str]) -> None:
    result = run("config", "init", "--name", "hetzner", env=home)
    assert result.returncode == 0, result.stderr
    path = Path(home["BINDERCTL_CONFIG"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    check = run("config", "check", env=home)
    assert check.returncode == 0
    assert "hetzner" in check.stdout
    again = run("config", "init", env=home)
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_bad_config_exits_2_without_traceback(home: dict[str, str]) -> None:
    path = Path(home["BINDERCTL_CONFIG"])
    path.parent.mkdir(parents=True)
    path.write_text('[members.x]\nbinder_host = "x.org"\nssh_allowed_cidrs = ["10.0.0.0/33"]\n')
    result = run("config", "check", env=home)
    assert result.returncode == 2
    assert "members.x.ssh_allowed_cidrs" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_global_options_before_or_after_subcommand(home: dict[str, str]) -> None:
    run("config", "init", "--name", "alpha", env=home)
    before = run("--member", "alpha", "-o", "json", "auth", "status", env=home)
    after = run("auth", "status", "--member", "alpha", "-o", "json", env=home)
    assert before.stdout == after.stdout
    assert '"token": false' in before.stdout
    assert before.returncode == after.returncode == 1


def test_auth_without_keyring_points_to_env(home: dict[str, str]) -> None:
    run("config", "init", "--name", "alpha", env=home)
    result = run("auth", "login", env=home, stdin="secret-token\n")
    assert result.returncode == 1
    assert "HCLOUD_TOKEN" in result.stderr
    assert "secret-token" not in result.stderr + result.stdout


def test_auth_status_never_shows_token(home: dict[str, str]) -> None:
    run("config", "init", "--name", "alpha", env=home)
    token = "tok-VISIBLE-IF-LEAKED-42"
    result = run("auth", "status", env={**home, "HCLOUD_TOKEN": token})
    assert result.returncode == 0
    assert "HCLOUD_TOKEN" in result.stdout
    assert token not in result.stdout + result.stderr


def test_unknown_command_is_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
