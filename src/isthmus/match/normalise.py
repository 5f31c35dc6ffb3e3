"""Normalised forms of the values duplicate detection compares.

Two systems write the same business fact differently: "ACME  GmbH" and "Acme", "+49 30
1234567" and "030/1234567", "SW1A 1AA" and "sw1a1aa". Each function here maps such
variants to one form, so the fuzzy scorer compares what people mean rather than how
they typed it. Every function is pure, total (any input, including ``None``, gives a
string) and idempotent: normalising a normalised value changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

# Letters NFKD does not decompose into a base letter plus marks.
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
# Dots and apostrophes join ("S.A." is "sa", "O'Neil" is "oneil"); other punctuation splits.
_JOINERS = re.compile("[.'`\u2019\u00b4]")  # also right single quote and acute accent
_SEPARATORS = re.compile(r"[^\w]+|_")
_DIGITS = re.compile(r"\D+")

# Legal-form words, as sequences of folded tokens, stripped from the end of company
# names. "Co" and "Company" are included because "& Co. KG" and "Acme Company" are the
# same business as "Acme" far more often than not.
_LEGAL_FORMS: frozenset[tuple[str, ...]] = frozenset(
    tuple(form.split())
    for form in (
        "gmbh",
        "ag",
        "kg",
        "kgaa",
        "ohg",
        "ug",
        "ev",
        "mbh",
        "ltd",
        "limited",
        "plc",
        "llp",
        "lp",
        "llc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "sa",
        "sas",
        "sasu",
        "sarl",
        "sca",
        "srl",
        "spa",
        "sl",
        "slu",
        "bv",
        "nv",
        "bvba",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "sp z oo",
        "s r o",
        "sro",
        "kk",
        "pty",
        "pte",
        "bhd",
        "sdn bhd",
    )
)
_LONGEST_FORM = max(len(form) for form in _LEGAL_FORMS)


def fold(value: Any) -> str:
    """Case, accents, punctuation and whitespace folded away: ``" Café-Müller "`` ->
    ``"cafe muller"``."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKD", str(value).casefold().translate(_LETTERS))
    text = "".join(char for char in text if not unicodedata.combining(char))
    # casefold again: decomposition can reveal characters that fold further (e.g. "ǅ").
    text = _JOINERS.sub("", text.casefold().translate(_LETTERS))
    return " ".join(_SEPARATORS.sub(" ", text).split())


def company_name(value: Any) -> str:
    """A folded company name without trailing legal forms: ``"ACME GmbH & Co. KG"`` ->
    ``"acme"``. A name that is nothing but a legal form keeps its last word."""
    tokens = fold(value).split()
    stripped = True
    while stripped and len(tokens) > 1:
        stripped = False
        for size in range(min(_LONGEST_FORM, len(tokens) - 1), 0, -1):
            if tuple(tokens[-size:]) in _LEGAL_FORMS:
                tokens = tokens[:-size]
                stripped = True
                break
    return " ".join(tokens)


def phone(value: Any) -> str:
    """Digits only, without an international ``00`` or trunk ``0`` prefix, so
    ``"+49 (30) 123-4567"``, ``"0049 30 1234567"`` and ``"030 1234567"`` share a tail."""
    digits = _DIGITS.sub("", "" if value is None else str(value))
    return digits.lstrip("0")


def email(value: Any) -> str:
    """Trimmed and lower-cased (the local part is case-insensitive in practice)."""
    return "" if value is None else "".join(str(value).split()).lower()


def email_domain(value: Any) -> str:
    normalised = email(value)
    return normalised.rpartition("@")[2] if "@" in normalised else ""


def postal_code(value: Any) -> str:
    """Upper-case letters and digits only: ``"sw1a 1aa"`` -> ``"SW1A1AA"``."""
    return "".join(char for char in fold(value) if char.isalnum()).upper()


def website(value: Any) -> str:
    """The host name without scheme, ``www.`` or path: ``"https://www.Acme.com/de"`` ->
    ``"acme.com"``."""
    text = "" if value is None else "".join(str(value).split()).lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    host = re.split(r"[/?#:]", text, maxsplit=1)[0]
    return re.sub(r"^(?:www\.)+", "", host)


Normaliser = Callable[[Any], str]

_BY_LEAF: dict[str, Normaliser] = {
    "name": company_name,
    "company": company_name,
    "phone": phone,
    "mobile": phone,
    "fax": phone,
    "email": email,
    "postal_code": postal_code,
    "zip": postal_code,
    "website": website,
}


def normaliser_for(path: str) -> Normaliser:
    """The normaliser for a canonical path, chosen by its last segment
    (``billing_address.postal_code`` -> ``postal_code``); ``fold`` for any other field."""
    return _BY_LEAF.get(path.rpartition(".")[2], fold)
