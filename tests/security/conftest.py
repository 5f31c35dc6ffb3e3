"""Shared helpers: a minimal config with a state store, and a key in the environment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from isthmus.sandbox.salesforce.settings import SandboxSettings
from isthmus.security import redact
from isthmus.security.keys import KEY_ENV, KEY_FILE_ENV, new_key
from tests.sandbox.salesforce.conftest import RunningSandbox, serve_sandbox
from tests.store.conftest import _admin_engine


def write_config(directory: Path, password: str = "${secret:ERP_PASSWORD}") -> Path:
    path = directory / "isthmus.yaml"
    path.write_text(
        f"""store: sqlite:///{directory}/state.db
systems:
  erp:
    connector: sql
    options:
      url: sqlite:///{directory}/erp.db
      password: "{password}"
  crm:
    connector: sql
    options:
      url: sqlite:///{directory}/crm.db
flows:
  - name: customers
    entity: customer
    source: {{system: crm, object: accounts, mapping: a}}
    target: {{system: erp, object: customers, mapping: b}}
"""
    )
    return path


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    value = new_key()
    monkeypatch.setenv(KEY_ENV, value)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    yield value
    redact.forget_all()


@pytest.fixture
def org() -> Iterator[RunningSandbox]:
    """An empty Salesforce sandbox of its own, over plain HTTP."""
    with serve_sandbox(SandboxSettings(volume="empty")) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
        return
    try:
        admin, user = _admin_engine()
    except Exception as error:  # the store suite's own rule: skip when PG is absent
        pytest.skip(f"PostgreSQL not reachable: {error}")
    name = f"isthmus_security_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://{user}@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
