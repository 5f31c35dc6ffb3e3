"""Redaction: secrets and tokens are hidden in log lines (by key and by value), in CLI
errors, and in dead-letter and run messages before they are stored."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from isthmus.api.logs import configure_logging, log
from isthmus.cli.main import app
from isthmus.security import redact
from isthmus.security.redact import redact_text, redact_value, register
from isthmus.store import DeadLetter, open_store

SECRET = "sf-client-secret-0042"


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer 00Dxx!AQ8AQabcdefghijklmnop", "AQ8AQabcdefghijklmnop"),
        ("POST grant_type=password&password=hunter22&client_id=x", "hunter22"),
        ('{"access_token": "00D!abcdefgh12345", "id": 1}', "00D!abcdefgh12345"),
        ("postgresql://isthmus:pg-pass-77@db:5432/state", "pg-pass-77"),
        (f"login failed for client_secret {SECRET}", SECRET),
    ],
)
def test_credentials_in_text_are_hidden(text: str, hidden: str) -> None:
    register(SECRET)
    redacted = redact_text(text)
    assert hidden not in redacted
    assert "[redacted]" in redacted


def test_plain_text_is_left_alone() -> None:
    register("abc")  # too short to register: replacing it everywhere would garble logs
    assert redact_text("the abc of a customer record 42") == "the abc of a customer record 42"


def test_nested_values_are_hidden_by_key_and_by_value() -> None:
    register(SECRET)
    value = {"options": {"client_secret": "x", "note": f"uses {SECRET}"}, "list": [SECRET]}
    assert redact_value(value) == {
        "options": {"client_secret": "[redacted]", "note": "uses [redacted]"},
        "list": ["[redacted]"],
    }


def test_log_lines_hide_known_secrets_inside_any_field() -> None:
    stream = io.StringIO()
    configure_logging(stream)
    try:
        register(SECRET)
        log.info("login_failed", error=f"refused {SECRET}", url="https://u:pw-123456@h/x")
    finally:
        structlog.reset_defaults()
    line = stream.getvalue()
    assert SECRET not in line
    assert "pw-123456" not in line
    assert json.loads(line)["error"] == "refused [redacted]"


def test_dead_letter_and_run_messages_are_stored_redacted(tmp_path: Path) -> None:
    register(SECRET)
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        with store.unit_of_work() as uow:
            uow.put_dead_letter(
                DeadLetter(
                    "customers",
                    "customer",
                    "crm",
                    "001",
                    "validation",
                    f"Salesforce echoed {SECRET}",
                    vendor_message="Bearer abcdefghijklmnopqrstuvwxyz",
                )
            )
        run = store.start_run("customers", "manual")
        store.finish_run(run.id, "failed", {}, f"AuthError('{SECRET}')")
    finally:
        store.close()
    raw = (tmp_path / "state.db").read_bytes()
    assert SECRET.encode() not in raw
    assert b"abcdefghijklmnopqrstuvwxyz" not in raw


def test_cli_errors_are_redacted(tmp_path: Path) -> None:
    register(SECRET)
    config = tmp_path / "isthmus.yaml"
    config.write_text(f"store: {SECRET}://x\nsystems: {{}}\nflows: []\n")
    result = CliRunner().invoke(app, ["status", "-c", str(config)])
    assert result.exit_code != 0
    assert SECRET not in result.output
    assert "[redacted]://x" in result.output


def test_reprs_of_keys_and_credentials_hold_no_secret() -> None:
    from isthmus.connectors.business_central.client import Credentials as BcCredentials
    from isthmus.connectors.salesforce.client import Credentials
    from isthmus.security.keys import Cipher, new_key

    key = new_key()
    sf = Credentials("https://login", "id", SECRET, "password", "user", "pw-0001", "rt-0001")
    bc = BcCredentials("tenant", "id", SECRET)
    for text in (repr(Cipher(key)), repr(sf), repr(bc)):
        for secret in (key, SECRET, "pw-0001", "rt-0001"):
            assert secret not in text


@pytest.mark.parametrize(
    "text",
    [
        "a basic validation rule refused the record",
        "the refresh token: expired or revoked",
        "Bearer of the news",
        "field password is required",
    ],
)
def test_prose_about_credentials_is_not_garbled(text: str) -> None:
    assert redact_text(text) == text
