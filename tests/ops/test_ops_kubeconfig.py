"""Bad kubeconfigs give one clear ConfigError (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from binderctl.config import MemberConfig
from binderctl.errors import ConfigError
from binderctl.services.kube import Kube, client_cert_expiry, kubeconfig_path

MEMBER = MemberConfig("kc", "kc.example.org", "hub.kc.example.org", ("10.0.0.0/8",), ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a kubeconfig"),
        ("contexts: 5\n", "malformed"),
        ("- a\n- b\n", "not a kubeconfig"),
        (
            "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
            "names no cluster server",
        ),
        ("key: [unclosed\n", "cannot read the kubeconfig"),
    ],
)
def test_bad_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("BINDERCTL_HOME", str(tmp_path))
    path = kubeconfig_path(MEMBER.name)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Kube(MEMBER)


def test_missing_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDERCTL_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="not provisioned yet: run binderctl --provision"):
        Kube(MEMBER)
    with pytest.raises(ConfigError, match="not provisioned yet"):
        client_cert_expiry(kubeconfig_path(MEMBER.name))
