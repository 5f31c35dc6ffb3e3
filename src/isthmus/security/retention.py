"""Retention: copies of record values in the audit trail and in dead letters are kept
for a configured number of days, then purged (``isthmus purge``, and ``isthmus run``
on its own schedule).

What stays after a purge is the trail's shape: which record, which field, what action,
when and by whom; what goes is the values. The purge itself is audited (counts only).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from isthmus.engine.config import RetentionConfig
from isthmus.store.base import Store
from isthmus.store.types import AuditEvent

SECURITY_FLOW = "(security)"


def purge(
    store: Store, retention: RetentionConfig, *, now: datetime | None = None, actor: str = "cli"
) -> dict[str, int]:
    """Purge what is older than the retention periods; returns counts per kind.

    Nothing is purged for a period that is not configured.
    """
    now = now or datetime.now(UTC)
    audit_before = _cutoff(now, retention.audit_payload_days)
    letters_before = _cutoff(now, retention.dead_letter_days)
    if audit_before is None and letters_before is None:
        return {}
    counts = store.purge_payloads(audit_before=audit_before, letters_before=letters_before)
    if any(counts.values()):
        store.compact()
        summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
        with store.unit_of_work() as uow:
            uow.add_audit(
                [
                    AuditEvent(
                        SECURITY_FLOW,
                        "-",
                        "purge",
                        actor=actor,
                        message=f"retention purge: {summary}",
                        decision=f"audit values before {audit_before}, letters before "
                        f"{letters_before}",
                    )
                ]
            )
    return counts


def _cutoff(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)
