"""Formatting-only differences, field kind by field kind (and what is a real change)."""

from __future__ import annotations

import pytest

from isthmus.engine.equivalence import formatting_only
from isthmus.engine.merge import same_at


@pytest.mark.parametrize(
    ("path", "left", "right", "equivalent"),
    [
        ("phone", "+49 (30) 123-45", "493012345", True),
        ("contact.mobile", "030 / 1234 56", "030123456", True),
        ("phone", "+49 30 12345", "+49 30 12346", False),
        ("phone", "crm-1", "erp-1", False),  # not a phone number: compared as text
        ("phone", "12345 ext. 7", "123457", False),
        ("email", " Jane.Doe@Example.COM", "jane.doe@example.com", True),
        ("email", "jane@example.com", "john@example.com", False),
        ("website", "https://www.Acme.com/", "acme.com", True),
        ("website", "acme.com/de", "acme.com", False),
        ("name", "Acme  Corp ", "Acme Corp", True),
        ("name", "Acme Corp", "ACME Corp", False),  # letter case is a real change
        ("billing_address.city", "Berlin", "Berlin ", True),
        ("name", "Acme", None, False),
        ("credit_limit.amount", "10", "10.0", False),  # numbers are compared as numbers
    ],
)
def test_formatting_only(path: str, left: object, right: object, equivalent: bool) -> None:
    assert formatting_only(path, left, right) is equivalent
    assert formatting_only(path, right, left) is equivalent
    assert same_at(path, left, right) is (equivalent or left == right)
