"""Dynamics 365 Business Central (API v2.0, OData v4) as a system."""

from isthmus.connectors.business_central.config import from_config
from isthmus.connectors.business_central.connector import BusinessCentralConnector

__all__ = ["BusinessCentralConnector", "from_config"]
