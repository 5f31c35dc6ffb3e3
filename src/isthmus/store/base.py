"""The store interface. The engine talks only to this; backends live beside it.

Writes go through a ``UnitOfWork``: everything done in one ``with store.unit_of_work()``
block commits together or not at all. The engine relies on that to advance a cursor in
the same transaction as the links, bases and audit events of the writes it describes.

A backend may hold writes that return nothing and cannot fail on their own (audit,
counters, bases, content hashes, pending writes) until just before commit, to send them
in bulk; it keeps their order per record, and the block still commits all or nothing.
The ``*_at_commit`` methods make that explicit for links: the engine records a page of
links that way, and a conflict then surfaces when the block commits (rolling it back).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from isthmus.connectors.base import Cursor
from isthmus.model.flat import Flat
from isthmus.store.types import (
    ApiToken,
    AuditEvent,
    Base,
    DeadLetter,
    DeadLetterStatus,
    ErasureCounts,
    ErasureTarget,
    LinkConflictError,
    PendingWrite,
    ReviewItem,
    ReviewStatus,
    Run,
    RunStatus,
    StoredSecret,
    User,
    Xref,
    XrefTouch,
)


class UnitOfWork(abc.ABC):
    """Writes that commit together. Leaving the block without an exception commits."""

    @abc.abstractmethod
    def add_xref(self, xref: Xref) -> None:
        """Insert a link side. Raises ``LinkConflictError`` if (entity, system, native_id)
        or (canonical_id, system) is taken by a different pairing; inserting the exact
        same xref again is a no-op (idempotent)."""

    @abc.abstractmethod
    def touch_xref(
        self,
        entity: str,
        system: str,
        native_id: str,
        content_hash: str | None,
        seen_at: datetime | None = None,
    ) -> None:
        """Record the content hash we last wrote or read for a native record."""

    @abc.abstractmethod
    def remove_xref(self, entity: str, system: str, native_id: str) -> None: ...

    # Bulk forms. These defaults go one by one; a backend overrides them with a few
    # statements per call.
    def add_xrefs(self, xrefs: Sequence[Xref]) -> None:
        """Insert many link sides, as ``add_xref`` each: every one that does not conflict
        is inserted, then ``LinkConflictError`` is raised for the first that does (in
        the order given); the block stays usable."""
        first: LinkConflictError | None = None
        for xref in xrefs:
            try:
                self.add_xref(xref)
            except LinkConflictError as error:
                first = first or error
        if first is not None:
            raise first

    def touch_xrefs(self, touches: Sequence[XrefTouch]) -> None:
        """``touch_xref`` for many records (in order: a later touch of a record wins)."""
        for touch in touches:
            self.touch_xref(
                touch.entity, touch.system, touch.native_id, touch.content_hash, touch.seen_at
            )

    def close_dead_letters(
        self, flow: str, system: str, native_ids: Sequence[str], status: DeadLetterStatus
    ) -> int:
        """``set_dead_letter_status`` for many records of one system; returns how many
        letters were closed."""
        return sum(
            self.set_dead_letter_status(flow, system, native_id, status) for native_id in native_ids
        )

    # Deferred forms: written just before the block commits, after the block's own
    # statements, in bulk and in this order: links, then hashes, then letters. These
    # defaults write at once, which is as good (a backend may defer, never must).
    def add_xref_at_commit(self, xref: Xref) -> None:
        """``add_xref``, written at commit (or earlier, just before a later immediate
        link call of the block, to keep their order); a conflict raises
        ``LinkConflictError`` there, which rolls the whole block back at commit."""
        self.add_xref(xref)

    def touch_xref_at_commit(self, touch: XrefTouch) -> None:
        """``touch_xref``, written at commit, after the links added at commit."""
        self.touch_xrefs([touch])

    def close_dead_letter_at_commit(
        self, flow: str, system: str, native_id: str, status: DeadLetterStatus
    ) -> None:
        """``set_dead_letter_status`` without its count, written at commit (a letter put
        for the same record meanwhile is put after the close, as it was called)."""
        self.set_dead_letter_status(flow, system, native_id, status)

    @abc.abstractmethod
    def set_base(self, canonical_id: str, entity: str, fields: Flat) -> None:
        """Replace the base of a canonical record (version is bumped)."""

    @abc.abstractmethod
    def delete_base(self, canonical_id: str) -> None: ...

    @abc.abstractmethod
    def add_audit(self, events: Iterable[AuditEvent]) -> None: ...

    @abc.abstractmethod
    def set_cursor(self, flow: str, system: str, object_name: str, cursor: Cursor) -> None: ...

    @abc.abstractmethod
    def add_pending_write(self, pending: PendingWrite) -> None: ...

    @abc.abstractmethod
    def remove_pending_write(self, key: str) -> None: ...

    @abc.abstractmethod
    def put_dead_letter(self, letter: DeadLetter) -> int:
        """Insert, or bump ``attempts``/``last_at``/message of the open or waiting letter of
        the same (flow, system, native_id). Returns its id."""

    @abc.abstractmethod
    def set_dead_letter_status(
        self, flow: str, system: str, native_id: str, status: DeadLetterStatus
    ) -> int:
        """Close (resolve/discard) the open or waiting letters of a record; returns how many."""

    @abc.abstractmethod
    def put_review_item(self, item: ReviewItem) -> int:
        """Insert, or refresh the details of the open item with the same
        (flow, subject_key, kind). Returns its id."""

    @abc.abstractmethod
    def resolve_review_item(
        self,
        item_id: int,
        status: ReviewStatus,
        resolution: dict[str, Any] | None,
        resolved_by: str,
    ) -> None: ...

    @abc.abstractmethod
    def bump_counter(self, name: str, key: str, delta: int = 1) -> None: ...


class Store(abc.ABC):
    """State of one Isthmus installation."""

    url: str

    @abc.abstractmethod
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    @abc.abstractmethod
    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    # -- links and bases --------------------------------------------------------------
    @abc.abstractmethod
    def xrefs_by_native(
        self, entity: str, system: str, native_ids: Sequence[str]
    ) -> dict[str, Xref]:
        """Xrefs of these native ids in one system, keyed by native id."""

    @abc.abstractmethod
    def xrefs_by_canonical(
        self, entity: str, canonical_ids: Sequence[str]
    ) -> dict[str, dict[str, Xref]]:
        """All xrefs of these canonical ids: {canonical_id: {system: xref}}."""

    @abc.abstractmethod
    def iter_xrefs(self, entity: str, system: str, batch: int = 1000) -> Iterator[Xref]: ...

    @abc.abstractmethod
    def count_xrefs(self, entity: str, system: str) -> int: ...

    @abc.abstractmethod
    def bases(self, canonical_ids: Sequence[str]) -> dict[str, Base]: ...

    # -- cursors and pending writes -----------------------------------------------------
    @abc.abstractmethod
    def cursor(self, flow: str, system: str, object_name: str) -> Cursor | None: ...

    @abc.abstractmethod
    def pending_writes(
        self, flow: str | None = None, source: tuple[str, Sequence[str]] | None = None
    ) -> list[PendingWrite]:
        """Creates sent but not yet linked; ``source`` (system, ids) keeps those made for
        these source records only."""

    # -- runs -------------------------------------------------------------------------
    @abc.abstractmethod
    def start_run(self, flow: str, trigger: str) -> Run: ...

    @abc.abstractmethod
    def finish_run(
        self, run_id: str, status: RunStatus, counts: dict[str, int], message: str | None = None
    ) -> Run: ...

    @abc.abstractmethod
    def runs(self, flow: str | None = None, limit: int = 50) -> list[Run]:
        """Newest first."""

    # -- audit, dead letters, review, counters -----------------------------------------
    @abc.abstractmethod
    def audit_events(
        self,
        *,
        canonical_id: str | None = None,
        flow: str | None = None,
        field: str | None = None,
        system: str | None = None,
        native_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEvent]:
        """Newest first, filtered by every argument given."""

    @abc.abstractmethod
    def dead_letters(
        self,
        *,
        flow: str | None = None,
        status: DeadLetterStatus | None = None,
        limit: int = 200,
    ) -> list[DeadLetter]: ...

    @abc.abstractmethod
    def dead_letter(self, letter_id: int) -> DeadLetter | None: ...

    @abc.abstractmethod
    def review_items(
        self, *, flow: str | None = None, status: ReviewStatus | None = "open", limit: int = 200
    ) -> list[ReviewItem]: ...

    @abc.abstractmethod
    def review_item(self, item_id: int) -> ReviewItem | None: ...

    @abc.abstractmethod
    def counters(self, name: str | None = None) -> dict[tuple[str, str], int]: ...

    # -- access control (users and API tokens of the control plane) --------------------
    @abc.abstractmethod
    def add_user(self, user: User) -> None:
        """Insert a user, or change the role of the user with that name."""

    @abc.abstractmethod
    def user(self, name: str) -> User | None: ...

    @abc.abstractmethod
    def users(self) -> list[User]:
        """By name."""

    @abc.abstractmethod
    def add_token(self, token: ApiToken) -> None:
        """Insert a token (its id is new; the caller generates it)."""

    @abc.abstractmethod
    def token(self, token_id: str) -> ApiToken | None: ...

    @abc.abstractmethod
    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        """Oldest first, revoked ones included."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str) -> bool:
        """Mark a token revoked; False when no unrevoked token has that id."""

    # -- security (vault, tombstones, retention, erasure; see isthmus.security) ---------
    @abc.abstractmethod
    def put_secret(self, secret: StoredSecret) -> None:
        """Insert or replace a secret (already encrypted by the caller)."""

    @abc.abstractmethod
    def secret(self, name: str) -> StoredSecret | None: ...

    @abc.abstractmethod
    def stored_secrets(self) -> list[StoredSecret]:
        """By name."""

    @abc.abstractmethod
    def delete_secret(self, name: str) -> bool: ...

    @abc.abstractmethod
    def replace_secrets(
        self,
        secrets: Sequence[StoredSecret],
        previous: Sequence[StoredSecret],
        reseal: Callable[[Any], Any] | None = None,
    ) -> int:
        """Replace all secrets at once (a key rotation), provided the vault still holds
        exactly ``previous``, and re-encrypt the protected values of bases and audit
        events with ``reseal`` in the same transaction."""

    @abc.abstractmethod
    def add_tombstones(self, digests: Iterable[tuple[str, str]]) -> int:
        """Record (digest, kind) pairs of erased identifiers; returns how many are new."""

    @abc.abstractmethod
    def tombstoned(self, digests: Sequence[str]) -> set[str]:
        """Those of ``digests`` that have a tombstone."""

    @abc.abstractmethod
    def count_tombstones(self) -> int: ...

    @abc.abstractmethod
    def purge_payloads(
        self, *, audit_before: datetime | None, letters_before: datetime | None
    ) -> dict[str, int]:
        """Drop audit values and dead-letter payloads older than the cut-offs."""

    @abc.abstractmethod
    def compact(self) -> None:
        """Remove erased and purged values physically (VACUUM)."""

    @abc.abstractmethod
    def canonical_ids_mentioning(self, value: str) -> list[str]:
        """Canonical ids whose base holds ``value`` in a field (case-insensitive)."""

    @abc.abstractmethod
    def erase(self, target: ErasureTarget) -> ErasureCounts:
        """Erase one person's data from every table, in one transaction."""

    # -- flow state (set from the control plane, kept across restarts) ------------------
    @abc.abstractmethod
    def paused_flows(self) -> set[str]:
        """Names of the flows a person paused."""

    @abc.abstractmethod
    def set_flow_paused(self, flow: str, paused: bool, actor: str | None = None) -> None:
        """Pause (or enable) a flow; kept until changed again."""
