"""Generated requests against the served OpenAPI document: no 500 anywhere, and no
route that answers without a token."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema as BaseOpenAPISchema

from isthmus.api.app import create_app
from tests.api.conftest import add_users, flag_sensitive
from tests.engine.memoryfixtures import open_engine, write_config


def _schema(directory: Path) -> tuple[BaseOpenAPISchema, str]:
    """An installation with a dead letter, a review item and links, served over ASGI."""
    config = write_config(directory)
    flag_sensitive(config, "crm_account", "credit_limit")
    engine, crm, erp = open_engine(config)
    crm.put("Account", {"Name": "B" * 60, "AccountNumber": "C-2"})
    account = crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1", "Phone": "1"})
    asyncio.run(engine.sync(["customers"]))
    crm.put("Account", {"Phone": "2"}, account)
    erp.put("customers", {"phone": "3"}, next(iter(erp.records("customers"))))
    asyncio.run(engine.sync(["customers"]))
    token = add_users(engine)["admin"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine))
    assert isinstance(schema, BaseOpenAPISchema)
    return schema, token


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[BaseOpenAPISchema, str]:
    return _schema(tmp_path_factory.mktemp("schemathesis"))


def test_no_generated_request_is_a_server_error(served: tuple[BaseOpenAPISchema, str]) -> None:
    schema, token = served
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @_given(operation)
        def check(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=(not_a_server_error,))

        check()


def _given(operation: Any) -> Any:
    from hypothesis import given

    return given(operation.as_strategy())


def test_no_route_answers_without_a_token(served: tuple[BaseOpenAPISchema, str]) -> None:
    schema, _ = served
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @_given(operation)
        def check(case: Any) -> None:
            response = case.call()
            # Bad input may be refused before the token is looked at; nothing succeeds.
            assert response.status_code in (401, 422), (case.method, case.formatted_path)

        check()
