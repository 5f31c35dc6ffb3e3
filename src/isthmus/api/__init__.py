"""HTTP interfaces of a running Isthmus: inbound webhooks (and, later, the control API)."""
