"""Lookups: references between records, native id <-> canonical id, through the links.

A contact's account or an order line's product is stored canonically as the *canonical
id* of the referenced record, so the value compares equal across systems. Only the
binder (the engine's store) knows the links; mappings ask it through ``LinkResolver``.

Invariant: a reference is never guessed: when no link exists, ``LookupUnresolved`` is
raised so the engine can sync the parent first and retry, instead of writing a dangling
or wrong reference.
"""

from __future__ import annotations

from typing import Protocol

from isthmus.errors import LookupUnresolved


class LinkResolver(Protocol):
    """Answers link questions for one run (implemented over the store by the engine)."""

    def canonical_id(self, entity: str, system: str, native_id: str) -> str | None: ...

    def native_id(self, entity: str, canonical_id: str, system: str) -> str | None: ...


class NoLinks:
    """A resolver that knows no links: every lookup is unresolved (the default)."""

    def canonical_id(self, entity: str, system: str, native_id: str) -> str | None:
        return None

    def native_id(self, entity: str, canonical_id: str, system: str) -> str | None:
        return None


def to_canonical_id(
    resolver: LinkResolver, entity: str, system: str, native_id: object, field: str
) -> str | None:
    """The canonical id a native reference points at; None for an empty reference."""
    if native_id is None or native_id == "":
        return None
    found = resolver.canonical_id(entity, system, str(native_id))
    if found is None:
        raise LookupUnresolved(entity, system, str(native_id), field)
    return found


def to_native_id(
    resolver: LinkResolver, entity: str, system: str, canonical_id: object, field: str
) -> str | None:
    """The native id in ``system`` of a canonical reference; None for an empty reference."""
    if canonical_id is None or canonical_id == "":
        return None
    found = resolver.native_id(entity, str(canonical_id), system)
    if found is None:
        raise LookupUnresolved(entity, system, str(canonical_id), field)
    return found
