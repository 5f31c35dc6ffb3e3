"""Text helpers: truncation to a target length, and whitespace trims only when asked.

Invariant: ``truncate`` never returns more than ``length`` characters and reports a cut
exactly when it made one, so a shortened account name is always visible in the run
report instead of silently corrupting data (255 chars in Salesforce, 83 in NetSuite).
Trims never happen implicitly: leading spaces may matter to someone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Truncated:
    text: str
    cut: bool


def truncate(text: str, length: int, *, marker: str = "") -> Truncated:
    """Cut ``text`` to at most ``length`` characters, ending in ``marker`` when cut.

    Raises:
        ValueError: ``length`` is negative.
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if len(text) <= length:
        return Truncated(text, cut=False)
    if len(marker) >= length:
        return Truncated(text[:length], cut=True)
    return Truncated(text[: length - len(marker)] + marker, cut=True)


def trim(text: str) -> str:
    """Strip leading and trailing whitespace (only used where a rule says ``trim: true``)."""
    return text.strip()


def truncation_warning(field: str, original: str, length: int) -> str:
    return (
        f"{field}: value of {len(original)} characters cut to {length} "
        f"(starts {original[:30]!r}); shorten it at the source or widen the field"
    )
