"""Query options (``$filter $select $expand $orderby $top $skip $count $skiptoken``).

``apply_query`` turns a full in-memory collection into one page. Paging is server-driven:
when more rows remain than the page size, the page carries the skip token of the next row
and the caller renders it as ``@odata.nextLink``; the token is the absolute offset, so a
client that follows links never sees a row twice while the collection is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from isthmus.protocols.odata.filter import FilterSyntaxError, Node, filter_rows, parse_filter

Record = dict[str, Any]


class QueryOptionError(ValueError):
    """A query option is malformed or names something the entity does not have."""


@dataclass(frozen=True)
class QueryOptions:
    """The parsed system query options of one request."""

    filter: Node | None = None
    select: tuple[str, ...] = ()
    expand: tuple[str, ...] = ()
    orderby: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    passthrough: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueryOptions:
        """Read ``$``-options from a URL's query parameters; raises QueryOptionError."""
        try:
            parsed_filter = parse_filter(params["$filter"]) if "$filter" in params else None
        except FilterSyntaxError as exc:
            raise QueryOptionError(str(exc)) from exc
        skip = _non_negative(params, "$skip") or 0
        if "$skiptoken" in params:
            skip = _non_negative(params, "$skiptoken") or 0
        return cls(
            filter=parsed_filter,
            select=_names(params.get("$select")),
            expand=_names(params.get("$expand")),
            orderby=_orderby(params.get("$orderby")),
            top=_non_negative(params, "$top"),
            skip=skip,
            count=params.get("$count", "false").lower() == "true",
            passthrough={k: v for k, v in params.items() if not k.startswith("$")},
        )


def _names(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _orderby(text: str | None) -> tuple[tuple[str, bool], ...]:
    result = []
    for item in _names(text):
        parts = item.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
            raise QueryOptionError(f"$orderby: cannot read {item!r}; use 'property [asc|desc]'")
        result.append((parts[0], len(parts) == 2 and parts[1] == "desc"))
    return tuple(result)


def _non_negative(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        value = int(params[name])
    except ValueError as exc:
        raise QueryOptionError(
            f"{name} must be a non-negative integer, got {params[name]!r}"
        ) from exc
    if value < 0:
        raise QueryOptionError(f"{name} must be a non-negative integer, got {value}")
    return value


@dataclass(frozen=True)
class Page:
    """One page of results: the rows, the total (when ``$count``) and the next skip token."""

    rows: list[Record]
    total: int | None
    next_skiptoken: int | None
    remaining_top: int | None

    def next_link(self, base_url: str, options: QueryOptions, raw: Mapping[str, str]) -> str | None:
        """The ``@odata.nextLink`` URL, keeping the client's other options."""
        if self.next_skiptoken is None:
            return None
        kept = {k: v for k, v in raw.items() if k not in ("$skip", "$skiptoken", "$top")}
        kept["$skiptoken"] = str(self.next_skiptoken)
        if self.remaining_top is not None:
            kept["$top"] = str(self.remaining_top)
        return f"{base_url}?{urlencode(kept)}"


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first, as in SQL ascending order; mixed types fall back to text.
    if value is None:
        return (0, "")
    return (1, value)


def _key_for(prop: str) -> Callable[[Record], tuple[int, Any]]:
    return lambda row: _sort_key(row.get(prop))


def apply_query(
    rows: Sequence[Record],
    options: QueryOptions,
    page_size: int,
    expand: Callable[[Record, str], Any] | None = None,
    known_properties: frozenset[str] | None = None,
) -> Page:
    """Filter, order, page, expand and select ``rows`` as ``options`` ask.

    Args:
        rows: the full collection, as dicts.
        options: the parsed query options.
        page_size: the server's maximum rows per response (server-driven paging).
        expand: returns the value of a navigation property for one row.
        known_properties: when given, ``$select``/``$orderby`` names outside it are refused.
    """
    for name in (*options.select, *(prop for prop, _ in options.orderby)):
        if known_properties is not None and name not in known_properties:
            raise QueryOptionError(f"could not find a property named {name!r} on this entity")
    try:
        matched = list(rows) if options.filter is None else filter_rows(options.filter, rows)
    except FilterSyntaxError as exc:
        raise QueryOptionError(str(exc)) from exc
    for prop, descending in reversed(options.orderby):
        # Stable sorts applied from the last key to the first give a multi-key order.
        matched.sort(key=_key_for(prop), reverse=descending)
    total = len(matched)
    wanted = total - options.skip if options.top is None else min(options.top, total - options.skip)
    wanted = max(wanted, 0)
    take = min(wanted, page_size)
    window = matched[options.skip : options.skip + take]
    more = wanted > take
    shaped = [_shape(row, options, expand) for row in window]
    return Page(
        rows=shaped,
        total=total if options.count else None,
        next_skiptoken=options.skip + take if more else None,
        remaining_top=(wanted - take) if more and options.top is not None else None,
    )


def _shape(
    row: Record, options: QueryOptions, expand: Callable[[Record, str], Any] | None
) -> Record:
    shaped = {k: v for k, v in row.items() if not options.select or k in options.select}
    for nav in options.expand:
        if expand is None:
            raise QueryOptionError(f"$expand: this entity has no navigation property {nav!r}")
        shaped[nav] = expand(row, nav)
    return shaped
