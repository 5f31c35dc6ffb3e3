"""Redaction: secrets, tokens and sensitive values never reach a log line or a message.

Two nets, because either alone leaks:
- by key: a log field or a JSON key that names a secret (``client_secret``,
  ``access_token``, ``Authorization``) has its value replaced whatever it holds;
- by value: every secret Isthmus has resolved (config ``${...}`` values of secret options,
  the vault's secrets, access and refresh tokens as they are issued) is registered here,
  and any text that contains one has it replaced, wherever the text came from (an
  exception's repr, a vendor's error message echoing a request, a URL).

The registry is process-wide on purpose: tokens are issued deep inside connectors and
must be hidden in logs written elsewhere.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"
SECRET_WORDS = (
    "token",
    "password",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "private_key",
    "assertion",
)
# Values shorter than this are not registered: replacing "1" or "yes" everywhere would
# garble logs without protecting anything.
_MIN_LENGTH = 6
# Shapes of credentials that may reach a message before anyone registered them: an
# authorization header's credentials (with a digit or symbol, or long: prose such as
# "basic validation" is left alone), ``name=value`` pairs of OAuth forms and URLs and
# ``"name": "value"`` pairs of JSON bodies, and a URL's password.
_PATTERNS = (
    re.compile(
        r"(?i)\b(bearer|oauth|basic)\s+"
        r"(?:(?=\S*[0-9!+/=])[A-Za-z0-9._~+/!=-]{8,}|[A-Za-z0-9._~+/!=-]{20,})"
    ),
    re.compile(
        r"(?i)\b(access_token|refresh_token|client_secret|password|assertion|token)"
        r"(=|\"\s*:\s*\")[^\s&\"',;}]+"
    ),
    re.compile(r"(?i)(\w+://[^/\s:@]+:)[^@\s/]+(@)"),
)


class _Registry:
    """Known secret values, and one alternation of them, longest first (so a token
    containing a shorter secret is hidden whole), rebuilt only when a value is added."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: set[str] = set()
        self.pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        with self.lock:
            if value not in self.values:
                self.values.add(value)
                self.pattern = None

    def clear(self) -> None:
        with self.lock:
            self.values.clear()
            self.pattern = None

    def compiled(self) -> re.Pattern[str] | None:
        with self.lock:
            if self.pattern is None and self.values:
                ordered = sorted(self.values, key=len, reverse=True)
                self.pattern = re.compile("|".join(re.escape(value) for value in ordered))
            return self.pattern


_registry = _Registry()


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def register(*values: object) -> None:
    """Remember secret values so that ``redact_text`` hides them from now on."""
    for value in values:
        if isinstance(value, str) and len(value.strip()) >= _MIN_LENGTH:
            _registry.add(value.strip())


def forget_all() -> None:
    """Clear the registry (tests that start from a clean process state)."""
    _registry.clear()


def redact_text(text: str) -> str:
    """``text`` with every registered secret and every credential-shaped span hidden."""
    pattern = _registry.compiled()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2)}", text)


def redact_value(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (text, mapping, list) with secrets hidden, by key and by value."""
    if key and is_secret_key(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: hide secrets in every field of a log event."""
    for key in list(event):
        event[key] = redact_value(event[key], key)
    return event
