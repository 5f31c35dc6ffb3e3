"""``$filter`` expressions: parse to a small AST and evaluate it against in-memory records.

Supported: ``eq ne gt ge lt le``, ``and or not``, parentheses, ``contains``, ``startswith``,
``endswith``, and string, number, boolean, null, guid and datetime literals. Records are
plain dicts; a datetime literal compares against ISO-8601 strings by parsing them, so a
sandbox may store timestamps as text and still answer ``lastModifiedDateTime gt ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"contains", "startswith", "endswith"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})(?![\w-])
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][\w/]*)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


class FilterSyntaxError(ValueError):
    """The ``$filter`` text is not an expression this server understands."""


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Field:
    path: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node = Literal | Field | Compare | Logical | Not | Call


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterSyntaxError(
                f"$filter: cannot read {text[pos : pos + 20]!r} at position {pos}; "
                "use OData v4 syntax, e.g. name eq 'Adatum' and balance gt 100"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterSyntaxError("$filter: expression ends too early")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text != value:
            raise FilterSyntaxError(f"$filter: expected {value!r}, found {text!r}")

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "name" and token[1] == word

    def parse(self) -> Node:
        node = self.parse_or()
        leftover = self.peek()
        if leftover is not None:
            raise FilterSyntaxError(f"$filter: unexpected {leftover[1]!r} after expression")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.at_keyword("or"):
            self.take()
            node = Logical("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_unary()
        while self.at_keyword("and"):
            self.take()
            node = Logical("and", node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        if self.at_keyword("not"):
            self.take()
            return Not(self.parse_unary())
        left = self.parse_primary()
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] in COMPARISONS:
            self.take()
            return Compare(token[1], left, self.parse_primary())
        return left

    def parse_primary(self) -> Node:
        kind, text = self.take()
        if text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"))
        if kind == "number":
            return Literal(Decimal(text))
        if kind == "datetime":
            return Literal(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if kind == "date":
            return Literal(date.fromisoformat(text))
        if kind == "guid":
            return Literal(text.lower())
        if kind == "name":
            if text in ("true", "false"):
                return Literal(text == "true")
            if text == "null":
                return Literal(None)
            if text in FUNCTIONS:
                return self.parse_call(text)
            return Field(text)
        raise FilterSyntaxError(f"$filter: unexpected {text!r}")

    def parse_call(self, function: str) -> Node:
        self.expect("(")
        args = [self.parse_or()]
        while (token := self.peek()) is not None and token[1] == ",":
            self.take()
            args.append(self.parse_or())
        self.expect(")")
        if len(args) != 2:
            raise FilterSyntaxError(f"$filter: {function}() takes 2 arguments, got {len(args)}")
        return Call(function, tuple(args))


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` value; raises FilterSyntaxError with the offending token."""
    return _Parser(text).parse()


def _resolve(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring a stored value and a literal to one comparable type."""
    if isinstance(right, datetime) and isinstance(left, str):
        return datetime.fromisoformat(left.replace("Z", "+00:00")), right
    if isinstance(left, datetime) and isinstance(right, str):
        return left, datetime.fromisoformat(right.replace("Z", "+00:00"))
    if isinstance(right, date) and isinstance(left, str):
        return date.fromisoformat(left[:10]), right
    if (
        isinstance(right, Decimal)
        and isinstance(left, int | float | str)
        and not isinstance(left, bool)
    ):
        try:
            return Decimal(str(left)), right
        except InvalidOperation:
            return left, str(right)
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() if _is_guid(left) else left, right
    return left, right


def _is_guid(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _coerce_pair(left, right)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False  # OData: ordering comparisons with null are false
    try:
        if op == "gt":
            return bool(left > right)
        if op == "ge":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        return bool(left <= right)
    except TypeError as exc:
        raise FilterSyntaxError(f"$filter: cannot compare {left!r} {op} {right!r}") from exc


def _value(node: Node, record: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Field):
        return _resolve(record, node.path)
    return evaluate_filter(node, record)


def equality_values(node: Node) -> tuple[str, frozenset[str]] | None:
    """For ``f eq 'a' or f eq 'b' or ...`` (one property, text literals): the property and
    the values, so a service can answer look-ups by a set instead of row by row."""
    if isinstance(node, Logical) and node.op == "or":
        left, right = equality_values(node.left), equality_values(node.right)
        if left is None or right is None or left[0] != right[0]:
            return None
        return left[0], left[1] | right[1]
    if (
        isinstance(node, Compare)
        and node.op == "eq"
        and isinstance(node.left, Field)
        and isinstance(node.right, Literal)
        and isinstance(node.right.value, str)
    ):
        return node.left.path, frozenset({node.right.value})
    return None


def filter_rows(node: Node, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The rows satisfying ``node``; equality look-ups on text go through a set."""
    found = equality_values(node)
    if found is None:
        return [row for row in rows if evaluate_filter(node, row)]
    path, values = found
    matched = []
    for row in rows:
        value = _resolve(row, path)
        if isinstance(value, str):
            if (value.lower() if _is_guid(value) else value) in values:
                matched.append(row)
        elif evaluate_filter(node, row):  # other types keep the general comparison
            matched.append(row)
    return matched


def evaluate_filter(node: Node, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies the parsed filter ``node``."""
    if isinstance(node, Logical):
        if node.op == "and":
            return evaluate_filter(node.left, record) and evaluate_filter(node.right, record)
        return evaluate_filter(node.left, record) or evaluate_filter(node.right, record)
    if isinstance(node, Not):
        return not evaluate_filter(node.operand, record)
    if isinstance(node, Compare):
        return _compare(node.op, _value(node.left, record), _value(node.right, record))
    if isinstance(node, Call):
        haystack, needle = (_value(arg, record) for arg in node.args)
        if not isinstance(haystack, str) or not isinstance(needle, str):
            return False
        if node.function == "contains":
            return needle in haystack
        if node.function == "startswith":
            return haystack.startswith(needle)
        return haystack.endswith(needle)
    if isinstance(node, Field):
        return bool(_resolve(record, node.path))
    return bool(node.value)
