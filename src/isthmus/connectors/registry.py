"""Connector registry: the ``connector:`` word of a config file -> a factory.

Registered explicitly in one table (no import-time magic, no entry-point scanning), so a
reader sees every connector Isthmus ships in one place. A factory takes the system's name
and its ``options`` mapping and raises ``ConfigError`` for bad options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isthmus.connectors.base import Connector
from isthmus.errors import ConfigError

ConnectorFactory = Callable[[str, dict[str, Any]], Connector]


def _sql(name: str, options: dict[str, Any]) -> Connector:
    from isthmus.connectors.sql import from_config

    return from_config(name, options)


def _salesforce(name: str, options: dict[str, Any]) -> Connector:
    from isthmus.connectors.salesforce import from_config

    return from_config(name, options)


def _business_central(name: str, options: dict[str, Any]) -> Connector:
    from isthmus.connectors.business_central import from_config

    return from_config(name, options)


def _tryton(name: str, options: dict[str, Any]) -> Connector:
    from isthmus.connectors.tryton import from_config

    return from_config(name, options)


def _csv(name: str, options: dict[str, Any]) -> Connector:
    from isthmus.connectors.files import from_config

    return from_config(name, options)


def _memory(name: str, options: dict[str, Any]) -> Connector:
    from isthmus.testing.config import from_config

    return from_config(name, options)


FACTORIES: dict[str, ConnectorFactory] = {
    "sql": _sql,
    "memory": _memory,
    "salesforce": _salesforce,
    "business_central": _business_central,
    "tryton": _tryton,
    "csv": _csv,
}


def register(kind: str, factory: ConnectorFactory) -> None:
    """Add a connector kind (for plug-ins and tests)."""
    FACTORIES[kind] = factory


def create_connector(kind: str, name: str, options: dict[str, Any]) -> Connector:
    try:
        factory = FACTORIES[kind]
    except KeyError:
        known = ", ".join(sorted(FACTORIES))
        raise ConfigError(
            f"system {name!r}: unknown connector {kind!r}; available connectors: {known}"
        ) from None
    return factory(name, options)
