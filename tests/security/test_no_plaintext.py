"""Done-when of the security issue: after a full run against the Salesforce sandbox (with
expiring sessions and a dead letter) and a `forget`, neither the state store (SQLite
file bytes, or every row of PostgreSQL) nor the logs and command output hold the
sandbox's secrets, the tokens it issued, or the planted personal value, in plain text."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import structlog
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from isthmus.api.logs import configure_logging, log, log_run
from isthmus.cli.main import app
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.runner import RunOptions
from isthmus.sandbox.salesforce.settings import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from isthmus.store import tables as t
from tests.connectors.salesforce.test_sync import ERP, FAST, MAPPINGS
from tests.sandbox.salesforce.conftest import RunningSandbox

runner = CliRunner()
PLANTED = "+44 20 7946 0958 planted-personal"
LONG_NAME = "Planted Person " + "x" * 290  # too long for Salesforce: a dead letter
# What the dead letter's message quotes of it (the start of the value).
QUOTED = "Planted Person xxxxxxxxxx"


def _config(directory: Path, sandbox_url: str, store_url: str) -> Path:
    (directory / "mappings").mkdir()
    for name, (obj, fields) in MAPPINGS.items():
        rules = [{"canonical": c, "native": n} for c, n in fields.items()]
        for rule in rules:
            rule["sensitive"] = rule["canonical"] == "phone"
        spec = {"name": name, "entity": "customer", "object": obj, "fields": rules}
        (directory / "mappings" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    crm = {
        "login_url": sandbox_url,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": "${secret:SF_CLIENT_SECRET}",
        "grant": "password",
        "username": DEFAULT_USERNAME,
        "password": "${secret:SF_PASSWORD}",
    }
    erp_objects = {
        "customers": {
            "table": "customers",
            "key": "no",
            "updated_at": "modified",
            "external_key": "crm_ref",
        }
    }
    config = {
        "store": store_url,
        "systems": {
            "crm": {"connector": "salesforce", "options": crm},
            "erp": {
                "connector": "sql",
                "options": {"url": f"sqlite:///{directory}/erp.db", "objects": erp_objects},
            },
        },
        "mappings": ["mappings/"],
        "retention": {"audit_payload_days": 30, "dead_letter_days": 30},
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                "source": {"system": "crm", "object": "Account", "mapping": "sf_account"},
                "target": {"system": "erp", "object": "customers", "mapping": "erp_customer"},
                "direction": "both",
                "match": {"keys": ["number"]},
                "conflict": {"default": "source"},
            }
        ],
    }
    path = directory / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _cli(output: io.StringIO, *args: str, stdin: str | None = None, code: int = 0) -> None:
    result = runner.invoke(app, list(args), input=stdin)
    output.write(result.output)
    assert result.exit_code == code, result.output


def _sync(config: Path) -> None:
    async def go() -> None:
        engine = Engine.from_config(load_config(config))
        try:
            for report in await engine.sync(options=RunOptions(retry=FAST)):
                log_run(report, actor="test")
                for message in report.messages:
                    log.warning("run_message", flow=report.flow, message=message)
        finally:
            await engine.close()

    asyncio.run(go())


def _store_text(url: str, directory: Path) -> bytes:
    if url.startswith("sqlite"):
        state = directory / "state.db"
        wal = directory / "state.db-wal"
        return state.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    dump = io.StringIO()
    with engine.connect() as connection:
        for table in t.metadata.sorted_tables:
            for (row,) in connection.execute(text(f"SELECT x::text FROM {table.name} x")):
                dump.write(row + "\n")
    engine.dispose()
    return dump.getvalue().encode()


def test_no_secret_token_or_forgotten_value_in_store_or_logs(
    tmp_path: Path,
    org: RunningSandbox,
    key: str,
    store_url: str,
) -> None:
    config = _config(tmp_path, org.url, store_url)
    erp = create_engine(f"sqlite:///{tmp_path}/erp.db")
    ERP.create_all(erp)
    output = io.StringIO()
    logs = io.StringIO()
    configure_logging(logs)
    try:
        _cli(
            output,
            "secrets",
            "set",
            "-c",
            str(config),
            "SF_CLIENT_SECRET",
            stdin=DEFAULT_CLIENT_SECRET,
        )
        _cli(output, "secrets", "set", "-c", str(config), "SF_PASSWORD", stdin=DEFAULT_PASSWORD)
        _cli(output, "secrets", "list", "-c", str(config))
        with org.http() as client:
            for n in range(5):
                client.post(
                    "/services/data/v59.0/sobjects/Account",
                    json={"Name": f"Account {n}", "AccountNumber": f"A-{n}", "Phone": "1"},
                ).raise_for_status()
            planted = client.post(
                "/services/data/v59.0/sobjects/Account",
                json={"Name": "Planted Person", "AccountNumber": "P-1", "Phone": PLANTED},
            ).json()["id"]
        # Sessions expire along the way: new tokens are issued and must not leak either.
        httpx.post(
            f"{org.url}/__sandbox/sessions/expire", json={"after_calls": 2, "repeat": True}
        ).raise_for_status()
        _sync(config)
        # The ERP copy gets a name Salesforce refuses: the change becomes a dead letter
        # holding a copy of the record (its phone included).
        with erp.begin() as tx:
            tx.execute(
                text("UPDATE customers SET name = :n, modified = :now WHERE customer_no = 'P-1'"),
                {"n": LONG_NAME, "now": datetime.now(UTC)},
            )
        _sync(config)
        # Shown to the operator before the erasure (it quotes the name): not scanned.
        _cli(io.StringIO(), "dead-letters", "list", "-c", str(config))
        before = _store_text(store_url, tmp_path)
        assert PLANTED.encode() in before, "the planted value was in the store before forget"
        assert QUOTED.encode() in before, "and quoted in the dead letter's message"

        _cli(output, "forget", "-c", str(config), "--system", "crm", "--id", planted)
        _sync(config)  # the person's records are skipped now, not synced back
        _cli(output, "status", "-c", str(config))
        _cli(output, "purge", "-c", str(config))
    finally:
        structlog.reset_defaults()
        erp.dispose()

    tokens = list(org.sandbox.state.tokens.issued)
    assert len(tokens) >= 3, "sessions expired and were renewed during the run"
    secrets = {
        "client secret": DEFAULT_CLIENT_SECRET,
        "password": DEFAULT_PASSWORD,
        "planted personal value": PLANTED,
        "dead-lettered name": QUOTED,
        **{f"token {n}": token for n, token in enumerate(tokens)},
    }
    store = _store_text(store_url, tmp_path)
    log_text = logs.getvalue() + output.getvalue()
    assert "run_finished" in log_text, "the logs were captured"
    for what, value in secrets.items():
        assert value.encode() not in store, f"{what} in the state store"
        assert value not in log_text, f"{what} in the logs or command output"
