"""The SQL table connector: sync a database table with a key and an updated-at column."""

from isthmus.connectors.sql.connector import SqlObject, SqlTableConnector, from_config

__all__ = ["SqlObject", "SqlTableConnector", "from_config"]
