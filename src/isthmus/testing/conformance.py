"""The conformance suite: what every connector must do, checked the same way for all.

The engine's guarantees (no duplicate, no lost change, no echo) rest on a few promises
of each connector: one result per write in order, errors as values naming the field,
cursors that never skip a change, tombstones for deletes, creates that can be found
again by their idempotency key. This suite checks those promises against a real system
or sandbox. To run it for a connector, subclass :class:`ConnectorConformance` in a test
module and provide a ``conformance`` fixture::

    class TestMyConnector(ConnectorConformance):
        @pytest.fixture
        def conformance(self, tmp_path):
            return ConformanceCase(lambda: MyConnector(...), ConformanceSubject(...))

Each test builds a fresh connector, runs one scenario inside one event loop, and closes
the connector, so clients bound to an event loop work too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from isthmus.connectors.base import (
    Connector,
    Cursor,
    NativeFields,
    NativeRecord,
    WriteOp,
    WriteResult,
)


@dataclass(frozen=True)
class ConformanceSubject:
    """The object the suite writes to, and how to make valid and invalid records of it."""

    object_name: str
    make: Callable[[int], NativeFields]  # valid fields for record number n (unique per n)
    edit: Callable[[NativeFields], NativeFields]  # the fields of one change to a record
    compare: Sequence[str]  # fields that read back exactly as written
    lookup_field: str  # a field whose value identifies a record (``make`` keeps it unique)
    # Fields the system refuses, and the field its error must name (None: not checked).
    invalid: tuple[NativeFields, str] | None = None
    page_size: int = 3


@dataclass(frozen=True)
class ConformanceCase:
    factory: Callable[[], Connector]
    subject: ConformanceSubject
    # Names of tests this connector is excused from, each with the reason.
    excused: dict[str, str] = field(default_factory=dict)


Scenario = Callable[[Connector, ConformanceSubject], Awaitable[None]]


def _run(case: ConformanceCase, scenario: Scenario, name: str) -> None:
    if name in case.excused:
        pytest.skip(case.excused[name])

    async def body() -> None:
        connector = case.factory()
        try:
            await scenario(connector, case.subject)
        finally:
            await connector.close()

    asyncio.run(body())


async def create(
    connector: Connector, subject: ConformanceSubject, numbers: Sequence[int], **extra: Any
) -> list[WriteResult]:
    ops = [WriteOp(f"r{n}", "create", subject.make(n), **extra.get(str(n), {})) for n in numbers]
    results = await connector.write(subject.object_name, ops)
    assert [r.ref for r in results] == [op.ref for op in ops], "one result per op, in order"
    for result in results:
        assert result.ok, f"create {result.ref} failed: {result.error}"
        assert result.outcome == "created"
        assert result.id
    return results


async def read_all(
    connector: Connector, subject: ConformanceSubject, cursor: Cursor | None
) -> tuple[list[NativeRecord], Cursor]:
    records: list[NativeRecord] = []
    last: Cursor = cursor or {}
    async for page in connector.read_changes(
        subject.object_name, cursor, page_size=subject.page_size
    ):
        assert len(page.records) <= subject.page_size, "a page holds at most page_size"
        assert page.full == (cursor is None)
        records.extend(page.records)
        last = page.cursor
    json.dumps(last)  # cursors are persisted as JSON
    return records, last


def _same(expected: NativeFields, actual: NativeFields, names: Sequence[str]) -> None:
    for name in names:
        assert str(actual.get(name)) == str(expected.get(name)), (
            f"{name}: wrote {expected.get(name)!r}, read back {actual.get(name)!r}"
        )


class ConnectorConformance:
    """Subclass in a test module (named ``Test...``) and provide ``conformance``."""

    def test_describe_names_the_object_key_and_fields(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            description = await connector.describe(subject.object_name)
            assert description.name == subject.object_name
            assert description.key
            for name in (*subject.compare, subject.lookup_field):
                assert description.field(name) is not None, f"describe lacks field {name!r}"
            if description.external_key:
                assert description.field(description.external_key) is not None

        _run(conformance, scenario, "test_describe_names_the_object_key_and_fields")

    def test_a_batch_gives_one_result_per_record_and_reads_back(
        self, conformance: ConformanceCase
    ) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            results = await create(connector, subject, range(1, 6))
            assert len({r.id for r in results}) == 5, "each create gets its own id"
            for result in results:
                if result.modified_at is not None:
                    assert result.modified_at.tzinfo is not None, "timestamps carry a zone"
            ids = [r.id or "" for r in results]
            found = await connector.read_by_ids(subject.object_name, [*ids, "no-such-id-0"])
            assert set(found) == set(ids), "read_by_ids returns what exists, nothing else"
            for n, record_id in enumerate(ids, start=1):
                _same(subject.make(n), found[record_id].fields, subject.compare)

        _run(conformance, scenario, "test_a_batch_gives_one_result_per_record_and_reads_back")

    def test_a_full_read_pages_through_every_record(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            ids = {r.id for r in await create(connector, subject, range(1, 9))}
            records, _ = await read_all(connector, subject, None)
            assert ids <= {r.id for r in records}, "a full read misses no record"
            assert not any(r.deleted for r in records)
            stamps = [r.modified_at for r in records if r.modified_at is not None]
            assert stamps == sorted(stamps), "changes come in cursor order"

        _run(conformance, scenario, "test_a_full_read_pages_through_every_record")

    def test_a_cursor_resumes_after_the_last_change_and_misses_none(
        self, conformance: ConformanceCase
    ) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            first = await create(connector, subject, range(1, 5))
            _, cursor = await read_all(connector, subject, None)
            cursor = json.loads(json.dumps(cursor))
            edited = first[1].id or ""
            change = subject.edit(subject.make(2))
            (result,) = await connector.write(
                subject.object_name, [WriteOp("e", "update", change, id=edited)]
            )
            assert result.ok, result
            assert result.outcome in ("updated", "unchanged"), result
            later = await create(connector, subject, [5])
            records, _ = await read_all(connector, subject, cursor)
            seen = {r.id: r for r in records}
            assert edited in seen, "an update after the cursor is read"
            assert later[0].id in seen, "a create after the cursor is read"
            _same(change, seen[edited].fields, [n for n in subject.compare if n in change])

        _run(conformance, scenario, "test_a_cursor_resumes_after_the_last_change_and_misses_none")

    def test_a_bad_record_fails_alone_and_names_its_field(
        self, conformance: ConformanceCase
    ) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            if subject.invalid is None:
                pytest.skip("the subject declares no invalid record")
            bad, field_name = subject.invalid
            ops = [
                WriteOp("good1", "create", subject.make(1)),
                WriteOp("bad", "create", bad),
                WriteOp("good2", "create", subject.make(2)),
            ]
            results = await connector.write(subject.object_name, ops)
            assert [r.ref for r in results] == ["good1", "bad", "good2"]
            assert results[0].ok, "the good records of the batch are written"
            assert results[2].ok, "the good records of the batch are written"
            error = results[1].error
            assert error is not None, "the bad record fails"
            assert error.kind == "validation", error
            assert error.field == field_name, f"the error names {field_name!r}: {error}"
            assert error.message

        _run(conformance, scenario, "test_a_bad_record_fails_alone_and_names_its_field")

    def test_updating_a_missing_record_fails_as_a_value(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            (created,) = await create(connector, subject, [1])
            await connector.write(
                subject.object_name, [WriteOp("d", "delete", id=created.id or "")]
            )
            (result,) = await connector.write(
                subject.object_name,
                [WriteOp("u", "update", subject.edit(subject.make(1)), id=created.id)],
            )
            assert not result.ok
            assert result.error is not None
            assert result.error.kind in ("not_found", "validation"), result.error

        _run(conformance, scenario, "test_updating_a_missing_record_fails_as_a_value")

    def test_lookup_groups_records_by_value(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            results = await create(connector, subject, [1, 2, 3])
            values = [str(subject.make(n)[subject.lookup_field]) for n in (1, 3)]
            found = await connector.lookup(
                subject.object_name, subject.lookup_field, [*values, "no-such-value"]
            )
            assert set(found) == set(values)
            assert [r.id for r in found[values[0]]] == [results[0].id]
            assert [r.id for r in found[values[1]]] == [results[2].id]

        _run(conformance, scenario, "test_lookup_groups_records_by_value")

    def test_a_create_is_found_again_by_its_idempotency_key(
        self, conformance: ConformanceCase
    ) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            description = await connector.describe(subject.object_name)
            if not description.external_key:
                pytest.skip("the object has no external key field")
            key = "isthmus-conformance-0001"
            (result,) = await create(connector, subject, [1], **{"1": {"external_key": key}})
            found = await connector.lookup(subject.object_name, description.external_key, [key])
            assert [r.id for r in found.get(key, [])] == [result.id], (
                "after a lost answer, the engine finds the create by its key"
            )

        _run(conformance, scenario, "test_a_create_is_found_again_by_its_idempotency_key")

    def test_upsert_by_external_key_never_duplicates(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            description = await connector.describe(subject.object_name)
            if not (connector.capabilities.upsert_by_external_id and description.external_key):
                pytest.skip("the connector does not upsert by external id")
            key = "isthmus-conformance-0002"
            op = WriteOp("u1", "upsert", subject.make(1), external_key=key)
            (first,) = await connector.write(subject.object_name, [op])
            edited = subject.edit(subject.make(1))
            (second,) = await connector.write(
                subject.object_name, [WriteOp("u2", "upsert", edited, external_key=key)]
            )
            assert first.outcome == "created"
            assert second.outcome in ("updated", "unchanged")
            assert second.id == first.id, "an upsert with the same key updates, never adds"
            found = await connector.lookup(subject.object_name, description.external_key, [key])
            assert len(found[key]) == 1

        _run(conformance, scenario, "test_upsert_by_external_key_never_duplicates")

    def test_a_delete_is_gone_and_reported_as_a_tombstone(
        self, conformance: ConformanceCase
    ) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            kept, doomed = await create(connector, subject, [1, 2])
            _, cursor = await read_all(connector, subject, None)
            (result,) = await connector.write(
                subject.object_name, [WriteOp("d", "delete", id=doomed.id)]
            )
            assert result.ok, result
            assert result.outcome == "deleted", result
            found = await connector.read_by_ids(
                subject.object_name, [kept.id or "", doomed.id or ""]
            )
            assert set(found) == {kept.id}
            if connector.capabilities.delete_feed:
                records, _ = await read_all(connector, subject, cursor)
                tombstones = [r for r in records if r.id == doomed.id]
                assert tombstones, "the delete is in the change feed"
                assert tombstones[-1].deleted, "the delete is in the change feed"

        _run(conformance, scenario, "test_a_delete_is_gone_and_reported_as_a_tombstone")

    def test_a_full_batch_is_accepted(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            size = connector.capabilities.batch_size
            results = await create(connector, subject, range(100, 100 + size))
            assert len(results) == size

        _run(conformance, scenario, "test_a_full_batch_is_accepted")

    def test_an_unsigned_webhook_is_refused(self, conformance: ConformanceCase) -> None:
        async def scenario(connector: Connector, subject: ConformanceSubject) -> None:
            with pytest.raises(ValueError, match=r"\w"):
                connector.parse_webhook({"content-type": "application/json"}, b'{"events": []}')

        _run(conformance, scenario, "test_an_unsigned_webhook_is_refused")
