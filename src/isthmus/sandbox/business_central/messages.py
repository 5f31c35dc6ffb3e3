"""Request and response values shared by the API handler, subscriptions and ``$batch``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isthmus.protocols.odata.envelope import error_body


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = ApiResponse(status, error_body(code, message))


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # after "/api/v2.0/"
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any
    base_url: str  # ".../api/v2.0"
