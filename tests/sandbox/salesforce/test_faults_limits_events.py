"""Fault injection, the API budget and concurrency cap, change-event push, TLS, and the CLI."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from isthmus.cli.main import app as cli_app
from isthmus.sandbox.common import generate_self_signed, running_server
from isthmus.sandbox.salesforce import cli as sandbox_cli
from isthmus.sandbox.salesforce.app import create_sandbox
from isthmus.sandbox.salesforce.settings import LimitSettings, SandboxSettings
from tests.sandbox.salesforce.conftest import API, RunningSandbox, serve_sandbox


def _faults(running: RunningSandbox, **settings: Any) -> None:
    answer = httpx.post(f"{running.url}/__sandbox/faults", json=settings)
    assert answer.status_code == 200, answer.text


def test_injected_errors_use_salesforce_error_bodies(fresh: RunningSandbox) -> None:
    sf = fresh.simple_salesforce()
    client = fresh.http()  # log in first: the token endpoint draws faults too
    _faults(fresh, error_rate=1.0, error_statuses=[503], seed=1)
    with client:
        answer = client.get(f"{API}/limits")
    assert answer.status_code == 503
    assert answer.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")
    _faults(fresh, error_statuses=[500])
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.status == 500
    _faults(fresh, error_rate=0.0)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_dropped_connections_reach_simple_salesforce_as_transport_errors(
    fresh: RunningSandbox,
) -> None:
    sf = fresh.simple_salesforce()
    _faults(fresh, drop_rate=1.0)
    with pytest.raises(requests.exceptions.RequestException):
        sf.query("SELECT Id FROM Account")


def test_fault_sequence_is_reproducible_with_a_seed() -> None:
    def statuses() -> list[int]:
        settings = SandboxSettings(volume="empty")
        with serve_sandbox(settings) as running, running.http() as client:
            _faults(running, error_rate=0.4, seed=99)  # after login: the token call could fail
            return [client.get(f"{API}/limits").status_code for _ in range(30)]

    first = statuses()
    assert first == statuses()
    assert {200, 500, 503} >= set(first)
    assert len(set(first)) > 1


def test_partial_failures_inside_collections_and_bulk(fresh: RunningSandbox) -> None:
    _faults(fresh, partial_failure_rate=0.5, seed=3)
    with fresh.http() as client:
        records = [{"attributes": {"type": "Account"}, "Name": f"P{i}"} for i in range(40)]
        results = client.post(f"{API}/composite/sobjects", json={"records": records}).json()
        failed = [r for r in results if not r["success"]]
        assert 5 < len(failed) < 35
        assert {r["errors"][0]["statusCode"] for r in failed} == {"UNKNOWN_EXCEPTION"}
        count = client.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Account"}).json()
        assert count["totalSize"] == 40 - len(failed)
        job = client.post(
            f"{API}/jobs/ingest", json={"object": "Account", "operation": "insert"}
        ).json()
        rows = "Name\n" + "".join(f"B{i}\n" for i in range(20))
        client.put(f"{API}/jobs/ingest/{job['id']}/batches", content=rows.encode())
        client.patch(f"{API}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
        failed_csv = client.get(f"{API}/jobs/ingest/{job['id']}/failedResults").text
        errors = [row["sf__Error"] for row in csv.DictReader(io.StringIO(failed_csv))]
        assert errors
        assert all(e.startswith("UNKNOWN_EXCEPTION:") for e in errors)


def test_composite_all_or_none_rolls_back_earlier_subrequests(fresh: RunningSandbox) -> None:
    with fresh.http() as client:
        answer = client.post(
            f"{API}/composite",
            json={
                "allOrNone": True,
                "compositeRequest": [
                    {
                        "method": "POST",
                        "url": f"{API}/sobjects/Account",
                        "referenceId": "a",
                        "body": {"Name": "Kept?"},
                    },
                    {
                        "method": "POST",
                        "url": f"{API}/sobjects/Account",
                        "referenceId": "b",
                        "body": {},
                    },
                    {
                        "method": "GET",
                        "url": f"{API}/sobjects/Account/@{{a.id}}",
                        "referenceId": "c",
                    },
                ],
            },
        ).json()["compositeResponse"]
        codes = [r["body"][0]["errorCode"] for r in answer]
        assert codes == ["PROCESSING_HALTED", "REQUIRED_FIELD_MISSING", "PROCESSING_HALTED"]
        count = client.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Account"}).json()
        assert count["totalSize"] == 0
        too_many = [
            {"method": "GET", "url": f"{API}/limits", "referenceId": f"r{i}"} for i in range(26)
        ]
        assert (
            client.post(f"{API}/composite", json={"compositeRequest": too_many}).status_code == 400
        )


def test_concurrency_cap_refuses_calls_over_the_limit() -> None:
    settings = SandboxSettings(volume="empty", limits=LimitSettings(max_concurrent_requests=1))
    with serve_sandbox(settings) as running:
        _faults(running, slow_rate=1.0, slow_seconds=0.5)
        token = running.token()

        def call() -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.get(f"{running.url}{API}/limits", headers=headers).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            statuses = sorted(pool.map(lambda _: call(), range(3)))
    assert statuses[0] == 200
    assert 403 in statuses


def test_change_events_are_pushed_to_a_callback(fresh: RunningSandbox) -> None:
    received: list[dict[str, Any]] = []

    async def collect(request: Request) -> JSONResponse:
        received.extend((await request.json())["events"])
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/hook", collect, methods=["POST"])])
    with running_server(receiver) as receiver_url:
        registered = httpx.post(
            f"{fresh.url}/__sandbox/events/callbacks", json={"url": f"{receiver_url}/hook"}
        )
        assert registered.status_code == 201
        with fresh.http() as client:
            client.post(f"{API}/sobjects/Account", json={"Name": "Pushed"})
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert received[0]["payload"]["ChangeEventHeader"]["changeType"] == "CREATE"
    assert received[0]["payload"]["Name"] == "Pushed"


def test_https_sandbox_with_trusted_certificate(tmp_path: Path) -> None:
    tls = generate_self_signed(directory=tmp_path)
    sandbox = create_sandbox(SandboxSettings(volume="small"))
    with running_server(sandbox.asgi, tls=tls) as url:
        trust = ssl.create_default_context(cafile=str(tls.cert_path))
        token = httpx.post(
            f"{url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "isthmus-sandbox-client",
                "client_secret": "isthmus-sandbox-secret",
            },
            verify=trust,
        ).json()
        assert token["instance_url"] == url
        session = requests.Session()
        # REQUESTS_CA_BUNDLE in the environment would override session.verify otherwise.
        session.trust_env = False
        session.verify = str(tls.cert_path)
        sf = Salesforce(
            instance_url=token["instance_url"], session_id=token["access_token"], session=session
        )
        with session:  # closing it lets the server stop without waiting on keep-alive
            assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 20


def test_cli_builds_the_sandbox_and_serves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[Any, ...]] = []
    monkeypatch.setattr(sandbox_cli, "serve", lambda *args, **kwargs: served.append(args))
    result = CliRunner().invoke(
        cli_app,
        [
            "sandbox",
            "salesforce",
            "--port",
            "9999",
            "--accounts",
            "3",
            "--fault-rate",
            "0.1",
            "--tls",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Salesforce sandbox on https://127.0.0.1:9999" in result.output
    assert "accounts    3" in result.output
    _, host, port, tls = served[0]
    assert (host, port) == ("127.0.0.1", 9999)
    assert tls.cert_path.exists()


@pytest.mark.parametrize(
    "arguments",
    [["--volume", "gigantic"], ["--fault-rate", "2"], ["--fault-statuses", "404"]],
)
def test_cli_rejects_bad_options(monkeypatch: pytest.MonkeyPatch, arguments: list[str]) -> None:
    monkeypatch.setattr(sandbox_cli, "serve", lambda *args, **kwargs: None)
    result = CliRunner().invoke(cli_app, ["sandbox", "salesforce", *arguments])
    assert result.exit_code == 2
