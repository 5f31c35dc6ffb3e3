"""Carry out the writes of a page's plans: native payloads, batches, retries, recovery.

Invariants kept here (see docs/architecture.md, "Crash-safe write protocol"):
- a create is only sent after a pending write with its idempotency key is committed;
- the key travels with the create (the target's external key field), so after any
  ambiguous failure the record is looked up by key before anything is sent again;
- updates and deletes are idempotent and are simply retried;
- one bad record gives one error and never fails its batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from isthmus.connectors.base import NativeFields, WriteOp, WriteResult
from isthmus.engine.plan import Write
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.retry import RetryPolicy, call_with_retry
from isthmus.engine.sides import SideBinding, native_changes
from isthmus.errors import (
    AmbiguousWriteError,
    CircuitOpenError,
    LookupUnresolved,
    RecordError,
    TransientError,
)
from isthmus.mapping import MappingError, validate_native


@dataclass
class Task:
    """One write of one plan, in native form."""

    ref: str  # "<plan key>#<index>"
    plan_key: str
    write: Write
    op: WriteOp | None = None  # None: nothing to send (no native field differs)
    warnings: list[str] = field(default_factory=list)
    error: RecordError | None = None
    waiting_on: LookupUnresolved | None = None
    result: WriteResult | None = None

    @property
    def done(self) -> bool:
        return self.op is None and self.error is None and self.waiting_on is None


def build_task(
    ref: str,
    plan_key: str,
    write: Write,
    side: SideBinding,
    canonical_id: str | None,
    current: NativeFields | None,
    resolver: StoreResolver,
) -> Task:
    """Turn a canonical write into a native op, validated against the target's description."""
    task = Task(ref, plan_key, write)
    if write.kind == "delete":
        task.op = WriteOp(ref, "delete", id=write.native_id)
        return task
    try:
        wanted, task.warnings = side.to_native(write.fields, resolver)
    except MappingError as error:
        task.error = error.to_record_error()
        return task
    except LookupUnresolved as error:
        task.waiting_on = error
        return task
    creating = write.kind == "create"
    payload = wanted if creating else native_changes(current or {}, wanted)
    if not payload and not creating:
        return task  # the target already holds these values: a write would change nothing
    if side.description is not None:
        problems = validate_native(payload, side.description, creating=creating)
        if problems:
            task.error = problems[0]
            return task
    external_key = None
    if creating and side.description is not None and side.description.external_key:
        external_key = canonical_id
    kind = (
        "upsert"
        if creating and external_key and side.connector.capabilities.upsert_by_external_id
        else write.kind
    )
    task.op = WriteOp(ref, kind, payload, id=write.native_id, external_key=external_key)
    return task


@dataclass
class WriteStats:
    retries: int = 0
    ambiguous: int = 0
    recovered: int = 0


async def send(
    tasks: Sequence[Task], sides: dict[str, SideBinding], policy: RetryPolicy, stats: WriteStats
) -> None:
    """Send every task's op, batched per system; fill ``task.result``."""
    by_system: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        if task.op is not None:
            by_system[task.write.system].append(task)
    for system, pending in by_system.items():
        side = sides[system]
        size = max(1, side.connector.capabilities.batch_size)
        for start in range(0, len(pending), size):
            await _send_batch(pending[start : start + size], side, policy, stats)


async def _send_batch(
    batch: list[Task], side: SideBinding, policy: RetryPolicy, stats: WriteStats
) -> None:
    remaining = list(batch)
    attempt = 1
    while remaining:
        ops = [task.op for task in remaining if task.op is not None]
        try:
            results = await call_with_retry(
                lambda ops=ops: side.connector.write(side.object_name, ops),  # type: ignore[misc]
                policy,
                on_retry=lambda _n, _e: _count_retry(stats),
            )
        except AmbiguousWriteError:
            stats.ambiguous += 1
            remaining = await _recover_ambiguous(remaining, side)
            attempt += 1
            if attempt > policy.maximum_attempts:
                _fail(remaining, "the system did not confirm the writes after several tries")
                return
            continue
        except TransientError as error:
            if isinstance(error, CircuitOpenError) or (error.retry_after or 0) > policy.pause_above:
                raise  # the run stops (and the flow pauses); nothing of this page is lost
            _fail(remaining, f"{side.system} kept failing: {error}")
            return
        retry: list[Task] = []
        for task, result in zip(remaining, results, strict=True):
            task.result = result
            if result.error is not None and result.error.retryable:
                retry.append(task)
        if not retry or attempt >= policy.maximum_attempts:
            return
        stats.retries += len(retry)
        attempt += 1
        remaining = retry


def _count_retry(stats: WriteStats) -> None:
    stats.retries += 1


def _fail(tasks: list[Task], message: str) -> None:
    for task in tasks:
        task.result = WriteResult(task.ref, "failed", error=RecordError("transient", message))


async def _recover_ambiguous(tasks: list[Task], side: SideBinding) -> list[Task]:
    """After a write whose outcome is unknown: find creates by their idempotency key and
    keep only what still needs sending. Updates and deletes are safe to repeat."""
    keyed = {
        task.op.external_key: task
        for task in tasks
        if task.op is not None and task.op.kind in ("create", "upsert") and task.op.external_key
    }
    field_name = side.description.external_key if side.description else None
    if keyed and field_name:
        found = await side.connector.lookup(side.object_name, field_name, sorted(keyed))
        for key, records in found.items():
            task = keyed.get(key)
            if task is not None and records:
                task.result = WriteResult(task.ref, "created", id=records[0].id)
    still = []
    for task in tasks:
        if task.result is not None:
            continue
        if task.op is not None and task.op.kind == "create" and not task.op.external_key:
            # No key to look it up by: sending it again could duplicate it. A person decides.
            task.result = WriteResult(
                task.ref,
                "failed",
                error=RecordError(
                    "conflict",
                    "the create may or may not have reached the target (no answer) and "
                    "the target has no external key field to check; look for the record in the "
                    "target and link or replay it",
                ),
            )
            continue
        still.append(task)
    return still
