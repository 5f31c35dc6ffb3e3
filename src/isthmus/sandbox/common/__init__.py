"""Building blocks every vendor sandbox shares: fault injection, TLS, and serving.

- :mod:`~isthmus.sandbox.common.faults`: :class:`FaultConfig` and the seeded
  :class:`FaultInjector` (vendor sandboxes plug in their own error body shape);
- :mod:`~isthmus.sandbox.common.middleware`: :class:`FaultMiddleware`, the ASGI layer
  that applies faults and serves ``/__sandbox/faults``;
- :mod:`~isthmus.sandbox.common.tls`: a self-signed certificate made at start-up;
- :mod:`~isthmus.sandbox.common.server`: ``serve`` (CLI) and ``running_server`` (tests).
"""

from __future__ import annotations

from isthmus.sandbox.common.faults import (
    ErrorBodyFactory,
    FaultConfig,
    FaultConfigError,
    FaultDecision,
    FaultInjector,
    default_error_body,
)
from isthmus.sandbox.common.middleware import FAULTS_ADMIN_PATH, FaultMiddleware
from isthmus.sandbox.common.server import running_server, serve
from isthmus.sandbox.common.tls import TlsFiles, generate_self_signed

__all__ = [
    "FAULTS_ADMIN_PATH",
    "ErrorBodyFactory",
    "FaultConfig",
    "FaultConfigError",
    "FaultDecision",
    "FaultInjector",
    "FaultMiddleware",
    "TlsFiles",
    "default_error_body",
    "generate_self_signed",
    "running_server",
    "serve",
]
