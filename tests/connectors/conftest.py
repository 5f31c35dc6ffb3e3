"""Connector tests share the store suite's PostgreSQL database fixture."""

from tests.store.conftest import pg_url

__all__ = ["pg_url"]
