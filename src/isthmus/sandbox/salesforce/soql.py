"""SOQL: tokenizer, syntax tree and recursive-descent parser (no schema knowledge here).

Grammar (the part integrations send)::

    query      := SELECT items FROM name [WHERE or] [ORDER BY order {, order}]
                  [LIMIT int] [OFFSET int]
    items      := item {, item}
    item       := path | COUNT ( [path] ) [alias]
    path       := name {. name}
    or         := and {OR and}
    and        := not {AND not}
    not        := NOT not | ( or ) | condition
    condition  := path op value | path [NOT] IN ( value {, value} ) | path LIKE string
    value      := string | number | TRUE | FALSE | NULL | date | datetime | date function
    order      := path [ASC | DESC] [NULLS (FIRST | LAST)]

Errors are raised as MALFORMED_QUERY with Salesforce's caret-and-position message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from isthmus.sandbox.salesforce.errors import SalesforceApiError, malformed_query

TokenKind = Literal["name", "string", "number", "date", "datetime", "op", "punct", "end"]
ValueKind = Literal["string", "number", "boolean", "null", "date", "datetime", "date_function"]

_TOKEN_PATTERNS: tuple[tuple[TokenKind | None, re.Pattern[str]], ...] = (
    (None, re.compile(r"\s+")),
    (
        "datetime",
        re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})"),
    ),
    ("date", re.compile(r"\d{4}-\d{2}-\d{2}(?![\dT])")),
    ("number", re.compile(r"[+-]?\d+(?:\.\d+)?(?![\w])")),
    ("string", re.compile(r"'(?:[^'\\]|\\.)*'")),
    ("name", re.compile(r"[A-Za-z_][A-Za-z0-9_]*")),
    ("op", re.compile(r"!=|<>|<=|>=|=|<|>")),
    ("punct", re.compile(r"[(),.:]")),
)
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
DATE_FUNCTIONS = frozenset({"TODAY", "YESTERDAY", "TOMORROW", "LAST_N_DAYS", "NEXT_N_DAYS"})
_DATE_FUNCTIONS_WITH_N = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS"})
_RESERVED = frozenset(
    {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT"}
    | {"OFFSET", "ASC", "DESC", "NULLS", "GROUP", "HAVING"}
)


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    position: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "name" and self.text.upper() in words


@dataclass(frozen=True)
class FieldPath:
    """``Name`` or ``Account.Owner.Name``, as written; ``position`` points at it."""

    parts: tuple[str, ...]
    position: int = field(default=0, compare=False)

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class CountCall:
    """``COUNT()`` (no field: only the total) or ``COUNT(Id) [alias]``."""

    path: FieldPath | None
    alias: str | None = None


SelectItem = FieldPath | CountCall


@dataclass(frozen=True)
class Value:
    kind: ValueKind
    value: str | float | bool | None
    #: N of ``LAST_N_DAYS:N``; 0 for other date functions.
    amount: int = 0


@dataclass(frozen=True)
class Comparison:
    path: FieldPath
    operator: str  # one of = != < <= > >= LIKE
    value: Value


@dataclass(frozen=True)
class InList:
    path: FieldPath
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class BoolOp:
    operator: Literal["AND", "OR"]
    operands: tuple[Condition, ...]


Condition = Comparison | InList | Not | BoolOp


@dataclass(frozen=True)
class OrderItem:
    path: FieldPath
    descending: bool = False
    nulls_last: bool = False


@dataclass(frozen=True)
class Query:
    items: tuple[SelectItem, ...]
    object_name: str
    object_position: int
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None


def tokenize(text: str) -> list[Token]:
    """Split SOQL text into tokens, ending with an ``end`` token.

    Raises:
        SalesforceApiError: MALFORMED_QUERY at the first character no token starts with.
    """
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        for kind, pattern in _TOKEN_PATTERNS:
            match = pattern.match(text, position)
            if match:
                if kind is not None:
                    tokens.append(Token(kind, match.group(), position))
                position = match.end()
                break
        else:
            raise syntax_error(text, position, f"unexpected token: '{text[position]}'")
    tokens.append(Token("end", "", len(text)))
    return tokens


def syntax_error(text: str, position: int, detail: str) -> SalesforceApiError:
    """MALFORMED_QUERY with the caret message Salesforce prints."""
    return malformed_query(position_message(text, position, detail))


def position_message(text: str, position: int, detail: str) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    row = text.count("\n", 0, position) + 1
    column = position - line_start
    line_end = text.find("\n", position)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}\n{detail}"


def parse(text: str) -> Query:
    """Parse one SOQL query.

    Raises:
        SalesforceApiError: MALFORMED_QUERY describing the first unexpected token.
    """
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, token: Token | None = None) -> SalesforceApiError:
        token = token or self.current
        shown = token.text if token.kind != "end" else "<EOF>"
        return syntax_error(self.text, token.position, f"unexpected token: '{shown}'")

    def expect_word(self, word: str) -> Token:
        if not self.current.is_word(word):
            raise self.fail()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.current.kind != "punct" or self.current.text != char:
            raise self.fail()
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.text == char

    def name(self) -> Token:
        if self.current.kind != "name" or self.current.text.upper() in _RESERVED:
            raise self.fail()
        return self.advance()

    def object_name(self) -> Token:
        # Salesforce's Order object shares its name with ORDER BY: after FROM, ``Order``
        # not followed by BY is the object.
        following = self.tokens[self.index + 1] if self.current.kind != "end" else self.current
        if self.current.is_word("ORDER") and not following.is_word("BY"):
            return self.advance()
        return self.name()

    def query(self) -> Query:
        self.expect_word("SELECT")
        items = [self.select_item()]
        while self.at_punct(","):
            self.advance()
            items.append(self.select_item())
        self.expect_word("FROM")
        object_token = self.object_name()
        where = None
        if self.current.is_word("WHERE"):
            self.advance()
            where = self.or_condition()
        order_by: list[OrderItem] = []
        if self.current.is_word("ORDER"):
            self.advance()
            self.expect_word("BY")
            order_by.append(self.order_item())
            while self.at_punct(","):
                self.advance()
                order_by.append(self.order_item())
        limit = self.integer_clause("LIMIT")
        offset = self.integer_clause("OFFSET")
        if self.current.kind != "end":
            raise self.fail()
        return Query(
            tuple(items),
            object_token.text,
            object_token.position,
            where,
            tuple(order_by),
            limit,
            offset,
        )

    def integer_clause(self, word: str) -> int | None:
        if not self.current.is_word(word):
            return None
        self.advance()
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail()
        self.advance()
        return int(token.text)

    def select_item(self) -> SelectItem:
        if self.current.is_word("COUNT") and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            path = None if self.at_punct(")") else self.path()
            self.expect_punct(")")
            alias = None
            if self.current.kind == "name" and self.current.text.upper() not in _RESERVED:
                alias = self.advance().text
            return CountCall(path, alias)
        return self.path()

    def path(self) -> FieldPath:
        first = self.name()
        parts = [first.text]
        while self.at_punct("."):
            self.advance()
            parts.append(self.name().text)
        return FieldPath(tuple(parts), first.position)

    def order_item(self) -> OrderItem:
        path = self.path()
        descending = False
        if self.current.is_word("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_last = descending  # Salesforce's default: nulls first ascending, last descending
        if self.current.is_word("NULLS"):
            self.advance()
            if not self.current.is_word("FIRST", "LAST"):
                raise self.fail()
            nulls_last = self.advance().text.upper() == "LAST"
        return OrderItem(path, descending, nulls_last)

    def or_condition(self) -> Condition:
        operands = [self.and_condition()]
        while self.current.is_word("OR"):
            self.advance()
            operands.append(self.and_condition())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def and_condition(self) -> Condition:
        operands = [self.not_condition()]
        while self.current.is_word("AND"):
            self.advance()
            operands.append(self.not_condition())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def not_condition(self) -> Condition:
        if self.current.is_word("NOT"):
            self.advance()
            return Not(self.not_condition())
        if self.at_punct("("):
            self.advance()
            inner = self.or_condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        path = self.path()
        token = self.current
        if token.kind == "op":
            self.advance()
            operator = "!=" if token.text == "<>" else token.text
            return Comparison(path, operator, self.value())
        if token.is_word("LIKE"):
            self.advance()
            value = self.value()
            if value.kind != "string":
                raise self.fail(self.tokens[self.index - 1])
            return Comparison(path, "LIKE", value)
        negated = False
        if token.is_word("NOT"):
            self.advance()
            negated = True
        if self.current.is_word("IN"):
            self.advance()
            self.expect_punct("(")
            values = [self.value()]
            while self.at_punct(","):
                self.advance()
                values.append(self.value())
            self.expect_punct(")")
            return InList(path, tuple(values), negated)
        raise self.fail()

    def value(self) -> Value:
        token = self.advance()
        if token.kind == "string":
            return Value("string", _unquote(token.text))
        if token.kind == "number":
            return Value("number", float(token.text))
        if token.kind in ("date", "datetime"):
            return Value(token.kind, token.text)
        if token.is_word("TRUE", "FALSE"):
            return Value("boolean", token.text.upper() == "TRUE")
        if token.is_word("NULL"):
            return Value("null", None)
        if token.kind == "name" and token.text.upper() in DATE_FUNCTIONS:
            function = token.text.upper()
            amount = 0
            if function in _DATE_FUNCTIONS_WITH_N:
                self.expect_punct(":")
                number = self.advance()
                if number.kind != "number" or not number.text.isdigit():
                    raise self.fail(number)
                amount = int(number.text)
            return Value("date_function", function, amount)
        raise self.fail(token)


def _unquote(literal: str) -> str:
    body = literal[1:-1]

    def unescape(match: re.Match[str]) -> str:
        char = match.group(1)
        if char in "%_":
            return "\\" + char  # stays escaped: LIKE tells a literal % or _ from a wildcard
        return _STRING_ESCAPES.get(char, char)

    return re.sub(r"\\(.)", unescape, body)
