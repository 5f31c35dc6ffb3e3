"""Everything that configures one Salesforce sandbox, with documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from isthmus.sandbox.common import FaultConfig

Volume = Literal["empty", "small", "medium", "large", "huge"]

DEFAULT_CLIENT_ID = "isthmus-sandbox-client"
DEFAULT_CLIENT_SECRET = "isthmus-sandbox-secret"
DEFAULT_USERNAME = "integration@sandbox.isthmus.local"
DEFAULT_PASSWORD = "sandbox-password"
DEFAULT_API_VERSION = "59.0"
#: API versions the sandbox answers under /services/data/vXX.X.
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(f"{major}.0" for major in range(42, 63))


@dataclass(frozen=True)
class Credentials:
    """The connected app and the single user the sandbox accepts."""

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    #: Appended to the password in the password grant, as Salesforce does; may be empty.
    security_token: str = ""
    #: PEM public key (or certificate) of the connected app: enables the JWT bearer grant.
    jwt_public_key: str | None = None


@dataclass(frozen=True)
class LimitSettings:
    """The org's API budget and concurrency cap."""

    daily_api_requests: int = 100_000
    max_concurrent_requests: int = 25
    #: Access tokens stop working after this many seconds (Salesforce's default is 2 h).
    session_seconds: int = 7200
    #: getUpdated/getDeleted refuse to answer more ids than this (EXCEEDED_ID_LIMIT).
    max_replication_ids: int = 600_000


@dataclass(frozen=True)
class SandboxSettings:
    """One sandbox org: who may log in, what data it starts with, how it misbehaves."""

    credentials: Credentials = field(default_factory=Credentials)
    seed: int = 1
    volume: Volume = "small"
    db_path: Path | None = None
    limits: LimitSettings = field(default_factory=LimitSettings)
    faults: FaultConfig = field(default_factory=FaultConfig)
    #: The instance_url handed out at login; by default the URL the client called.
    public_url: str | None = None
    #: Where to POST change events as they happen (also settable at run time).
    event_callback_url: str | None = None
