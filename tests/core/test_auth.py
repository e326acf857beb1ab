import pytest

from binderctl import auth
from binderctl.errors import ConfigError

TOKEN = "tok-RECOGNISABLE-0123456789"


def test_secret_never_reveals_itself() -> None:
    secret = auth.Secret(TOKEN, "test")
    assert TOKEN not in repr(secret)
    assert TOKEN not in str(secret)
    assert TOKEN not in f"{secret!r} {secret}"
    assert secret.reveal() == TOKEN


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HCLOUD_TOKEN", TOKEN)
    secret = auth.hetzner_token("demo")
    assert secret.reveal() == TOKEN
    assert "HCLOUD_TOKEN" in secret.source


def test_no_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HCLOUD_TOKEN", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(ConfigError, match="auth login") as info:
        auth.hetzner_token("demo")
    assert info.value.exit_code == 2
