"""Settings of one sandbox instance, grouped so the app factory takes one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that shapes one Business Central sandbox.

    Defaults follow the documented limits: 6,000 requests per 5 minutes per client,
    100 operations per ``$batch``, webhooks delayed 30 s and expiring after 3 days, and
    one ``collection`` notification past 1,000 changes. Tests shrink the delays.
    """

    tenant: str = "sandbox-tenant"
    environment: str = "sandbox"
    client_id: str = "isthmus-client"
    client_secret: str = "isthmus-secret"
    seed: int = 1
    customers: int = 25
    items: int = 20
    page_size: int = 20_000
    rate_limit: int = 6_000
    rate_window_seconds: float = 300.0
    batch_limit: int = 100
    token_lifetime_seconds: int = 3_599
    webhook_delay_seconds: float = 30.0
    webhook_retry_seconds: float = 60.0
    webhook_retry_window_seconds: float = 36 * 3600.0
    webhook_collection_threshold: int = 1_000
    subscription_lifetime_seconds: float = 3 * 24 * 3600.0
    db_path: Path | None = None
    simulate: bool = False
    simulate_interval_seconds: float = 5.0
