"""Protocol clients shared by connectors: HTTP (auth, retries, rate limits), OData, files."""
