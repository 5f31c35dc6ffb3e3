"""SOQL against the store: check a parsed query against the schema, run it, render rows.

:func:`compile_query` resolves every field path (including parent relationships such as
``Account.Owner.Name``) and checks each filter value's type against its field, raising
Salesforce's INVALID_FIELD / INVALID_TYPE / MALFORMED_QUERY errors. :func:`run` filters,
sorts and slices; :func:`render_record` builds the JSON row with nested ``attributes``.

Semantics kept from Salesforce: text comparisons and LIKE ignore case; ids compare in
their 18-character form; a null never satisfies ``<``/``>``; ascending order puts nulls
first and descending puts them last unless NULLS FIRST/LAST says otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from isthmus.sandbox.salesforce import soql
from isthmus.sandbox.salesforce.errors import SalesforceApiError, invalid_field
from isthmus.sandbox.salesforce.ids import format_datetime, normalise_id, parse_datetime
from isthmus.sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef, Schema
from isthmus.sandbox.salesforce.store import RecordStore
from isthmus.sandbox.salesforce.transaction import Record

MAX_OFFSET = 2000
_NO_SUCH_COLUMN_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the "
    "custom field name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


@dataclass(frozen=True)
class ResolvedPath:
    """A field path bound to the schema: references to follow, then the final field."""

    path: soql.FieldPath
    hops: tuple[FieldDef, ...]
    owner: ObjectDef
    field: FieldDef

    @property
    def column_name(self) -> str:
        """The column heading bulk CSV results use (``Account.Name``)."""
        names = [hop.relationship_name or hop.name for hop in self.hops]
        return ".".join([*names, self.field.name])


@dataclass(frozen=True)
class CompiledQuery:
    query: soql.Query
    text: str
    obj: ObjectDef
    columns: tuple[ResolvedPath, ...]
    counts: tuple[tuple[soql.CountCall, ResolvedPath | None], ...]
    condition: Callable[[RecordStore, Record], bool] | None
    order: tuple[tuple[ResolvedPath, soql.OrderItem], ...]

    @property
    def count_only(self) -> bool:
        """``SELECT COUNT() FROM ...``: the answer is only ``totalSize``."""
        return len(self.counts) == 1 and self.counts[0][0].path is None


def compile_query(text: str, schema: Schema, today: dt.date) -> CompiledQuery:
    """Parse ``text`` and bind it to ``schema``; date functions use ``today`` (UTC).

    Raises:
        SalesforceApiError: MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD or
            NUMBER_OUTSIDE_VALID_RANGE, as Salesforce reports them.
    """
    query = soql.parse(text)
    obj = schema.get(query.object_name)
    if obj is None:
        detail = (
            f"sObject type '{query.object_name}' is not supported. If you are attempting to "
            "use a custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names."
        )
        message = soql.position_message(text, query.object_position, detail)
        raise SalesforceApiError(400, "INVALID_TYPE", message)
    binder = _Binder(text, schema, obj, today)
    columns: list[ResolvedPath] = []
    counts: list[tuple[soql.CountCall, ResolvedPath | None]] = []
    for item in query.items:
        if isinstance(item, soql.CountCall):
            counts.append((item, binder.resolve(item.path) if item.path else None))
        elif all(c.path != item for c in columns):
            columns.append(binder.resolve(item))
    if counts and columns:
        raise soql.syntax_error(
            text,
            columns[0].path.position,
            f"Field must be grouped or aggregated: {columns[0].field.name}",
        )
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SalesforceApiError(
            400,
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"Maximum SOQL offset allowed is {MAX_OFFSET}; page with nextRecordsUrl instead.",
        )
    condition = binder.condition(query.where) if query.where else None
    order = tuple((binder.resolve(item.path), item) for item in query.order_by)
    return CompiledQuery(query, text, obj, tuple(columns), tuple(counts), condition, order)


def run(compiled: CompiledQuery, store: RecordStore, *, include_deleted: bool) -> list[Record]:
    """The matching records, sorted, after OFFSET and LIMIT."""
    rows = [
        record
        for record in store.records(compiled.obj.name, include_deleted=include_deleted)
        if compiled.condition is None or compiled.condition(store, record)
    ]
    for resolved, item in reversed(compiled.order):
        rows = _sorted(rows, store, resolved, item)
    start = compiled.query.offset or 0
    end = None if compiled.query.limit is None else start + compiled.query.limit
    return rows[start:end]


def aggregate_row(compiled: CompiledQuery, store: RecordStore, rows: list[Record]) -> Any:
    """The single AggregateResult row of ``SELECT COUNT(field) [alias] ...``."""
    row: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
    for index, (call, resolved) in enumerate(compiled.counts):
        key = call.alias or f"expr{index}"
        if resolved is None:
            row[key] = len(rows)
        else:
            row[key] = sum(1 for r in rows if value_of(store, r, resolved) is not None)
    return row


def value_of(store: RecordStore, record: Record | None, resolved: ResolvedPath) -> Any:
    """The value of a resolved path on ``record``, following parent references."""
    current = record
    for hop in resolved.hops:
        if current is None:
            return None
        parent_id = current.get(hop.name)
        found = store.get(parent_id) if parent_id else None
        current = found[1] if found else None
    return None if current is None else current.get(resolved.field.name)


def attributes(obj: ObjectDef, record: Record, version: str) -> dict[str, str]:
    return {
        "type": obj.name,
        "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}",
    }


def render_record(
    compiled: CompiledQuery, store: RecordStore, record: Record, version: str
) -> dict[str, Any]:
    """One query result row: ``attributes`` plus the selected fields, parents nested."""
    row: dict[str, Any] = {"attributes": attributes(compiled.obj, record, version)}
    for resolved in compiled.columns:
        container: dict[str, Any] | None = row
        current: Record | None = record
        for hop in resolved.hops:
            assert container is not None
            assert current is not None
            key = hop.relationship_name or hop.name
            if key not in container:
                parent_id = current.get(hop.name)
                found = store.get(parent_id) if parent_id else None
                container[key] = (
                    {"attributes": attributes(found[0], found[1], version)} if found else None
                )
            container = container[key]
            if container is None:
                break
            found_parent = store.get(current[hop.name])
            current = found_parent[1] if found_parent else None
        if container is not None and current is not None:
            container[resolved.field.name] = current.get(resolved.field.name)
    return row


def _sorted(
    rows: list[Record], store: RecordStore, resolved: ResolvedPath, item: soql.OrderItem
) -> list[Record]:
    def key(record: Record) -> tuple[int, Any]:
        value = value_of(store, record, resolved)
        if isinstance(value, str):
            value = value.lower()
        # With reverse=True the null rank flips too, so pick it so nulls land as asked.
        null_rank = 1 if item.nulls_last != item.descending else 0
        return (null_rank, 0) if value is None else (1 - null_rank, value)

    return sorted(rows, key=key, reverse=item.descending)


class _Binder:
    """Resolves paths and compiles conditions for one query's base object."""

    def __init__(self, text: str, schema: Schema, obj: ObjectDef, today: dt.date) -> None:
        self.text = text
        self.schema = schema
        self.obj = obj
        self.today = today

    def resolve(self, path: soql.FieldPath) -> ResolvedPath:
        owner = self.obj
        parts = list(path.parts)
        if len(parts) > 1 and parts[0].lower() == owner.name.lower():
            parts = parts[1:]  # "Account.Name" from Account means the Name field
        hops: list[FieldDef] = []
        for relationship in parts[:-1]:
            hop = owner.reference_by_relationship(relationship)
            target = self.schema.get(hop.reference_to or "") if hop else None
            if hop is None or target is None:
                raise self._no_such_column(path, relationship, owner)
            hops.append(hop)
            owner = target
        field = owner.field(parts[-1])
        if field is None:
            raise self._no_such_column(path, parts[-1], owner)
        return ResolvedPath(path, tuple(hops), owner, field)

    def _no_such_column(
        self, path: soql.FieldPath, name: str, owner: ObjectDef
    ) -> SalesforceApiError:
        detail = f"No such column '{name}' on entity '{owner.name}'. {_NO_SUCH_COLUMN_HINT}"
        if len(path.parts) > 1 and name == path.parts[0]:
            detail = (
                f"Didn't understand relationship '{name}' in field path. {_NO_SUCH_COLUMN_HINT}"
            )
        return invalid_field(soql.position_message(self.text, path.position, detail))

    def condition(self, node: soql.Condition) -> Callable[[RecordStore, Record], bool]:
        if isinstance(node, soql.BoolOp):
            parts = [self.condition(operand) for operand in node.operands]
            if node.operator == "AND":
                return lambda store, record: all(p(store, record) for p in parts)
            return lambda store, record: any(p(store, record) for p in parts)
        if isinstance(node, soql.Not):
            inner = self.condition(node.operand)
            return lambda store, record: not inner(store, record)
        resolved = self.resolve(node.path)
        if isinstance(node, soql.InList):
            wanted = {self._operand(resolved, v) for v in node.values}
            normalise = _normaliser(resolved.field)
            negated = node.negated

            def in_list(store: RecordStore, record: Record) -> bool:
                found = normalise(value_of(store, record, resolved)) in wanted
                return found != negated

            return in_list
        return self._comparison(resolved, node)

    def _comparison(
        self, resolved: ResolvedPath, node: soql.Comparison
    ) -> Callable[[RecordStore, Record], bool]:
        normalise = _normaliser(resolved.field)
        operator = node.operator
        if node.value.kind == "date_function":
            low, high = self._date_range(resolved.field, node.value)
            return _range_test(resolved, operator, low, high)
        operand = self._operand(resolved, node.value)
        if operator == "LIKE":
            if resolved.field.type not in TEXT_TYPES:
                raise self._type_error(resolved, "string")
            pattern = _like_pattern(str(operand))

            def like(store: RecordStore, record: Record) -> bool:
                value = value_of(store, record, resolved)
                return isinstance(value, str) and pattern.fullmatch(value) is not None

            return like
        test = _OPERATORS[operator]

        def compare(store: RecordStore, record: Record) -> bool:
            value = normalise(value_of(store, record, resolved))
            if operator in ("=", "!="):
                return test(value, operand)
            return value is not None and operand is not None and test(value, operand)

        return compare

    def _operand(self, resolved: ResolvedPath, value: soql.Value) -> Any:
        field = resolved.field
        if value.kind == "null":
            return None
        expected = _expected_kind(field)
        if value.kind != expected:
            raise self._type_error(resolved, expected)
        if field.type in ("id", "reference"):
            normalised = normalise_id(str(value.value))
            if normalised is None:
                raise SalesforceApiError(
                    400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value.value}"
                )
            return normalised.lower()
        if value.kind == "datetime":
            return format_datetime(parse_datetime(str(value.value)))
        if value.kind == "date":
            try:
                return dt.date.fromisoformat(str(value.value)).isoformat()
            except ValueError as exc:
                raise self._type_error(resolved, "date") from exc
        if isinstance(value.value, str):
            return value.value.lower()
        return value.value

    def _type_error(self, resolved: ResolvedPath, expected: str) -> SalesforceApiError:
        quoted = "" if expected == "string" else " and should not be enclosed in quotes"
        detail = (
            f"value of filter criterion for field '{resolved.field.name}' must be of type "
            f"{expected}{quoted}"
        )
        return invalid_field(soql.position_message(self.text, resolved.path.position, detail))

    def _date_range(self, field: FieldDef, value: soql.Value) -> tuple[str, str]:
        if field.type not in ("date", "datetime"):
            raise invalid_field(f"date function {value.value} used on non-date field {field.name}")
        offsets = {
            "TODAY": (0, 1),
            "YESTERDAY": (-1, 0),
            "TOMORROW": (1, 2),
            "LAST_N_DAYS": (-value.amount, 1),
            "NEXT_N_DAYS": (1, value.amount + 1),
        }
        start, end = offsets[str(value.value)]
        days = (self.today + dt.timedelta(days=start), self.today + dt.timedelta(days=end))
        if field.type == "date":
            return days[0].isoformat(), days[1].isoformat()
        low, high = (dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC) for d in days)
        return format_datetime(low), format_datetime(high)


