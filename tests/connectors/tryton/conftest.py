"""A real trytond per test module, from one template database prepared once per machine.

The template (modules activated, a company with a chart of accounts and a fiscal year)
is built on first use and cached (see ``server.py``); each test module copies it and
starts its own ``trytond`` on a free port, so modules never see each other's records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from isthmus.connectors.tryton import TrytonConnector, from_config
from tests.connectors.tryton.server import TrytonServer, prepared_template, sqlite_server


@pytest.fixture(scope="session")
def tryton_template() -> Any:
    return prepared_template()


@pytest.fixture(scope="module")
def tryton(
    tmp_path_factory: pytest.TempPathFactory, tryton_template: Any
) -> Iterator[TrytonServer]:
    with sqlite_server(tmp_path_factory.mktemp("tryton")) as server:
        yield server


def connector(server: TrytonServer, **options: Any) -> TrytonConnector:
    return from_config("erp", server.options(**options))
