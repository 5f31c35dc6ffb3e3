"""``sensitive: true`` on a mapping rule: read by the loader, checked by the schema."""

from __future__ import annotations

import pytest

from isthmus.errors import IsthmusError
from isthmus.mapping.loader import parse_mapping

MAPPING = """\
name: crm_account
entity: customer
object: Account
fields:
  - {canonical: name, native: Name}
  - canonical: credit_limit
    native: {amount: Credit_Limit__c, currency: CurrencyIsoCode}
    transform: money
    sensitive: %s
"""


def test_a_flagged_rule_is_sensitive_and_others_are_not() -> None:
    spec = parse_mapping(MAPPING % "true")
    assert [rule.sensitive for rule in spec.fields] == [False, True]
    assert spec.sensitive_paths() == frozenset({"credit_limit"})
    assert parse_mapping(MAPPING % "false").sensitive_paths() == frozenset()


def test_the_flag_must_be_a_boolean() -> None:
    with pytest.raises(IsthmusError, match="sensitive"):
        parse_mapping(MAPPING % '"yes"')
