"""Tombstones of erased people: digests of their identifiers, never the identifiers.

After ``isthmus forget``, a record of that person may still exist in a system (the
erasure did not reach it, or it was re-created there). The engine asks ``forgotten``
for every page it reads and leaves such records alone, so the person is not synced
back into the other system nor into the store.

A digest is SHA-256 of ``kind:value`` with the value normalised (an email trimmed and
lower-cased); the same identifier always gives the same digest, so a lookup needs no key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Literal

from isthmus.store.base import Store

TombstoneKind = Literal["native", "email", "canonical"]


def digest(kind: TombstoneKind, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def native_digest(system: str, native_id: str) -> str:
    return digest("native", f"{system}:{native_id}")


def email_digest(email: str) -> str:
    return digest("email", email.strip().lower())


def emails_in(view: Mapping[str, object]) -> list[str]:
    """Values of a canonical view's email paths (``email``, ``contact.email``, ...)."""
    return [
        value
        for path, value in view.items()
        if isinstance(value, str) and "@" in value and path.rsplit(".", 1)[-1].endswith("email")
    ]


def forgotten(
    store: Store, system: str, records: Iterable[tuple[str, Mapping[str, object] | None]]
) -> set[str]:
    """The native ids among ``records`` (id, canonical view) of erased people: by their
    (system, id) or by an email in their view. One store query per call."""
    wanted: dict[str, str] = {}
    for native_id, view in records:
        wanted[native_digest(system, native_id)] = native_id
        for email in emails_in(view or {}):
            wanted[email_digest(email)] = native_id
    if not wanted:
        return set()
    return {wanted[found] for found in store.tombstoned(list(wanted))}
