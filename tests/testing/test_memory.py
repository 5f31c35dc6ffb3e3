"""The in-memory connector's own promises: faults as configured, signed webhooks, config."""

from __future__ import annotations

import asyncio

import pytest

from isthmus.connectors.base import WriteOp
from isthmus.connectors.registry import create_connector
from isthmus.errors import AmbiguousWriteError, ConfigError, RateLimitedError, TransientError
from isthmus.testing import FaultPlan, MemoryConnector
from isthmus.testing.memory import SIGNATURE_HEADER

OPTIONS = {
    "objects": {
        "Account": {
            "external_key": "Ext__c",
            "fields": {"Name": {"length": 20, "required": True}, "Tier": {"picklist": ["A", "B"]}},
        }
    },
    "records": {"Account": [{"Name": "Acme"}, {"Name": "Globex", "Tier": "A"}]},
    "webhook_secret": "s3cret",
}


def connector(**overrides: object) -> MemoryConnector:
    made = create_connector("memory", "crm", {**OPTIONS, **overrides})
    assert isinstance(made, MemoryConnector)
    return made


def test_config_builds_objects_and_seed_records() -> None:
    crm = connector()
    assert sorted(f["Name"] for f in crm.records("Account").values()) == ["Acme", "Globex"]
    description = asyncio.run(crm.describe("Account"))
    assert description.external_key == "Ext__c"
    assert description.fields["Tier"].picklist == ("A", "B")
    assert description.fields["Name"].required


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"objects": {}}, "options.objects must map"),
        ({"objects": {"A": {"fields": {"X": {"lenght": 3}}}}}, "unknown option"),
        ({"objects": {"A": {}}, "faults": {"transient": 0.1}}, "unknown fault option"),
        ({"objects": {"A": {}}, "faults": {"transient_rate": 2}}, "between 0 and 1"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_connector("memory", "crm", options)


def test_faults_are_reproducible_from_the_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        crm = connector(faults={"seed": seed, "transient_rate": 0.2, "rate_limit_rate": 0.2})
        seen = []
        for n in range(40):
            try:
                asyncio.run(crm.read_by_ids("Account", [str(n)]))
                seen.append("ok")
            except RateLimitedError:
                seen.append("rate_limited")
            except TransientError:
                seen.append("transient")
        return seen

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)
    assert {"ok", "rate_limited", "transient"} == set(outcomes(7))


def test_a_lost_answer_means_the_write_landed() -> None:
    crm = connector(faults={"ambiguous_rate": 1.0})
    op = WriteOp("r1", "create", {"Name": "Initech"}, external_key="k-1")
    with pytest.raises(AmbiguousWriteError):
        asyncio.run(crm.write("Account", [op]))
    found = asyncio.run(crm.lookup("Account", "Ext__c", ["k-1"]))
    assert [r.fields["Name"] for r in found["k-1"]] == ["Initech"]
    assert crm.faults.injected == {"ambiguous": 1}


def test_business_rules_refuse_single_records() -> None:
    plan = FaultPlan(
        business_rules=[lambda obj, f: "credit hold" if f.get("Tier") == "B" else None]
    )
    crm = connector()
    crm.faults = plan
    results = asyncio.run(
        crm.write(
            "Account",
            [
                WriteOp("a", "create", {"Name": "Ok", "Tier": "A"}),
                WriteOp("b", "create", {"Name": "Held", "Tier": "B"}),
            ],
        )
    )
    assert results[0].ok
    assert results[1].error is not None
    assert results[1].error.kind == "business"
    assert "credit hold" in results[1].error.message


def test_validation_names_the_field() -> None:
    crm = connector()
    results = asyncio.run(
        crm.write(
            "Account",
            [
                WriteOp("long", "create", {"Name": "x" * 21}),
                WriteOp("pick", "create", {"Name": "y", "Tier": "Z"}),
                WriteOp("none", "create", {"Tier": "A"}),
                WriteOp("what", "create", {"Name": "z", "Colour": "red"}),
            ],
        )
    )
    assert [(r.error.field, r.error.vendor_code) for r in results if r.error] == [
        ("Name", "STRING_TOO_LONG"),
        ("Tier", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        ("Name", "REQUIRED_FIELD_MISSING"),
        ("Colour", None),
    ]


def test_batches_above_the_batch_size_are_refused() -> None:
    crm = connector()
    ops = [WriteOp(str(n), "create", {"Name": f"N{n}"}) for n in range(201)]
    with pytest.raises(ValueError, match="exceeds the batch size 200"):
        asyncio.run(crm.write("Account", ops))


def test_signed_webhooks_parse_and_forged_ones_are_refused() -> None:
    crm = connector()
    record_id = crm.put("Account", {"Name": "Hooli"})
    body = crm.webhook_body(crm.outbox[-1:])
    (event,) = crm.parse_webhook(crm.sign(body), body)
    assert (event.object, event.id, event.change) == ("Account", record_id, "created")
    with pytest.raises(ValueError, match="signature"):
        crm.parse_webhook({**crm.sign(body), SIGNATURE_HEADER: "sha256=00"}, body)
    forged = body.replace(b"created", b"deleted")
    with pytest.raises(ValueError, match="signature"):
        crm.parse_webhook(crm.sign(body), forged)


def test_user_edits_and_deletes_go_through_the_change_log() -> None:
    crm = connector()
    record_id = crm.put("Account", {"Name": "Umbrella"})

    async def changes(cursor: dict[str, object] | None) -> list[tuple[str, bool]]:
        seen = []
        async for page in crm.read_changes("Account", cursor):
            seen.extend((r.id, r.deleted) for r in page.records)
        return seen

    async def last_cursor() -> dict[str, object]:
        cursor: dict[str, object] = {}
        async for page in crm.read_changes("Account", None):
            cursor = page.cursor
        return cursor

    cursor = asyncio.run(last_cursor())
    crm.put("Account", {"Tier": "B"}, record_id)
    crm.remove("Account", record_id)
    assert asyncio.run(changes(cursor)) == [(record_id, True)]
    assert crm.get("Account", record_id) is None


def test_a_replayed_or_stale_webhook_is_refused() -> None:
    crm = connector()
    crm.put("Account", {"Name": "Hooli"})
    body = crm.webhook_body(crm.outbox[-1:])
    stale = crm.sign(body, at=1_000_000)
    with pytest.raises(ValueError, match="outside the 300 s window"):
        crm.parse_webhook(stale, body)
    headers = crm.sign(body)
    moved = {**headers, "x-isthmus-timestamp": str(int(headers["x-isthmus-timestamp"]) + 1)}
    with pytest.raises(ValueError, match="signature"):
        crm.parse_webhook(moved, body)
