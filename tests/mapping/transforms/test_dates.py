"""Dates and date-times: vendor formats, naive values in a zone, round trips per zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from isthmus.mapping.errors import MappingError
from isthmus.mapping.transforms.dates import (
    check_format,
    format_date,
    format_datetime,
    parse_date,
    parse_datetime,
    zone,
)

PARIS = zone("Europe/Paris")
INSTANT = datetime(2013, 5, 20, 20, 49, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2013-05-20T20:49:32.000+0000", INSTANT),  # Salesforce
        ("2013-05-20T20:49:32Z", INSTANT),
        ("2013-05-20T22:49:32+02:00", INSTANT),
        ("2013-05-20T22:49:32", INSTANT),  # naive: read in Europe/Paris (CEST, +2)
        ("2013-05-20 22:49:32", INSTANT),
        ("/Date(1369082972000)/", INSTANT),  # OData v2
        ("/Date(1369082972000+0200)/", INSTANT),
        (datetime(2013, 5, 20, 22, 49, 32), INSTANT),
        (INSTANT, INSTANT),
        (None, None),
        ("", None),
    ],
)
def test_parse_datetime(raw: object, expected: datetime | None) -> None:
    assert parse_datetime(raw, PARIS) == expected


def test_parse_datetime_with_a_pattern() -> None:
    assert parse_datetime("20.05.2013 22:49", PARIS, ("%d.%m.%Y %H:%M",)) == INSTANT.replace(
        second=0
    )


@pytest.mark.parametrize("raw", ["yesterday", "2013-13-01", 12.5])
def test_parse_datetime_refuses(raw: object) -> None:
    with pytest.raises(MappingError):
        parse_datetime(raw, UTC)


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2024-02-29", UTC, date(2024, 2, 29)),
        (date(2024, 1, 2), UTC, date(2024, 1, 2)),
        # 23:30 UTC on Jan 1 is already Jan 2 in Paris.
        ("2024-01-01T23:30:00Z", PARIS, date(2024, 1, 2)),
        ("2024-01-01T23:30:00Z", UTC, date(2024, 1, 1)),
        (None, UTC, None),
    ],
)
def test_parse_date(raw: object, tz: timezone, expected: date | None) -> None:
    assert parse_date(raw, tz) == expected


def test_parse_date_pattern() -> None:
    assert parse_date("29.02.2024", UTC, ("%d.%m.%Y",)) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("iso", "2013-05-20T22:49:32+02:00"),
        ("salesforce", "2013-05-20T20:49:32.000+0000"),
        ("naive", "2013-05-20T22:49:32"),
        ("odata", "/Date(1369082972000)/"),
        ("%d.%m.%Y %H:%M", "20.05.2013 22:49"),
    ],
)
def test_format_datetime(fmt: str, expected: str) -> None:
    assert format_datetime(INSTANT, PARIS, fmt) == expected


def test_format_date() -> None:
    assert format_date(date(2024, 3, 1)) == "2024-03-01"
    assert format_date(date(2024, 3, 1), "%d/%m/%Y") == "01/03/2024"


def test_unknown_zone_and_format_say_what_to_write() -> None:
    with pytest.raises(ValueError, match="IANA name"):
        zone("Mars/Olympus")
    with pytest.raises(ValueError, match="strftime"):
        check_format("dd.mm.yyyy")


ZONES = st.sampled_from(
    ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
)
INSTANTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@given(INSTANTS, ZONES, st.sampled_from(["iso", "odata", "salesforce"]))
def test_datetime_round_trips_through_every_zone(instant: datetime, name: str, fmt: str) -> None:
    tz = zone(name)
    if fmt != "iso":
        instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    assert parse_datetime(format_datetime(instant, tz, fmt), tz) == instant


@given(INSTANTS, ZONES)
def test_naive_output_round_trips_outside_the_repeated_hour(instant: datetime, name: str) -> None:
    tz = zone(name)
    local = instant.astimezone(tz)
    # The hour repeated when clocks go back names two instants; we read the first.
    other_fold = local.replace(tzinfo=None).replace(fold=1, tzinfo=tz)
    assume(other_fold.utcoffset() == local.replace(fold=0).utcoffset())
    assert parse_datetime(format_datetime(instant, tz, "naive"), tz) == instant


def test_naive_output_in_the_repeated_hour_reads_the_first_instant() -> None:
    second = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)  # 02:30 CET, after the switch
    text = format_datetime(second, PARIS, "naive")
    assert parse_datetime(text, PARIS) == second - timedelta(hours=1)
