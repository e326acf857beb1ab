from pathlib import Path

import pytest

from tests.kit.cli import cli_env, run_cli


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "home", tmp_path / "cfg" / "config.toml")


def test_version() -> None:
    result = run_cli({}, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("binderctl ")


def test_config_init_then_check(home: dict[str, str]) -> None:
    result = run_cli(home, "config", "init", "--name", "hetzner")
    assert result.returncode == 0, result.stderr
    path = Path(home["BINDERCTL_CONFIG"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    check = run_cli(home, "config", "check")
    assert check.returncode == 0
    assert "hetzner" in check.stdout
    again = run_cli(home, "config", "init")
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_bad_config_exits_2_without_traceback(home: dict[str, str]) -> None:
    path = Path(home["BINDERCTL_CONFIG"])
    path.parent.mkdir(parents=True)
    path.write_text('[members.x]\nbinder_host = "x.org"\nssh_allowed_cidrs = ["10.0.0.0/33"]\n')
    result = run_cli(home, "config", "check")
    assert result.returncode == 2
    assert "members.x.ssh_allowed_cidrs" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_global_options_before_or_after_subcommand(home: dict[str, str]) -> None:
    run_cli(home, "config", "init", "--name", "alpha")
    before = run_cli(home, "--member", "alpha", "-o", "json", "auth", "status")
    after = run_cli(home, "auth", "status", "--member", "alpha", "-o", "json")
    assert before.stdout == after.stdout
    assert '"token": false' in before.stdout
    assert before.returncode == after.returncode == 1


def test_auth_without_keyring_points_to_env(home: dict[str, str]) -> None:
    run_cli(home, "config", "init", "--name", "alpha")
    result = run_cli(home, "auth", "login", stdin="secret-token\n")
    assert result.returncode == 1
    assert "HCLOUD_TOKEN" in result.stderr
    assert "secret-token" not in result.stderr + result.stdout


def test_auth_status_never_shows_token(home: dict[str, str]) -> None:
    run_cli(home, "config", "init", "--name", "alpha")
    token = "tok-VISIBLE-IF-LEAKED-42"
    result = run_cli({**home, "HCLOUD_TOKEN": token}, "auth", "status")
    assert result.returncode == 0
    assert "HCLOUD_TOKEN" in result.stdout
    assert token not in result.stdout + result.stderr


def test_unknown_command_is_usage_error() -> None:
    result = run_cli({}, "frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
