"""Salesforce record ids and timestamps, in the vendor's exact text forms.

An id is 15 case-sensitive characters (3-character key prefix naming the object, then
an instance part and a counter) plus a 3-character suffix that encodes which of the 15
are upper case, so the 18-character form survives case-insensitive systems.
"""

from __future__ import annotations

import datetime as dt
import re
import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_INSTANCE = "8d"  # stands for the pod/instance part of a real id
_ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-5]{3})?$")
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


def checksum_suffix(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    suffix = ""
    for chunk_start in range(0, 15, 5):
        bits = 0
        for position, char in enumerate(id15[chunk_start : chunk_start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def make_id(key_prefix: str, counter: int) -> str:
    """The 18-character id of the ``counter``-th record with ``key_prefix``."""
    digits = ""
    value = counter
    for _ in range(10):
        value, remainder = divmod(value, 62)
        digits = _BASE62[remainder] + digits
    id15 = f"{key_prefix}{_INSTANCE}{digits}"
    return id15 + checksum_suffix(id15)


def normalise_id(candidate: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None if it is not one."""
    if not _ID_PATTERN.match(candidate):
        return None
    id15 = candidate[:15]
    full = id15 + checksum_suffix(id15)
    if len(candidate) == 18 and candidate.upper() != full.upper():
        return None
    return full


def format_datetime(moment: dt.datetime) -> str:
    """``2013-05-20T20:49:32.000+0000``: UTC, milliseconds, offset without colon."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc.strftime(_TIMESTAMP_FORMAT)}.{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    """Parse Salesforce and ISO 8601 datetimes (``Z``, ``+0000``, ``+00:00``, no zone = UTC).

    Raises:
        ValueError: the text is not a datetime.
    """
    cleaned = text.strip().replace(" ", "+")  # '+' arrives as ' ' in unencoded query strings
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    match = re.match(r"^(.*[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)([+-]\d\d):?(\d\d)$", cleaned)
    if match:
        cleaned = f"{match.group(1)}{match.group(2)}:{match.group(3)}"
    parsed = dt.datetime.fromisoformat(cleaned)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def utc_now() -> dt.datetime:
    """Now in UTC, truncated to milliseconds as Salesforce stores it."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)
