"""A self-signed TLS certificate made at start-up, so a sandbox can speak HTTPS.

Clients that insist on ``https://`` (most vendor SDKs) can then talk to the sandbox by
trusting the generated certificate file (e.g. ``requests``' ``verify=cert_path``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for uvicorn: the certificate (also the CA to trust) and its private key."""

    cert_path: Path
    key_path: Path


def generate_self_signed(
    hosts: Sequence[str] = ("localhost", "127.0.0.1"),
    directory: Path | None = None,
    valid_days: int = 30,
) -> TlsFiles:
    """Write a fresh self-signed certificate valid for ``hosts`` and return its files.

    Args:
        hosts: DNS names and IP addresses the certificate must cover.
        directory: where to write ``cert.pem`` and ``key.pem``; a new temporary
            directory when omitted.
        valid_days: how long the certificate stays valid.
    """
    target = directory or Path(tempfile.mkdtemp(prefix="isthmus-sandbox-tls-"))
    target.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "sandbox")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(cert_path=target / "cert.pem", key_path=target / "key.pem")
    files.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key_path.chmod(0o600)
    return files


def _alt_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
