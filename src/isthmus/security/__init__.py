"""Security: the secrets vault, redaction, TLS settings, retention and GDPR erasure.

Invariant: no secret, token or value of a field marked personal leaves this package in
plain text except to the system it belongs to (see docs/security.md for the model).
"""
