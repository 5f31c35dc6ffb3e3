"""Link lookups for mappings: native id <-> canonical id, through the store's xrefs.

Mappings resolve references (a contact's account, an order line's product) with this.
It caches answers for the life of one page, because a page of 1,000 order lines often
names the same few products again and again.
"""

from __future__ import annotations

from isthmus.store.base import Store


class StoreResolver:
    """Implements ``isthmus.mapping.LinkResolver`` over a store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._to_canonical: dict[tuple[str, str, str], str | None] = {}
        self._to_native: dict[tuple[str, str, str], str | None] = {}

    def canonical_id(self, entity: str, system: str, native_id: str) -> str | None:
        key = (entity, system, native_id)
        if key not in self._to_canonical:
            found = self._store.xrefs_by_native(entity, system, [native_id]).get(native_id)
            self._to_canonical[key] = found.canonical_id if found else None
        return self._to_canonical[key]

    def native_id(self, entity: str, canonical_id: str, system: str) -> str | None:
        key = (entity, canonical_id, system)
        if key not in self._to_native:
            sides = self._store.xrefs_by_canonical(entity, [canonical_id]).get(canonical_id, {})
            found = sides.get(system)
            self._to_native[key] = found.native_id if found else None
        return self._to_native[key]

    def forget(self) -> None:
        """Drop cached answers (after links were added, e.g. a parent was synced)."""
        self._to_canonical.clear()
        self._to_native.clear()
