"""Salesforce: REST and SOQL through OAuth2 (see docs/connectors/salesforce.md)."""

from isthmus.connectors.salesforce.config import from_config
from isthmus.connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector", "from_config"]
