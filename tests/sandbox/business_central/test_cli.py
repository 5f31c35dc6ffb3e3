"""``isthmus sandbox business-central`` starts a real server, here over TLS."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

CREDENTIALS = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "sec"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_serves_https_with_the_given_tenant_and_credentials() -> None:
    port = _free_port()
    command = [
        sys.executable, "-m", "isthmus.cli.main", "sandbox", "business-central",
        "--port", str(port), "--tenant", "t1", "--environment", "prod",
        "--client-id", "cid", "--client-secret", "sec", "--seed", "7",
        "--customers", "3", "--items", "2", "--tls",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        token = None
        while token is None:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the sandbox did not start"
            try:
                reply = httpx.post(
                    f"{base}/t1/oauth2/v2.0/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "cid",
                        "client_secret": "sec",
                    },
                    verify=False,
                )
                token = reply.json()["access_token"]
            except httpx.HTTPError:
                time.sleep(0.1)
        companies = httpx.get(
            f"{base}/v2.0/t1/prod/api/v2.0/companies",
            headers={"Authorization": f"Bearer {token}"},
            verify=False,
        )
        assert companies.status_code == 200
        company = companies.json()["value"][0]["id"]
        customers = httpx.get(
            f"{base}/v2.0/t1/prod/api/v2.0/companies({company})/customers?$count=true",
            headers={"Authorization": f"Bearer {token}"},
            verify=False,
        ).json()
        assert customers["@odata.count"] == 3
    finally:
        process.terminate()
        process.wait(timeout=10)
