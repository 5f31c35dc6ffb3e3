"""The files connector passes the conformance suite, excused only where files cannot
keep a promise (deletes), as its capabilities say."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.connectors.base import NativeFields
from isthmus.connectors.files import from_config
from isthmus.testing.conformance import ConformanceCase, ConformanceSubject, ConnectorConformance


def make(n: int) -> NativeFields:
    return {"customer_no": f"C-{n:05d}", "name": f"Customer {n}", "credit_limit": f"{n}.50"}


def edit(fields: NativeFields) -> NativeFields:
    return {"name": f"{fields['name']} v2"}


SUBJECT = ConformanceSubject(
    object_name="customers",
    make=make,
    edit=edit,
    compare=("customer_no", "name", "credit_limit"),
    lookup_field="customer_no",
    # credit_limit is declared decimal: a word there is refused and named.
    invalid=({"customer_no": "C-bad", "name": "Bad", "credit_limit": "lots"}, "credit_limit"),
)

NO_DELETES = "a CSV row cannot say a record is gone: delete_feed is False, not deletable"


class TestFilesConnector(ConnectorConformance):
    @pytest.fixture
    def conformance(self, tmp_path: Path) -> ConformanceCase:
        options = {
            "root": str(tmp_path),
            "objects": {
                "customers": {
                    "key": "customer_no",
                    "inbound": "inbound/customers/*.csv",
                    "outbound": "outbound/customers",
                    "external_key": "isthmus_id",
                    "fields": {
                        "customer_no": {},
                        "name": {"required": True},
                        "credit_limit": {"type": "decimal"},
                        "isthmus_id": {},
                    },
                }
            },
        }
        return ConformanceCase(
            lambda: from_config("erp", options),
            SUBJECT,
            excused={
                "test_a_delete_is_gone_and_reported_as_a_tombstone": NO_DELETES,
                "test_updating_a_missing_record_fails_as_a_value": NO_DELETES,
            },
        )
