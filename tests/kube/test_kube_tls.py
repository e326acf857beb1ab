"""Certificates and kubeconfigs like k3s's, and client-certificate authentication."""

from __future__ import annotations

import datetime as dt
import random
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import MaxRetryError

from binderctl.demo.kube.kubeconfig import write_kubeconfig
from binderctl.demo.kube.server import KubeAPIServer
from binderctl.demo.kube.store import Store
from binderctl.demo.kube.tls import generate
from tests.kube.kube_cluster import Cluster


def _namespaces(kubeconfig: Path) -> list[str]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.retries = 0
    api = client.ApiClient(configuration)
    try:
        return [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
    finally:
        api.close()


def test_certificates_are_made_like_k3s() -> None:
    credentials = generate(["127.44.1.10"], ["member.example.org"])
    server = x509.load_pem_x509_certificate(credentials.server_cert)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"kubernetes.default", "localhost", "member.example.org"} <= set(
        names.get_values_for_type(x509.DNSName)
    )
    assert {"127.0.0.1", "127.44.1.10", "10.43.0.1"} <= {
        str(ip) for ip in names.get_values_for_type(x509.IPAddress)
    }
    admin = x509.load_pem_x509_certificate(credentials.client_cert)
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:admin"
    assert (
        admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    )
    lifetime = admin.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=364) < lifetime <= dt.timedelta(days=365)
    assert credentials.client_expiry() == admin.not_valid_after_utc


def test_kubeconfig_is_private_and_shaped_like_k3s_yaml(tmp_path: Path) -> None:
    path = write_kubeconfig(
        tmp_path / "kubeconfig",
        generate(),
        "https://127.44.1.10:6443",
        cluster="m1",
        user="m1",
        context="m1",
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = yaml.safe_load(path.read_text())
    assert document["current-context"] == "m1"
    assert document["clusters"][0]["cluster"]["server"] == "https://127.44.1.10:6443"
    assert set(document["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}


def test_a_node_address_with_its_own_port(tmp_path: Path) -> None:
    node_ip = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.10"
    running = Cluster(tmp_path, speed=None)
    try:
        server = KubeAPIServer(Store(), credentials=generate([node_ip]))
        url = running.run(server.start("127.0.0.1", 0))
        node_url = running.run(server.add_address(node_ip, 0))
        assert node_url.startswith(f"https://{node_ip}:") and url != node_url
        for address in (url, node_url):
            kubeconfig = write_kubeconfig(tmp_path / "node.yaml", server.credentials, address)
            assert "kube-system" in _namespaces(kubeconfig)
        running.run(server.stop())
    finally:
        running.close()


def test_rotated_client_certificates_work_and_expired_ones_are_unauthorized(
    cluster: Cluster, tmp_path: Path
) -> None:
    credentials = cluster.server.credentials
    rotated = credentials.rotate_client()
    assert rotated.client_cert != credentials.client_cert
    assert "default" in _namespaces(
        write_kubeconfig(tmp_path / "rotated", rotated, cluster.running.url)
    )
    expired = credentials.rotate_client(lifetime=-dt.timedelta(minutes=1))
    with pytest.raises(ApiException) as refused:
        _namespaces(write_kubeconfig(tmp_path / "expired", expired, cluster.running.url))
    assert refused.value.status == 401
    # A client certificate of another cluster: unlike kube-apiserver (401), Python's TLS
    # refuses it in the handshake; either way nothing is served.
    other = generate()
    stranger = replace(credentials, client_cert=other.client_cert, client_key=other.client_key)
    with pytest.raises(MaxRetryError):
        _namespaces(write_kubeconfig(tmp_path / "stranger", stranger, cluster.running.url))
