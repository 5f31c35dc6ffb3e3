"""SOQL tokenizer and parser: table tests for the grammar, properties for robustness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isthmus.sandbox.salesforce import soql
from isthmus.sandbox.salesforce.errors import SalesforceApiError

F = soql.FieldPath


def _where(text: str) -> soql.Condition:
    query = soql.parse(f"SELECT Id FROM Account WHERE {text}")
    assert query.where is not None
    return query.where


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("SELECT Id FROM Account", (F(("Id",)),)),
        ("select id, name from account", (F(("id",)), F(("name",)))),
        ("SELECT Account.Owner.Name FROM Contact", (F(("Account", "Owner", "Name")),)),
        ("SELECT COUNT() FROM Account", (soql.CountCall(None),)),
        ("SELECT COUNT(Id) total FROM Account", (soql.CountCall(F(("Id",)), "total"),)),
    ],
)
def test_select_lists(text: str, items: tuple[soql.SelectItem, ...]) -> None:
    assert soql.parse(text).items == items


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Name = 'Acme'", soql.Comparison(F(("Name",)), "=", soql.Value("string", "Acme"))),
        ("Name <> 'x'", soql.Comparison(F(("Name",)), "!=", soql.Value("string", "x"))),
        ("Amount >= 10.5", soql.Comparison(F(("Amount",)), ">=", soql.Value("number", 10.5))),
        ("Amount < -3", soql.Comparison(F(("Amount",)), "<", soql.Value("number", -3.0))),
        ("IsDeleted = TRUE", soql.Comparison(F(("IsDeleted",)), "=", soql.Value("boolean", True))),
        ("ParentId = null", soql.Comparison(F(("ParentId",)), "=", soql.Value("null", None))),
        (
            "CloseDate > 2024-02-29",
            soql.Comparison(F(("CloseDate",)), ">", soql.Value("date", "2024-02-29")),
        ),
        (
            "SystemModstamp >= 2024-01-01T10:00:00.000+0000",
            soql.Comparison(
                F(("SystemModstamp",)), ">=", soql.Value("datetime", "2024-01-01T10:00:00.000+0000")
            ),
        ),
        (
            "CreatedDate = LAST_N_DAYS:7",
            soql.Comparison(
                F(("CreatedDate",)), "=", soql.Value("date_function", "LAST_N_DAYS", 7)
            ),
        ),
        ("Name LIKE 'Ac%'", soql.Comparison(F(("Name",)), "LIKE", soql.Value("string", "Ac%"))),
        (
            "Name = 'O\\'Brien\\n'",
            soql.Comparison(F(("Name",)), "=", soql.Value("string", "O'Brien\n")),
        ),
        (
            "Type IN ('A', 'B')",
            soql.InList(F(("Type",)), (soql.Value("string", "A"), soql.Value("string", "B"))),
        ),
        (
            "Type NOT IN ('A')",
            soql.InList(F(("Type",)), (soql.Value("string", "A"),), negated=True),
        ),
    ],
)
def test_conditions(text: str, expected: soql.Condition) -> None:
    assert _where(text) == expected


def test_and_binds_tighter_than_or_and_parentheses_override() -> None:
    a = soql.Comparison(F(("A",)), "=", soql.Value("number", 1.0))
    b = soql.Comparison(F(("B",)), "=", soql.Value("number", 2.0))
    c = soql.Comparison(F(("C",)), "=", soql.Value("number", 3.0))
    assert _where("A = 1 OR B = 2 AND C = 3") == soql.BoolOp("OR", (a, soql.BoolOp("AND", (b, c))))
    assert _where("(A = 1 OR B = 2) AND C = 3") == soql.BoolOp(
        "AND", (soql.BoolOp("OR", (a, b)), c)
    )
    assert _where("NOT A = 1 AND NOT (B = 2)") == soql.BoolOp("AND", (soql.Not(a), soql.Not(b)))


def test_order_limit_offset() -> None:
    query = soql.parse(
        "SELECT Id FROM Account ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 20"
    )
    assert query.order_by == (
        soql.OrderItem(F(("Name",)), descending=True, nulls_last=False),
        soql.OrderItem(F(("Id",)), descending=False, nulls_last=False),
    )
    assert (query.limit, query.offset) == (10, 20)
    assert soql.parse("SELECT Id FROM Account ORDER BY Name DESC").order_by[0].nulls_last


def test_the_order_object_is_a_name_after_from() -> None:
    query = soql.parse("SELECT Id FROM Order ORDER BY SystemModstamp")
    assert query.object_name == "Order"
    assert query.order_by == (soql.OrderItem(F(("SystemModstamp",))),)
    assert soql.parse("SELECT Id FROM Order").object_name == "Order"


@pytest.mark.parametrize(
    ("text", "column", "token"),
    [
        ("SELECT FROM Account", 8, "FROM"),
        ("SELECT Id Account", 11, "Account"),
        ("SELECT Id FROM Account WHERE", 29, "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = ", 37, "<EOF>"),
        ("SELECT Id FROM Account WHERE Name LIKE 5", 40, "5"),
        ("SELECT Id FROM Account LIMIT x", 30, "x"),
        ("SELECT Id FROM Account WHERE (Name = 'a'", 41, "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'a' extra", 41, "extra"),
        ("SELECT Id FROM Account WHERE Name IN 'a'", 38, "'a'"),
        ("SELECT Id, FROM Account", 12, "FROM"),
        ("SELECT Id FROM Account WHERE Name # 1", 35, "#"),
    ],
)
def test_syntax_errors_point_at_the_token(text: str, column: int, token: str) -> None:
    with pytest.raises(SalesforceApiError) as raised:
        soql.parse(text)
    assert raised.value.code == "MALFORMED_QUERY"
    assert raised.value.status == 400
    assert f"ERROR at Row:1:Column:{column}" in raised.value.message
    assert f"unexpected token: '{token}'" in raised.value.message


_names = st.sampled_from(["Id", "Name", "Amount", "Account.Name", "CreatedDate", "Type"])
_values = st.one_of(
    st.sampled_from(["'a'", "'O\\'x'", "null", "TRUE", "3", "-2.5", "2024-01-01", "TODAY"]),
    st.integers(0, 10**6).map(str),
)
_operators = st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "LIKE"])


@st.composite
def _conditions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 4 if depth < 3 else 1))
    if kind <= 1:
        return f"{draw(_names)} {draw(_operators)} {draw(_values)}"
    if kind == 2:
        values = ", ".join(draw(st.lists(_values, min_size=1, max_size=3)))
        return f"{draw(_names)} {draw(st.sampled_from(['IN', 'NOT IN']))} ({values})"
    if kind == 3:
        return f"NOT ({draw(_conditions(depth + 1))})"
    joiner = draw(st.sampled_from([" AND ", " OR "]))
    return f"({draw(_conditions(depth + 1))}{joiner}{draw(_conditions(depth + 1))})"


def _parse_or_error(text: str) -> soql.Query | SalesforceApiError:
    try:
        return soql.parse(text)
    except SalesforceApiError as error:
        return error


@settings(max_examples=150, deadline=None)
@given(_conditions())
def test_generated_where_clauses_parse_or_fail_cleanly(condition: str) -> None:
    outcome = _parse_or_error(f"SELECT Id FROM Account WHERE {condition} ORDER BY Name LIMIT 5")
    if isinstance(outcome, SalesforceApiError):  # e.g. LIKE with a number
        assert outcome.code == "MALFORMED_QUERY"
        assert "LIKE" in condition
    else:
        assert outcome.limit == 5
        assert outcome.where is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_raises_malformed_query(text: str) -> None:
    outcome = _parse_or_error(text)
    if isinstance(outcome, SalesforceApiError):
        assert outcome.code == "MALFORMED_QUERY"
        assert "ERROR at Row:" in outcome.message


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\\'"), max_size=30))
def test_string_literals_round_trip(value: str) -> None:
    condition = _where(f"Name = '{value}'")
    assert condition == soql.Comparison(F(("Name",)), "=", soql.Value("string", value))
