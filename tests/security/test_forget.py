"""`isthmus forget` on the demo installation (two SQLite systems, the real CLI): the
person's data leaves the store, a tombstone keeps them from being synced back, the
erasure is audited without personal data, and the systems can be asked to delete."""

from __future__ import annotations

import shutil
import sqlite3
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from isthmus.cli.main import app
from isthmus.demo.seed import create_databases, sf_id
from isthmus.engine.config import load_config
from isthmus.store import open_store

runner = CliRunner()
PLANTED = "PLANTED-PHONE-8841"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    crm_url, erp_url = create_databases(tmp_path)
    monkeypatch.setenv("ISTHMUS_DEMO_CRM", crm_url)
    monkeypatch.setenv("ISTHMUS_DEMO_ERP", erp_url)
    with resources.as_file(resources.files("isthmus.demo") / "files") as source:
        shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    return tmp_path / "isthmus.yaml"


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def person(directory: Path) -> tuple[str, str]:
    """The first demo contact: its CRM id and email, after a phone was planted."""
    crm = create_engine(f"sqlite:///{directory}/crm.db")
    contact_id = sf_id("003", 1)
    with crm.begin() as tx:
        email = tx.execute(
            text("SELECT Email FROM contacts WHERE Id = :id"), {"id": contact_id}
        ).scalar_one()
        tx.execute(
            text(
                "UPDATE contacts SET Phone = :p, LastModifiedDate = CURRENT_TIMESTAMP "
                "WHERE Id = :id"
            ),
            {"p": PLANTED, "id": contact_id},
        )
    crm.dispose()
    return contact_id, str(email)


def store_text(path: Path) -> bytes:
    """Every byte of the SQLite store, its WAL included: what a stolen copy would hold."""
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def rows_mentioning(path: Path, value: str) -> list[str]:
    """Rows of the store holding ``value``, except change-feed cursors: a cursor may keep
    the id of the last record read as its position (no data of that record)."""
    with sqlite3.connect(path) as db:
        return [
            line
            for line in db.iterdump()
            if value in line and not line.startswith('INSERT INTO "cursors"')
        ]


def test_forget_by_email_erases_the_store_and_keeps_the_person_out(demo: Path) -> None:
    cli("sync", "-c", str(demo), "-q")
    contact_id, email = person(demo.parent)
    cli("sync", "-c", str(demo), "-q")
    state = demo.parent / "state.db"
    assert PLANTED.encode() in store_text(state), "the planted value was synced and audited"

    output = cli("forget", "-c", str(demo), "--email", email.upper())

    assert "store: bases" in output
    assert "tombstones added" in output
    raw = store_text(state)
    for value in (email, PLANTED):
        assert value.encode() not in raw, f"{value} is still in the store file"
    assert rows_mentioning(state, contact_id) == []
    # The person's records still exist in both systems, but are never synced back.
    crm = create_engine(f"sqlite:///{demo.parent}/crm.db")
    with crm.begin() as tx:
        tx.execute(
            text(
                "UPDATE contacts SET Title = 'changed', "
                "LastModifiedDate = datetime('now', '+1 minute') WHERE Id = :id"
            ),
            {"id": contact_id},
        )
    crm.dispose()
    cli("sync", "-c", str(demo), "-q")
    assert email.encode() not in store_text(state)
    assert rows_mentioning(state, contact_id) == []
    # The erasure is audited, without any identifier of the person.
    store = open_store(load_config(demo).store_url())
    try:
        (event,) = store.audit_events(action="erase")
        assert event.message is not None
        assert "erased from the store" in event.message
        assert email not in repr(event)
        assert contact_id not in repr(event)
    finally:
        store.close()


def test_forget_by_system_id_can_delete_in_both_systems(demo: Path) -> None:
    cli("sync", "-c", str(demo), "-q")
    contact_id, email = person(demo.parent)
    output = cli(
        "forget", "-c", str(demo), "--system", "crm", "--id", contact_id, "--delete-in-systems"
    )
    assert f"crm {contact_id}" in output
    assert output.count("deleted") >= 2, output
    with sqlite3.connect(demo.parent / "crm.db") as crm:
        (deleted,) = crm.execute(
            "SELECT IsDeleted FROM contacts WHERE Id = ?", (contact_id,)
        ).fetchone()
    with sqlite3.connect(demo.parent / "erp.db") as erp:
        rows = erp.execute("SELECT deleted FROM contacts WHERE email = ?", (email,)).fetchall()
    assert deleted == 1
    assert rows == [(1,)], "the ERP copy is deleted too"
    cli("sync", "-c", str(demo), "-q")
    assert email.encode() not in store_text(demo.parent / "state.db")


def test_forget_needs_someone(demo: Path) -> None:
    result = runner.invoke(app, ["forget", "-c", str(demo)])
    assert result.exit_code == 2
    assert "Give --system and --id, --email, or --canonical" in result.output


def test_forget_can_anonymise_the_sensitive_fields_in_both_systems(demo: Path) -> None:
    mapping_dir = demo.parent / "mappings"
    for name, email, phone in (
        ("crm_contact", "Email", "Phone"),
        ("erp_contact", "email", "phone"),
    ):
        mapping = mapping_dir / f"{name}.yaml"
        mapping.write_text(
            mapping.read_text()
            .replace(f"native: {email}\n", f"native: {email}\n    sensitive: true\n")
            .replace(f"native: {phone}\n", f"native: {phone}\n    sensitive: true\n")
        )
    cli("sync", "-c", str(demo), "-q")
    contact_id, email = person(demo.parent)
    cli("sync", "-c", str(demo), "-q")

    output = cli("forget", "-c", str(demo), "--email", email, "--anonymise-in-systems")

    assert output.count("anonymised") == 2, output
    with sqlite3.connect(demo.parent / "crm.db") as crm:
        crm_row = crm.execute(
            "SELECT Email, Phone, LastName FROM contacts WHERE Id = ?", (contact_id,)
        ).fetchone()
    with sqlite3.connect(demo.parent / "erp.db") as erp:
        erp_rows = erp.execute(
            "SELECT email, phone FROM contacts WHERE email LIKE 'erased-%'"
        ).fetchall()
    assert crm_row[0].startswith("erased-")
    assert crm_row[0].endswith("@example.invalid")
    assert crm_row[1] == "erased"
    assert crm_row[2], "fields not marked sensitive are left as they are"
    assert len(erp_rows) == 1
    assert erp_rows[0][1] == "erased"
    cli("sync", "-c", str(demo), "-q")  # the anonymised records are not synced back
    assert rows_mentioning(demo.parent / "state.db", contact_id) == []
