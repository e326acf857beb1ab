"""Certificates as k3s makes them: a server CA and a client CA (ECDSA P-256), a serving
certificate for the API server's names and addresses, and an admin client certificate
(CN ``system:admin``, O ``system:masters``) valid for one year."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
)
SERVER_IPS = ("127.0.0.1", "::1", "10.43.0.1")
CA_LIFETIME = dt.timedelta(days=3650)
_NO_CHECK_TIME = 0x200000  # OpenSSL's X509_V_FLAG_NO_CHECK_TIME
LEAF_LIFETIME = dt.timedelta(days=365)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    parts = []
    if organization:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class _Authority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _authority(common_name: str, now: dt.datetime) -> _Authority:
    key = _key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Authority(cert, key)


def _leaf(
    ca: _Authority,
    name: x509.Name,
    usage: x509.ObjectIdentifier,
    now: dt.datetime,
    lifetime: dt.timedelta,
    sans: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca.key, hashes.SHA256()), key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class ClusterCredentials:
    """Everything TLS for one API server, PEM encoded."""

    server_ca: bytes
    server_cert: bytes
    server_key: bytes
    client_ca: bytes
    client_ca_key: bytes
    client_cert: bytes  # followed by the client CA, as in k3s.yaml
    client_key: bytes

    def server_context(self) -> ssl.SSLContext:
        """TLS for the server: client certificates are checked against the client CA."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory() as folder:
            cert_file, key_file = Path(folder, "tls.crt"), Path(folder, "tls.key")
            cert_file.write_bytes(self.server_cert + self.server_ca)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.server_key)
            context.load_cert_chain(cert_file, key_file)
        context.load_verify_locations(cadata=self.client_ca.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        # Check validity periods in the server (client_is_valid), as kube-apiserver does:
        # an expired client certificate then gets 401, not a failed handshake.
        context.verify_flags |= _NO_CHECK_TIME
        context.set_alpn_protocols(["http/1.1"])
        return context

    def client_expiry(self) -> dt.datetime:
        return x509.load_pem_x509_certificate(self.client_cert).not_valid_after_utc

    def rotate_client(
        self, *, lifetime: dt.timedelta = LEAF_LIFETIME, now: dt.datetime | None = None
    ) -> ClusterCredentials:
        """A new admin client certificate from the same client CA (``k3s certificate rotate``)."""
        now = now or dt.datetime.now(dt.UTC)
        ca_key = serialization.load_pem_private_key(self.client_ca_key, None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        ca = _Authority(x509.load_pem_x509_certificate(self.client_ca), ca_key)
        cert, key = _leaf(
            ca,
            _name("system:admin", "system:masters"),
            ExtendedKeyUsageOID.CLIENT_AUTH,
            now,
            lifetime,
        )
        return replace(self, client_cert=_pem(cert) + self.client_ca, client_key=_key_pem(key))


def generate(
    ips: Sequence[str] = (),
    names: Sequence[str] = (),
    *,
    client_lifetime: dt.timedelta = LEAF_LIFETIME,
    now: dt.datetime | None = None,
) -> ClusterCredentials:
    """New CAs and certificates; the serving certificate covers ``ips`` and ``names`` too."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = int(now.timestamp())
    server_ca = _authority(f"k3s-server-ca@{stamp}", now)
    client_ca = _authority(f"k3s-client-ca@{stamp}", now)
    addresses = list(dict.fromkeys([*SERVER_IPS, *ips]))
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys([*SERVER_NAMES, *names])]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    server_cert, server_key = _leaf(
        server_ca, _name("k3s", "k3s"), ExtendedKeyUsageOID.SERVER_AUTH, now, LEAF_LIFETIME, sans
    )
    client_cert, client_key = _leaf(
        client_ca,
        _name("system:admin", "system:masters"),
        ExtendedKeyUsageOID.CLIENT_AUTH,
        now,
        client_lifetime,
    )
    return ClusterCredentials(
        server_ca=_pem(server_ca.cert),
        server_cert=_pem(server_cert),
        server_key=_key_pem(server_key),
        client_ca=_pem(client_ca.cert),
        client_ca_key=_key_pem(client_ca.key),
        client_cert=_pem(client_cert) + _pem(client_ca.cert),
        client_key=_key_pem(client_key),
    )


def client_is_valid(peercert: dict[str, object] | None, now: float) -> bool:
    """Whether a client certificate (verified against the client CA, its validity period
    left to us) is current: kube-apiserver answers an expired one with 401."""
    if not peercert:
        return False
    not_before = ssl.cert_time_to_seconds(str(peercert["notBefore"]))
    not_after = ssl.cert_time_to_seconds(str(peercert["notAfter"]))
    return not_before <= now <= not_after
