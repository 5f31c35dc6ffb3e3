"""HTTPS when a certificate and key are given; one without the other is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from isthmus.api.serve import Listen, control_plane_server, serve_with_webhooks
from isthmus.cli.main import app
from isthmus.engine.scheduler import Scheduler
from tests.api.conftest import add_users
from tests.engine.memoryfixtures import open_engine, write_config


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_control_plane_speaks_https_with_a_certificate(tmp_path: Path) -> None:
    engine, _, _ = open_engine(write_config(tmp_path))
    token = add_users(engine)["viewer"]
    cert, key = _self_signed(tmp_path)
    scheduler = Scheduler(engine)
    server = control_plane_server(scheduler, Listen("127.0.0.1", 0, cert, key))

    async def main() -> None:
        service = asyncio.create_task(serve_with_webhooks(scheduler, server))
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(verify=str(cert)) as client:
                answer = await client.get(
                    f"https://127.0.0.1:{port}/flows", headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 200
                assert [flow["name"] for flow in answer.json()] == ["customers", "contacts"]
        finally:
            scheduler.stop()
            await asyncio.wait_for(service, 10)

    asyncio.run(main())


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    cert, _ = _self_signed(tmp_path)
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--tls-cert", str(cert)])
    assert result.exit_code == 2
    assert "--tls-key" in result.output
