"""The files connector (``connector: csv``): CSV files exchanged with an ERP as a system."""

from isthmus.connectors.files.connector import FilesConnector, from_config

__all__ = ["FilesConnector", "from_config"]