def _expected_kind(field: FieldDef) -> str:
    if field.type in NUMBER_TYPES:
        return "number"
    if field.type in ("boolean", "date", "datetime"):
        return field.type
    return "string"


def _normaliser(field: FieldDef) -> Callable[[Any], Any]:
    if field.type in TEXT_TYPES:
        return lambda value: value.lower() if isinstance(value, str) else value
    if field.type in NUMBER_TYPES:
        return lambda value: float(value) if value is not None else None
    return lambda value: value


def _range_test(
    resolved: ResolvedPath, operator: str, low: str, high: str
) -> Callable[[RecordStore, Record], bool]:
    tests: dict[str, Callable[[str], bool]] = {
        "=": lambda v: low <= v < high,
        "!=": lambda v: not low <= v < high,
        "<": lambda v: v < low,
        "<=": lambda v: v < high,
        ">": lambda v: v >= high,
        ">=": lambda v: v >= low,
    }
    if operator not in tests:
        raise invalid_field(f"operator {operator} cannot be used with a date function")
    test = tests[operator]

    def in_range(store: RecordStore, record: Record) -> bool:
        value = value_of(store, record, resolved)
        return value is not None and test(str(value))

    return in_range


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _like_pattern(pattern: str) -> re.Pattern[str]:
    regex = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            regex += re.escape(pattern[index + 1])
            index += 2
            continue
        regex += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        index += 1
    return re.compile(regex, re.IGNORECASE | re.DOTALL)
