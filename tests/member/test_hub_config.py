"""JupyterHub's authenticator_class as the z2jh hub image resolves it: entry-point names
of jupyterhub and oauthenticator, or an importable module.Class of an installed package;
anything else stops the hub at start (the hub-crashloop drill relies on it)."""

from __future__ import annotations

import pytest

from binderctl.demo.member.hub_config import authenticator_error


def values(name: object) -> dict[str, object]:
    return {"jupyterhub": {"hub": {"config": {"JupyterHub": {"authenticator_class": name}}}}}


@pytest.mark.parametrize(
    "name",
    ["null", "NULL", "dummy", "github", "local-gitlab", "mediawiki",
     "oauthenticator.github.GitHubOAuthenticator", "nativeauthenticator.NativeAuthenticator"],
)  # fmt: skip
def test_installed_authenticators_start(name: str) -> None:
    assert authenticator_error(values(name)) is None


def test_binderhubs_default_starts() -> None:
    assert authenticator_error({}) is None


@pytest.mark.parametrize(
    "name", ["nul", "mediawiki-local", "local-mediawiki", "myauth.MyAuthenticator", "GitHub."]
)
def test_anything_else_stops_the_hub(name: str) -> None:
    error = authenticator_error(values(name))
    assert error is not None
    assert error.startswith("traitlets.traitlets.TraitError: The 'authenticator_class' trait")
    assert repr(name) in error
