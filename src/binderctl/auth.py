"""The member's credentials: the Hetzner API token and an external registry's password.

Each comes from its environment variable (scripts, CI) or the system keyring (service
``binderctl``, one account per member and credential), and is never shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from binderctl.errors import BinderctlError, ConfigError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

TOKEN_ENV = "HCLOUD_TOKEN"
REGISTRY_PASSWORD_ENV = "BINDERCTL_REGISTRY_PASSWORD"
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


@dataclass(frozen=True)
class Credential:
    """One kind of credential: what it is called, where it is looked for."""

    what: str  # for messages: "Hetzner API token"
    env: str  # the environment variable that overrides the keyring
    account_prefix: str  # keyring account: "<prefix>:<member>"
    login_flag: str  # what `binderctl auth login` needs to store this one
    owner: str = "member"  # what the keyring account is per: a member, a watch target

    def login_command(self, member: str) -> str:
        flag = " --member" if self.owner == "member" else ""
        return f"binderctl auth login{self.login_flag}{flag} {member}"

    def account(self, member: str) -> str:
        return f"{self.account_prefix}:{member}"


HETZNER_TOKEN = Credential("Hetzner API token", TOKEN_ENV, "hcloud-token", "")
REGISTRY_PASSWORD = Credential(
    "container registry password", REGISTRY_PASSWORD_ENV, "registry", " --registry"
)


class NoKeyringError(BinderctlError):
    pass


def _usable_keyring(credential: Credential) -> KeyringBackend:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        raise NoKeyringError(
            "no system keyring is available on this machine",
            hint=f"set the {credential.what} in the {credential.env} environment variable instead",
        )
    return backend


def lookup(credential: Credential, member: str) -> Secret:
    """The credential from its environment variable, else the keyring; ConfigError if
    neither has it."""
    value = os.environ.get(credential.env, "").strip()
    if value:
        return Secret(value, f"environment variable {credential.env}")
    try:
        keyring = _usable_keyring(credential)
        stored = keyring.get_password(KEYRING_SERVICE, credential.account(member))
    except NoKeyringError:
        stored = None
    if stored:
        return Secret(stored, f"system keyring (service {KEYRING_SERVICE!r})")
    raise ConfigError(
        f"no {credential.what} for {credential.owner} {member!r}",
        hint=f"run `{credential.login_command(member)}` or set {credential.env}",
    )


def source(credential: Credential, member: str) -> str | None:
    """Where the credential would come from, or None when there is none."""
    try:
        return lookup(credential, member).source
    except ConfigError:
        return None


def store(credential: Credential, member: str, value: str) -> None:
    keyring = _usable_keyring(credential)
    keyring.set_password(KEYRING_SERVICE, credential.account(member), value)


def forget(credential: Credential, member: str) -> bool:
    """Remove the keyring entry; False when there was none."""
    from keyring.errors import PasswordDeleteError

    keyring = _usable_keyring(credential)
    try:
        keyring.delete_password(KEYRING_SERVICE, credential.account(member))
    except PasswordDeleteError:
        return False
    return True


def hetzner_token(member: str) -> Secret:
    return lookup(HETZNER_TOKEN, member)


def registry_password(member: str) -> Secret:
    return lookup(REGISTRY_PASSWORD, member)
