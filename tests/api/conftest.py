"""An installation behind the API: the memory CRM and ERP (see tests.engine.memoryfixtures)
with ``credit_limit`` flagged sensitive, and one user and token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from isthmus.api.app import create_app
from isthmus.api.auth import issue_token
from isthmus.engine.engine import Engine
from isthmus.store import ROLES, Role, User
from isthmus.testing import MemoryConnector
from tests.engine.memoryfixtures import open_engine, write_config


def flag_sensitive(config: Path, mapping: str, canonical: str) -> None:
    """Mark one rule of a written mapping ``sensitive: true``."""
    path = config.parent / "mappings" / f"{mapping}.yaml"
    document = yaml.safe_load(path.read_text())
    for rule in document["fields"]:
        if rule.get("canonical") == canonical:
            rule["sensitive"] = True
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def add_users(engine: Engine) -> dict[Role, str]:
    """A user per role, named like it; returns each one's token text."""
    tokens: dict[Role, str] = {}
    for role in ROLES:
        engine.store.add_user(User(role, role))
        tokens[role] = issue_token(engine.store, role)[1]
    return tokens


@dataclass
class Api:
    client: TestClient
    engine: Engine
    crm: MemoryConnector
    erp: MemoryConnector
    tokens: dict[Role, str]

    def auth(self, role: Role | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    config = write_config(tmp_path)
    flag_sensitive(config, "crm_account", "credit_limit")
    flag_sensitive(config, "erp_customer", "credit_limit")
    engine, crm, erp = open_engine(config)
    tokens = add_users(engine)
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        yield Api(client, engine, crm, erp, tokens)
