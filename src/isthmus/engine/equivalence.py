"""When two values are the same business value written differently.

Systems reformat what they store: an ERP keeps phone numbers as digits only, trims or
collapses spaces, lower-cases e-mail addresses, drops ``https://`` from a website. If
the engine took such a reformatting for a change, every write would bounce back once
to the other side, overwriting the user's formatting there. So the merge compares
values up to formatting, per field kind:

- phone, mobile, fax: the same digits (``+49 (30) 123-45`` = ``49 30 12345``);
- e-mail: the same address ignoring case and spaces;
- website: the same address ignoring scheme, ``www.``, case and a trailing slash;
- any text: the same words (leading, trailing and repeated spaces ignored).

Letter case of names and other text is a real change and is never ignored.
"""

from __future__ import annotations

import re
from typing import Any

from isthmus.match.normalise import email, phone

_PHONE_LEAVES = frozenset({"phone", "mobile", "fax"})
# Only digits and the characters people format numbers with; "ext. 12" or letters make
# the value text, compared as text.
_PHONE_LIKE = re.compile(r"^[0-9+()\-./\s]+$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def _website(value: str) -> str:
    text = "".join(value.split()).lower()
    text = _SCHEME.sub("", text)
    text = re.sub(r"^www\.", "", text)
    return text.rstrip("/")


def formatting_only(path: str, left: Any, right: Any) -> bool:
    """True when ``left`` and ``right`` differ only in how ``path``'s kind is written."""
    if not isinstance(left, str) or not isinstance(right, str):
        return False
    leaf = path.rpartition(".")[2]
    if leaf in _PHONE_LEAVES and _PHONE_LIKE.match(left) and _PHONE_LIKE.match(right):
        digits = phone(left)
        return bool(digits) and digits == phone(right)
    if leaf == "email":
        return bool(email(left)) and email(left) == email(right)
    if leaf == "website":
        return bool(_website(left)) and _website(left) == _website(right)
    return left.split() == right.split()
