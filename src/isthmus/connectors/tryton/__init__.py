"""Tryton: JSON-RPC to a trytond 8.x server (see docs/connectors/tryton.md)."""

from isthmus.connectors.tryton.config import from_config
from isthmus.connectors.tryton.connector import TrytonConnector

__all__ = ["TrytonConnector", "from_config"]
