"""The Hetzner API token: from ``HCLOUD_TOKEN`` or the system keyring, never shown."""

from __future__ import annotations

import os

from binderctl.errors import BinderctlError, ConfigError

TOKEN_ENV = "HCLOUD_TOKEN"
KEYRING_SERVICE = "binderctl"


class Secret:
    """A credential that never reveals itself in ``repr``, ``str`` or tracebacks."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(source={self.source!r}, value=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


class NoKeyringError(BinderctlError):
    pass


def _keyring_account(member: str) -> str:
    return f"hcloud-token:{member}"


def _usable_keyring():  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        raise NoKeyringError(
            "no system keyring is available on this machine",
            hint=f"set the token in the {TOKEN_ENV} environment variable instead",
        )
    return keyring


def hetzner_token(member: str) -> Secret:
    value = os.environ.get(TOKEN_ENV, "").strip()
    if value:
        return Secret(value, f"environment variable {TOKEN_ENV}")
    try:
        keyring = _usable_keyring()
        stored = keyring.get_password(KEYRING_SERVICE, _keyring_account(member))
    except NoKeyringError:
        stored = None
    if stored:
        return Secret(stored, f"system keyring (service {KEYRING_SERVICE!r})")
    raise ConfigError(
        f"no Hetzner API token for member {member!r}",
        hint=f"run `binderctl auth login --member {member}` or set {TOKEN_ENV}",
    )


def token_source(member: str) -> str | None:
    try:
        return hetzner_token(member).source
    except ConfigError:
        return None


def store_token(member: str, token: str) -> None:
    keyring = _usable_keyring()
    keyring.set_password(KEYRING_SERVICE, _keyring_account(member), token)


def forget_token(member: str) -> bool:
    from keyring.errors import PasswordDeleteError

    keyring = _usable_keyring()
    try:
        keyring.delete_password(KEYRING_SERVICE, _keyring_account(member))
    except PasswordDeleteError:
        return False
    return True
