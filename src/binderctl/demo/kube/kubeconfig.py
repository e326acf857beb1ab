"""Kubeconfig files like k3s's ``/etc/rancher/k3s/k3s.yaml``, with the certificates
embedded, written privately."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from binderctl.demo.kube.tls import ClusterCredentials
from binderctl.paths import write_private


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig_yaml(
    credentials: ClusterCredentials,
    server: str = "https://127.0.0.1:6443",
    *,
    cluster: str = "default",
    user: str = "default",
    context: str = "default",
) -> str:
    document = {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": _b64(credentials.server_ca),
                    "server": server,
                },
                "name": cluster,
            }
        ],
        "contexts": [{"context": {"cluster": cluster, "user": user}, "name": context}],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(credentials.client_cert),
                    "client-key-data": _b64(credentials.client_key),
                },
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


def write_kubeconfig(
    path: Path,
    credentials: ClusterCredentials,
    server: str = "https://127.0.0.1:6443",
    *,
    cluster: str = "default",
    user: str = "default",
    context: str = "default",
) -> Path:
    write_private(
        path, kubeconfig_yaml(credentials, server, cluster=cluster, user=user, context=context)
    )
    return path
