"""Normalisation maps the ways people type one fact to one form, and is stable."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.match import normalise

NORMALISERS = [
    normalise.fold,
    normalise.company_name,
    normalise.phone,
    normalise.email,
    normalise.postal_code,
    normalise.website,
]


@pytest.mark.parametrize("normaliser", NORMALISERS, ids=lambda f: f.__name__)
@given(text=st.text())
def test_normalising_twice_changes_nothing(normaliser: Any, text: str) -> None:
    once = normaliser(text)
    assert normaliser(once) == once


@given(text=st.text())
def test_case_and_spacing_do_not_matter(text: str) -> None:
    shouted = text.upper()
    spaced = "  " + shouted.replace(" ", "   ") + " \t"
    assert normalise.fold(spaced) == normalise.fold(shouted) == normalise.fold(shouted.lower())


ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyy"


@given(text=st.text(alphabet=ACCENTED + PLAIN + " -"))
def test_accents_do_not_matter(text: str) -> None:
    stripped = text.translate(str.maketrans(ACCENTED, PLAIN))
    assert normalise.fold(text) == normalise.fold(stripped)
    assert normalise.company_name(text.upper()) == normalise.company_name(stripped)


@given(text=st.text(alphabet="abcdefghij klmnopqrstuvwxyzäöüéèçñ-.,&"))
def test_fold_leaves_only_words_and_single_spaces(text: str) -> None:
    folded = normalise.fold(text)
    assert folded == folded.strip()
    assert "  " not in folded
    assert all(char.isalnum() or char == " " for char in folded)


@given(
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12),
    form=st.sampled_from(["GmbH", "Ltd.", "Inc", "S.A.", "LLC", "GmbH & Co. KG", "B.V."]),
)
def test_a_legal_form_does_not_change_a_company_name(name: str, form: str) -> None:
    assert normalise.company_name(f"{name.title()} {form}") == normalise.company_name(name)


@given(digits=st.text(alphabet="0123456789", min_size=6, max_size=12))
def test_phone_formatting_does_not_matter(digits: str) -> None:
    spaced = " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
    assert normalise.phone(f"+{spaced}") == normalise.phone(f"00{digits}")
    assert normalise.phone(f"({digits[:3]}) {digits[3:]}") == normalise.phone(digits)


@pytest.mark.parametrize(
    ("function", "raw", "expected"),
    [
        (normalise.fold, " Café-Müller  ", "cafe muller"),
        (normalise.fold, "Øresund Bro", "oresund bro"),
        (normalise.fold, None, ""),
        (normalise.company_name, "ACME GmbH & Co. KG", "acme"),
        (normalise.company_name, "Société Générale S.A.", "societe generale"),
        (normalise.company_name, "Nowak Sp. z o.o.", "nowak"),
        (normalise.company_name, "The Limited", "the"),
        (normalise.company_name, "GmbH", "gmbh"),
        (normalise.phone, "+49 (30) 123-4567", "49301234567"),
        (normalise.phone, "030 1234567", "301234567"),
        (normalise.email, " Info@Acme.COM ", "info@acme.com"),
        (normalise.email_domain, "Info@Acme.COM", "acme.com"),
        (normalise.email_domain, "not an address", ""),
        (normalise.postal_code, "sw1a 1aa", "SW1A1AA"),
        (normalise.postal_code, "D-10115", "D10115"),
        (normalise.website, "https://www.Acme.com/de?x=1", "acme.com"),
    ],
)
def test_examples(function: Any, raw: Any, expected: str) -> None:
    assert function(raw) == expected


@pytest.mark.parametrize(
    ("path", "normaliser"),
    [
        ("name", normalise.company_name),
        ("billing_address.postal_code", normalise.postal_code),
        ("phone", normalise.phone),
        ("email", normalise.email),
        ("billing_address.city", normalise.fold),
    ],
)
def test_the_normaliser_follows_the_last_path_segment(path: str, normaliser: Any) -> None:
    assert normalise.normaliser_for(path) is normaliser
