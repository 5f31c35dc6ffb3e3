"""Sensitive fields encrypted at rest: with `encrypt_sensitive_fields: true`, the demo's
contact emails and phones are ciphertexts in the store's file, while syncing still
sees plain values (a second sync writes nothing; an edit still propagates), and a key
rotation re-encrypts them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from isthmus.demo.seed import sf_id
from isthmus.security.keys import KEY_ENV, KEY_FILE_ENV
from tests.security.test_forget import cli, demo, store_text  # noqa: F401  (fixture)


def _protect(config: Path) -> None:
    mapping = config.parent / "mappings" / "crm_contact.yaml"
    mapping.write_text(
        mapping.read_text()
        .replace("native: Email\n", "native: Email\n    sensitive: true\n")
        .replace("native: Phone\n", "native: Phone\n    sensitive: true\n")
    )
    config.write_text(config.read_text() + "encrypt_sensitive_fields: true\n")


def _writes(output: str) -> int:
    flows = json.loads(output)["flows"]
    return sum(
        flow["counts"].get(kind, 0) for flow in flows for kind in ("created", "updated", "deleted")
    )


def _emails(directory: Path) -> list[str]:
    with sqlite3.connect(directory / "crm.db") as crm:
        return [row[0] for row in crm.execute("SELECT Email FROM contacts")]


def test_sensitive_values_are_ciphertexts_and_sync_still_works(
    demo: Path,  # noqa: F811
    key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _protect(demo)
    cli("sync", "-c", str(demo), "-q")
    state = demo.parent / "state.db"
    emails = _emails(demo.parent)
    raw = store_text(state)
    assert len(emails) == 50
    assert not [email for email in emails if email.encode() in raw]
    assert b"enc:v1:" in raw
    with sqlite3.connect(state) as db:
        names = [row[0] for row in db.execute("SELECT fields FROM bases")]
    assert any('"last_name"' in fields for fields in names), "other fields stay readable"

    assert _writes(cli("sync", "-c", str(demo), "--json")) == 0, "plain values compare equal"

    crm = create_engine(f"sqlite:///{demo.parent}/crm.db")
    with crm.begin() as tx:
        tx.execute(
            text(
                "UPDATE contacts SET Phone = '+31 20 555 0101', "
                "LastModifiedDate = datetime('now', '+1 minute') WHERE Id = :id"
            ),
            {"id": sf_id("003", 1)},
        )
    crm.dispose()
    cli("sync", "-c", str(demo), "-q")
    with sqlite3.connect(demo.parent / "erp.db") as erp:
        phones = [row[0] for row in erp.execute("SELECT phone FROM contacts")]
    assert "+31 20 555 0101" in phones, "an edit of an encrypted field still propagates"
    assert b"+31 20 555 0101" not in store_text(state)

    new_key = demo.parent / "new.key"
    output = cli("secrets", "rotate", "-c", str(demo), "--new-key-file", str(new_key))
    assert "0 secret(s) re-encrypted" in output
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv(KEY_FILE_ENV, str(new_key))
    third = cli("sync", "-c", str(demo), "--json")
    assert _writes(third) == 0, "the values open with the new key and compare equal"


def test_forget_by_email_finds_the_person_behind_encrypted_fields(
    demo: Path,  # noqa: F811
    key: str,
) -> None:
    _protect(demo)
    cli("sync", "-c", str(demo), "-q")
    email = _emails(demo.parent)[3]
    output = cli("forget", "-c", str(demo), "--email", email)
    assert "1 canonical record(s), 2 linked native record(s)" in output
    assert email.encode() not in store_text(demo.parent / "state.db")
