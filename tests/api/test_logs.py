"""JSON logs: one line per request and per run, with ids; no token and no value of a
sensitive field ever appears."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from isthmus.api.logs import configure_logging, log
from tests.api.conftest import Api


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(stream)
    yield stream
    structlog.reset_defaults()


def test_requests_and_runs_are_logged_without_secrets(api: Api, lines: io.StringIO) -> None:
    api.crm.put(
        "Account",
        {
            "Name": "Acme",
            "AccountNumber": "C-1",
            "Credit_Limit__c": "98765",
            "CurrencyIsoCode": "EUR",
        },
    )
    answer = api.client.post("/flows/customers/run", headers=api.auth("operator"))
    assert answer.status_code == 200
    log.info("probe", token="ist_abc_secret", password="hunter2", flow="customers")

    text = lines.getvalue()
    events = [json.loads(line) for line in text.splitlines()]
    run = next(e for e in events if e["event"] == "run_finished")
    assert run["flow"] == "customers"
    assert run["run_id"] == answer.json()["report"]["run_id"]
    request = next(e for e in events if e["event"] == "request")
    assert (request["method"], request["path"], request["status"]) == (
        "POST",
        "/flows/customers/run",
        200,
    )
    probe = next(e for e in events if e["event"] == "probe")
    assert (probe["token"], probe["password"]) == ("[redacted]", "[redacted]")
    for secret in (*api.tokens.values(), "hunter2", "ist_abc_secret", "98765"):
        assert secret not in text
