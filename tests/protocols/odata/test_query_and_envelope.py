"""Query options, server-driven paging, envelopes and ETags."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from isthmus.protocols.odata import (
    QueryOptionError,
    QueryOptions,
    apply_query,
    collection_body,
    make_etag,
)

ROWS = [{"id": str(i), "n": i, "group": "even" if i % 2 == 0 else "odd"} for i in range(25)]


def test_paging_follows_skiptokens_without_gaps_or_repeats() -> None:
    seen: list[str] = []
    params: dict[str, str] = {"$filter": "n ge 3"}
    while True:
        options = QueryOptions.parse(params)
        page = apply_query(ROWS, options, page_size=5)
        seen += [row["id"] for row in page.rows]
        link = page.next_link("http://x/items", options, params)
        if link is None:
            break
        params = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
        assert params["$filter"] == "n ge 3"
    assert seen == [str(i) for i in range(3, 25)]


def test_top_larger_than_page_carries_remaining_top() -> None:
    params = {"$top": "7"}
    options = QueryOptions.parse(params)
    page = apply_query(ROWS, options, page_size=5)
    assert len(page.rows) == 5
    assert page.remaining_top == 2
    link = page.next_link("http://x/items", options, params)
    assert link is not None
    second = QueryOptions.parse({k: v[0] for k, v in parse_qs(urlparse(link).query).items()})
    rest = apply_query(ROWS, second, page_size=5)
    assert [r["n"] for r in rest.rows] == [5, 6]
    assert rest.next_skiptoken is None


def test_orderby_select_skip_count() -> None:
    options = QueryOptions.parse(
        {
            "$orderby": "group desc,n asc",
            "$select": "n",
            "$skip": "1",
            "$top": "3",
            "$count": "true",
        }
    )
    page = apply_query(
        ROWS, options, page_size=100, known_properties=frozenset({"id", "n", "group"})
    )
    assert page.rows == [{"n": 3}, {"n": 5}, {"n": 7}]
    assert page.total == 25


def test_expand_calls_back_for_navigation() -> None:
    options = QueryOptions.parse({"$expand": "lines", "$top": "1"})
    page = apply_query(ROWS, options, page_size=10, expand=lambda row, nav: [nav, row["id"]])
    assert page.rows[0]["lines"] == ["lines", "0"]


@pytest.mark.parametrize(
    "params",
    [{"$top": "-1"}, {"$skip": "x"}, {"$orderby": "n sideways"}, {"$filter": "n eq"}],
)
def test_bad_options_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(QueryOptionError):
        QueryOptions.parse(params)


def test_unknown_select_property_is_refused() -> None:
    with pytest.raises(QueryOptionError, match="nope"):
        apply_query(
            ROWS, QueryOptions.parse({"$select": "nope"}), 10, known_properties=frozenset({"n"})
        )


def test_etag_changes_with_content_and_envelope_shape() -> None:
    record = {"id": "1", "name": "a"}
    assert make_etag(record) == make_etag(dict(record))
    assert make_etag(record) != make_etag({"id": "1", "name": "b"})
    body = collection_body("ctx", [record], count=1, next_link="next")
    assert body["@odata.context"] == "ctx"
    assert body["@odata.count"] == 1
    assert body["value"][0]["@odata.etag"].startswith('W/"')
    assert body["@odata.nextLink"] == "next"
